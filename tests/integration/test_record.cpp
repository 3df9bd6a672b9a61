// /rig/record against the real daemon on a dummy JACK server: a take of a
// played clip re-amps with `rigd render` to the wet file within 1e-6, names
// never overwrite, bad names are refused, toggle flips.
#include "rig_harness.hpp"

#include <doctest/doctest.h>

#include <sndfile.h>

#include <cmath>
#include <thread>

using namespace rigd::test;
using namespace std::chrono_literals;

namespace {

// Stateful stages on purpose (delay lines, filters, oversampling, the pitch
// shifter): the live chain runs on silence before the take, the render
// starts fresh, and they must agree.
const std::string kPreset = R"(name = "take"
oversample = 2

[[stage]]
id = "pitch"
type = "pitch"
semitones = -3

[[stage]]
id = "pre"
type = "pre"
gain = 6.0
clipper = "triode"

[[stage]]
id = "tone"
type = "tone"
model = "british"
mid = 1.3

[[stage]]
id = "delay"
type = "delay"
time_ms = 120.0
feedback = 0.4
mix = 0.3

[[stage]]
id = "reverb"
type = "reverb"
mix = 0.2
)";

std::vector<float> clip(std::size_t n) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / 48000.0;
        double v = 0.0;
        for (int h = 1; h <= 5; ++h) {
            v += std::exp(-t * (2.0 + h)) * std::sin(2.0 * M_PI * 146.8 * h * t) / h;
        }
        x[i] = static_cast<float>(0.4 * v);
    }
    return x;
}

struct Wav {
    int channels = 0;
    std::vector<float> data;
};

Wav read_wav(const std::filesystem::path& p) {
    SF_INFO info{};
    SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
    REQUIRE_MESSAGE(f != nullptr, p.string());
    Wav w{info.channels, std::vector<float>(static_cast<std::size_t>(info.frames * info.channels))};
    REQUIRE(sf_readf_float(f, w.data.data(), info.frames) == info.frames);
    sf_close(f);
    return w;
}

// /rig/record until `recording` is `want`; returns the last reply.
OscClient::Message wait_recording(OscClient& osc, bool want) {
    for (int i = 0; i < 200; ++i) {
        const auto r = osc.ask("/rig/record", "/rig/record");
        REQUIRE(r);
        if ((r->numbers[0] != 0.0) == want) {
            return *r;
        }
        std::this_thread::sleep_for(20ms);
    }
    FAIL("/rig/record never reported recording = " << want);
    return {};
}

} // namespace

TEST_CASE("record: a take's DI re-amped by rigd render equals its wet file within 1e-6") {
    constexpr int kPeriod = 1024;
    TempDir dir;
    JackServer jack(dir.path(), 48000, kPeriod);
    Daemon rigd(jack, dir, {.preset_toml = kPreset, .extra_config = ""});
    OscClient osc(rigd.osc_port());
    write_f32(dir.path() / "in.f32", clip(48000));

    osc.send_string("/rig/record/start", "riff");
    const auto started = wait_recording(osc, true);
    REQUIRE(started.strings.size() == 1);
    const std::filesystem::path base = started.strings[0];
    CHECK(base == dir.path() / "recordings" / "riff");
    std::this_thread::sleep_for(300ms); // silence first, as when a player starts a take
    REQUIRE(run_command({jack_io_binary().string(), "--server", jack.name(), "--play", (dir.path() / "in.f32").string(),
                         "--to", "rigd:in", "--record", (dir.path() / "live.f32").string(), "--from", "rigd:out_l"},
                        dir.path() / "jack_io.log", jack.env()) == 0);
    std::this_thread::sleep_for(300ms); // the delay and reverb tails
    osc.send("/rig/record/stop");
    const auto stopped = wait_recording(osc, false);
    CHECK(stopped.numbers[1] > 1.0);  // seconds
    CHECK(stopped.numbers[2] == 0.0); // dropped blocks

    const Wav di = read_wav(base.string() + ".di.wav");
    const Wav wet = read_wav(base.string() + ".wet.wav");
    REQUIRE(di.channels == 1);
    REQUIRE(wet.channels == 2);
    REQUIRE(wet.data.size() == 2 * di.data.size());
    CHECK(di.data.size() % kPeriod == 0); // whole periods
    float di_peak = 0.0f;
    for (const float v : di.data) {
        di_peak = std::max(di_peak, std::fabs(v));
    }
    CHECK(di_peak > 0.3f); // the clip is in the DI

    REQUIRE(run_command({rigd_binary().string(), "render", "--preset", base.string() + ".toml", "--block",
                         std::to_string(kPeriod), base.string() + ".di.wav", (dir.path() / "reamp.wav").string()},
                        dir.path() / "render.log") == 0);
    const auto left = read_wav_channel(dir.path() / "reamp.wav", 0);
    REQUIRE(left.size() == di.data.size());
    double max_err = 0.0;
    double wet_peak = 0.0;
    for (std::size_t i = 0; i < left.size(); ++i) {
        max_err = std::max(max_err, std::fabs(static_cast<double>(left[i]) - wet.data[2 * i]));
        wet_peak = std::max(wet_peak, std::fabs(static_cast<double>(wet.data[2 * i])));
        CHECK(wet.data[2 * i] == wet.data[2 * i + 1]);
    }
    MESSAGE("re-amp vs wet: max difference " << max_err << ", wet peak " << wet_peak);
    CHECK(wet_peak > 0.05);
    CHECK(max_err <= 1e-6);

    // The same name again: a number is appended, nothing is overwritten.
    osc.send_string("/rig/record/start", "riff");
    const auto second = wait_recording(osc, true);
    CHECK(second.strings[0] == (dir.path() / "recordings" / "riff-2").string());
    osc.send("/rig/record/toggle");
    (void)wait_recording(osc, false);
    osc.send_float("/rig/record/toggle", 1.0f);
    const auto third = wait_recording(osc, true);
    CHECK(third.strings[0].find("take-") != std::string::npos);
    osc.send("/rig/record/stop");
    (void)wait_recording(osc, false);

    osc.drain();
    osc.send_string("/rig/record/start", "../escape");
    const auto refused = osc.wait_for("/rig/error");
    REQUIRE(refused);
    CHECK(refused->strings.back().find("a take name is") != std::string::npos);
    CHECK(!std::filesystem::exists(dir.path() / "escape.di.wav"));
    CHECK(rigd.process().running());
}
