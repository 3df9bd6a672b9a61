#include "control/tuner_feed.hpp"

namespace rigd::control {

TunerFeed::TunerFeed(core::tuner::InputTap& tap, double sample_rate_hz) : tap_(tap) {
    detector_.prepare(sample_rate_hz);
    window_.assign(detector_.window_size(), 0.0f);
}

std::optional<OscMessage> TunerFeed::reading() {
    const std::size_t n = tap_.read_latest(window_);
    const auto r = n == window_.size() ? detector_.detect(window_) : std::nullopt;
    if (!r) {
        return OscMessage{"/rig/tuner/note", {OscArg::of(std::string("-")), OscArg::of(std::int32_t{0}),
                                              OscArg::of(0.0f), OscArg::of(0.0f)}};
    }
    return OscMessage{"/rig/tuner/note",
                      {OscArg::of(std::string(r->note)), OscArg::of(static_cast<std::int32_t>(r->octave)),
                       OscArg::of(static_cast<float>(r->cents)), OscArg::of(static_cast<float>(r->frequency_hz))}};
}

} // namespace rigd::control
