// reset() does bounded work (issue 9): delay and reverb forget their lines
// without clearing them (they count samples written since the reset). Proof
// that nothing stale is read: fill every line with loud noise, reset, and a
// signal must then give exactly (==) what a freshly prepared stage gives.
#include "core/stages/delay_stage.hpp"
#include "core/stages/reverb_stage.hpp"

#include "alloc_counter.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <span>
#include <utility>
#include <vector>

using rigd::core::ProcessSpec;
using rigd::core::Stage;
using rigd::core::stages::DelayStage;
using rigd::core::stages::ReverbStage;

namespace {

constexpr ProcessSpec kSpec{.sample_rate_hz = 48000.0, .max_block_size = 256, .oversample = 1};

std::vector<float> noise(std::size_t n, std::uint32_t seed, float amplitude) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-amplitude, amplitude);
    std::vector<float> x(n);
    for (float& v : x) {
        v = u(rng);
    }
    return x;
}

// Blocks of 256, 1 and 77 (the per-sample path too), with `change` applied
// after the first third.
template <typename Change>
std::vector<float> run(Stage& s, std::vector<float> x, Change&& change) {
    const std::size_t pattern[] = {256, 1, 77};
    std::size_t pos = 0;
    std::size_t p = 0;
    bool changed = false;
    while (pos < x.size()) {
        if (!changed && pos >= x.size() / 3) {
            change(s);
            changed = true;
        }
        const std::size_t n = std::min(pattern[p++ % 3], x.size() - pos);
        if (n == 1) {
            x[pos] = s.process_sample(x[pos]);
        } else {
            s.process_block(std::span<float>(x.data() + pos, n));
        }
        pos += n;
    }
    return x;
}

using Settings = std::vector<std::pair<std::size_t, float>>;

template <typename S>
void check_reset_is_fresh(const Settings& before, const Settings& after, std::size_t dirt, std::size_t length) {
    auto make = [&] {
        auto s = std::make_unique<S>();
        for (const auto& [i, v] : before) {
            s->set_param(i, v);
        }
        s->prepare(kSpec);
        return s;
    };
    auto change = [&](Stage& s) {
        for (const auto& [i, v] : after) {
            s.set_param(i, v);
        }
    };
    const auto signal = noise(length, 61, 0.5f);
    auto fresh = make();
    const auto expected = run(*fresh, signal, change);

    auto s = make();
    (void)run(*s, noise(dirt, 62, 4.0f), [](Stage&) {});
    {
        rigd::test::ScopedAllocationCounter counter;
        s->reset();
        CHECK(counter.total() == 0);
    }
    // reset() snaps the smoothers to their targets, as prepare() left them.
    CHECK(run(*s, signal, change) == expected);
}

} // namespace

TEST_CASE("delay reset: after its whole 2 s line is filled with noise, the output equals a fresh stage's") {
    // The longest time, the line written all the way round (2^17 samples).
    check_reset_is_fresh<DelayStage>({{DelayStage::kTime, 2000.0f}, {DelayStage::kFeedback, 0.9f}},
                                     {{DelayStage::kTime, 1500.0f}, {DelayStage::kMix, 0.7f}}, 140000, 200000);
    // A short time gliding longer, reading positions written before the
    // reset as it goes; a reset before the line has even wrapped once.
    check_reset_is_fresh<DelayStage>({{DelayStage::kTime, 20.0f}, {DelayStage::kFeedback, 0.6f}},
                                     {{DelayStage::kTime, 1200.0f}, {DelayStage::kLowpass, 3000.0f}}, 140000, 120000);
    check_reset_is_fresh<DelayStage>({{DelayStage::kTime, 300.0f}}, {{DelayStage::kTime, 10.0f}}, 5000, 40000);
}

TEST_CASE("reverb reset: after its lines are filled with noise, the output equals a fresh stage's") {
    check_reset_is_fresh<ReverbStage>({{ReverbStage::kRoom, 0.9f}}, {{ReverbStage::kMix, 0.8f}}, 20000, 30000);
    check_reset_is_fresh<ReverbStage>({{ReverbStage::kRoom, 0.3f}}, {{ReverbStage::kDamping, 0.9f}}, 700, 30000);
}
