// reset() does bounded work (issue 9): the convolver and the cab stage forget
// their history without clearing their buffers. Proof that nothing stale is
// ever read: every buffer is filled with noise and then NaN/Inf, the object
// is reset, and a signal must then give exactly (==, bit for bit up to the
// sign of zero) the output of a freshly prepared instance; a single stale
// read would carry a NaN into the output.
#include "alloc_counter.hpp"
#include "conv_reference.hpp"
#include "core/conv/cab_stage.hpp"
#include "core/conv/partitioned_convolver.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

using rigd::core::ProcessSpec;
using rigd::core::conv::CabStage;
using rigd::core::conv::ImpulseResponse;
using rigd::core::conv::PartitionedConvolver;
using namespace rigd::test;

namespace {

// Noise with NaN, +Inf and -Inf in its last quarter: after it every buffer
// of the object holds non-finite values somewhere.
std::vector<float> poison(std::size_t n, std::uint32_t seed) {
    auto x = white_noise(n, seed);
    for (std::size_t i = n - n / 4; i < n; i += 3) {
        x[i] = i % 2 == 0 ? std::numeric_limits<float>::quiet_NaN()
                          : (i % 3 == 0 ? std::numeric_limits<float>::infinity()
                                        : -std::numeric_limits<float>::infinity());
    }
    return x;
}

template <typename Process>
void run_pattern(std::vector<float>& io, const std::vector<std::size_t>& pattern, Process&& process) {
    std::size_t pos = 0;
    std::size_t p = 0;
    while (pos < io.size()) {
        const std::size_t n = std::min(pattern[p++ % pattern.size()], io.size() - pos);
        process(std::span<float>(io.data() + pos, n));
        pos += n;
    }
}

bool all_finite(const std::vector<float>& y) {
    return std::all_of(y.begin(), y.end(), [](float v) { return std::isfinite(v); });
}

struct Layout {
    std::size_t ir_length;
    std::size_t head;
    std::size_t max_partition;
    std::size_t spread_from;
};

} // namespace

// In the doctest suite "slow": the same logic on every architecture, and
// about 15 minutes under qemu-user, so scripts/test-arm64 leaves it out.
TEST_CASE("convolver reset: after noise and NaN, the output equals a fresh instance's, bit for bit" *
          doctest::test_suite("slow")) {
    // Head only; two and several levels; time-distributed levels (default
    // spread_from 1024 with 60000 taps; many small spread levels).
    const std::vector<Layout> layouts = {
        {100, 128, 8192, 1024},
        {5000, 128, 8192, 1024},
        {60000, 128, 8192, 1024},
        {30000, 16, 1024, 32},
        {30000, 32, 256, 0},
    };
    // Dirt lengths: inside the head, mid-block, on a block edge, across many
    // largest-partition cycles and history shifts.
    const std::vector<std::size_t> dirt_lengths = {1, 77, 128, 5000, 70001};
    const std::vector<std::vector<std::size_t>> patterns = {{128}, {1, 7, 1000, 64, 333}};
    const auto signal = white_noise(40000, 41);
    for (const Layout& lay : layouts) {
        const auto h = decaying_noise(lay.ir_length, static_cast<double>(lay.ir_length) / 4.0, 43);
        PartitionedConvolver::Options o;
        o.head_size = lay.head;
        o.max_partition = lay.max_partition;
        o.spread_from = lay.spread_from;
        o.grow_after = 4;
        for (const auto& pattern : patterns) {
            PartitionedConvolver fresh;
            fresh.prepare(h, o);
            auto expected = signal;
            run_pattern(expected, pattern, [&](std::span<float> b) { fresh.process(b); });
            REQUIRE(all_finite(expected));
            for (const std::size_t dirt : dirt_lengths) {
                CAPTURE(lay.ir_length);
                CAPTURE(lay.head);
                CAPTURE(lay.spread_from);
                CAPTURE(dirt);
                PartitionedConvolver conv;
                conv.prepare(h, o);
                // Dirty, reset, a little more dirt, reset again: the second
                // reset meets buffers touched both before and after the first.
                for (const std::size_t len : {dirt, dirt / 3 + 1}) {
                    auto d = poison(len, 44);
                    run_pattern(d, {129, 64, 5}, [&](std::span<float> b) { conv.process(b); });
                    conv.reset();
                }
                auto got = signal;
                run_pattern(got, pattern, [&](std::span<float> b) { conv.process(b); });
                CHECK(all_finite(got));
                CHECK(got == expected);
            }
        }
    }
}

TEST_CASE("convolver reset: the output after it matches the double-precision direct convolution (1e-5 of peak)" * doctest::test_suite("slow")) {
    const auto h = decaying_noise(60000, 15000.0, 45);
    const auto x = white_noise(8000, 46);
    const auto ref = naive_convolve(x, h);
    PartitionedConvolver conv;
    conv.prepare(h);
    auto d = poison(90000, 47);
    conv.process(d);
    conv.reset();
    std::vector<float> y(ref.size(), 0.0f);
    std::copy(x.begin(), x.end(), y.begin());
    run_pattern(y, {128}, [&](std::span<float> b) { conv.process(b); });
    CHECK(peak_relative_error(y, ref) <= 1e-5);
}

TEST_CASE("convolver reset never allocates" * doctest::test_suite("slow")) {
    const auto h = decaying_noise(60000, 15000.0, 48);
    PartitionedConvolver conv;
    conv.prepare(h);
    auto d = white_noise(20000, 49);
    ScopedAllocationCounter counter;
    conv.process(d);
    conv.reset();
    conv.process(d);
    CHECK(counter.total() == 0);
}

TEST_CASE("cab reset with a 2 s IR: after noise and NaN, the output equals a fresh stage's, bit for bit" * doctest::test_suite("slow")) {
    // 96000 taps: levels up to 8192 (time-distributed), so the signal runs
    // for 3 s to reach every partition.
    const ProcessSpec spec{.sample_rate_hz = 48000.0, .max_block_size = 256, .oversample = 1};
    ImpulseResponse ir;
    ir.samples = decaying_noise(96000, 30000.0, 50);
    ir.sample_rate_hz = 48000.0;
    auto make = [&] {
        auto cab = std::make_unique<CabStage>();
        cab->set_param(CabStage::kMix, 0.8f);
        cab->set_param(CabStage::kLowCutHz, 80.0f);
        cab->set_param(CabStage::kHighCutHz, 6000.0f);
        cab->set_impulse_response(ir, "noise-2s");
        cab->prepare(spec);
        return cab;
    };
    const auto signal = white_noise(144000, 51);
    auto fresh = make();
    auto expected = signal;
    run_pattern(expected, {256, 31, 128}, [&](std::span<float> b) { fresh->process_block(b); });
    REQUIRE(all_finite(expected));

    auto cab = make();
    auto d = poison(150000, 52);
    run_pattern(d, {256}, [&](std::span<float> b) { cab->process_block(b); });
    cab->reset();
    auto got = signal;
    run_pattern(got, {256, 31, 128}, [&](std::span<float> b) { cab->process_block(b); });
    CHECK(all_finite(got));
    CHECK(got == expected);
}
