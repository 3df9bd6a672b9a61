#pragma once

#include "core/nam/nam_model.hpp"
#include "core/rt.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rigd::core::nam {

// Runs a model at its own rate inside a device-rate stream: windowed-sinc
// interpolation device -> model rate, the model, then model -> device rate,
// with a fixed latency. Positions are exact integer ratios of the two rates
// (no drift). All buffers are sized in prepare(); process() is RT-safe and
// hands the model a varying number of frames per block (at most
// model_block_limit()).
class ModelRateAdapter {
public:
    static constexpr int kHalfTaps = 16;       // kernel half-width, input samples
    static constexpr int kPhases = 512;        // kernel table resolution per sample
    static constexpr double kCutoff = 0.90;    // of the lower Nyquist frequency
    static constexpr double kKaiserBeta = 8.0; // window shape (about -80 dB sidelobes)

    void prepare(double device_rate_hz, double model_rate_hz, std::size_t max_block);
    void reset() noexcept RIGD_RT;
    // In place over a device-rate block of at most max_block frames.
    void process(std::span<float> block, NamModel& model) noexcept RIGD_RT;

    [[nodiscard]] bool active() const noexcept { return active_; }
    // Frames the model may be asked for in one call: prepare it with this.
    [[nodiscard]] std::size_t model_block_limit() const noexcept { return model_block_limit_; }
    // Device-rate latency, rounded to whole samples.
    [[nodiscard]] int latency_samples() const noexcept { return latency_samples_; }

private:
    struct Kernel {
        std::vector<float> table; // h at t = k / kPhases for k in [-W*P, W*P], plus one guard
    };
    static Kernel design(double cutoff);
    [[nodiscard]] static float interpolate(const Kernel& k, const std::vector<float>& ring, std::uint64_t mask,
                                           std::int64_t base, double frac) noexcept;

    bool active_ = false;
    std::int64_t device_rate_ = 0;
    std::int64_t model_rate_ = 0;
    std::size_t model_block_limit_ = 0;
    int latency_samples_ = 0;
    std::int64_t lag_model_ = 0; // output lag in model samples
    Kernel to_model_;
    Kernel to_device_;
    std::vector<float> in_ring_;  // device-rate input history
    std::vector<float> out_ring_; // model-rate output history
    std::uint64_t in_mask_ = 0;
    std::uint64_t out_mask_ = 0;
    std::vector<float> model_in_;
    std::vector<float> model_out_;
    std::int64_t device_count_ = 0; // device samples pushed
    std::int64_t model_count_ = 0;  // model samples produced
    std::int64_t device_out_ = 0;   // device samples emitted
};

} // namespace rigd::core::nam
