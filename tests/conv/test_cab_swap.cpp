#include "alloc_counter.hpp"
#include "conv_reference.hpp"
#include "core/amplifier_chain.hpp"
#include "core/command.hpp"
#include "core/conv/cab_stage.hpp"
#include "core/engine.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>

using rigd::core::AmplifierChain;
using rigd::core::Command;
using rigd::core::Engine;
using rigd::core::ProcessSpec;
using rigd::core::conv::CabStage;
using namespace rigd::test;

namespace {

constexpr ProcessSpec kSpec{.sample_rate_hz = 48000.0, .max_block_size = 128, .oversample = 1};

// The control layer's flow for a new IR: a fresh stage, prepared and loaded
// off the RT thread.
std::unique_ptr<CabStage> cab_with(const char* ir) {
    auto cab = std::make_unique<CabStage>();
    cab->prepare(kSpec);
    cab->set_text(CabStage::kIrText, ir, source_dir() / "fixtures" / "irs" / ir);
    return cab;
}

} // namespace

TEST_CASE("changing the IR: the engine crossfades to a prepared cab stage without allocating and retires the old") {
    auto input = white_noise(48000, 101);
    for (float& v : input) {
        v *= 0.25f;
    }
    auto chain = std::make_unique<AmplifierChain>();
    chain->prepare(kSpec);
    auto first = cab_with("cab_4x12.wav");
    const CabStage* old_stage = first.get();
    chain->append(std::move(first));
    Engine engine;
    engine.prepare(kSpec, std::move(chain));
    std::vector<float> out(input.size());
    auto period = [&](std::size_t i) {
        engine.process(std::span(input).subspan(i, 128), std::span(out).subspan(i, 128),
                       std::span(out).subspan(i, 128));
    };
    std::size_t i = 0;
    for (; i < 64 * 128; i += 128) {
        period(i);
    }
    auto fresh = cab_with("cab_1x12.wav");
    auto expected_new = cab_with("cab_1x12.wav");
    Command c;
    c.type = Command::Type::replace_stage;
    c.stage = rigd::core::StageHandle{1}; // append() names the first stage 1
    c.fresh_handle = rigd::core::StageHandle{2};
    c.fresh = fresh.release();
    REQUIRE(engine.try_send(c));
    const std::size_t swap_at = i;
    {
        ScopedAllocationCounter count;
        for (; i + 128 <= input.size(); i += 128) {
            period(i);
        }
        CHECK(count.total() == 0);
    }
    // No gap: every period after the swap carries signal.
    for (std::size_t k = swap_at; k + 128 <= i; k += 128) {
        float peak = 0.0f;
        for (std::size_t j = k; j < k + 128; ++j) {
            peak = std::max(peak, std::fabs(out[j]));
        }
        CHECK(peak > 1e-3f);
    }
    // After the chain's fade the output is the new cab alone (it ran on the
    // same input from the swap on), to float rounding.
    std::vector<float> tail(input.begin() + static_cast<std::ptrdiff_t>(swap_at),
                            input.begin() + static_cast<std::ptrdiff_t>(i));
    for (std::size_t k = 0; k < tail.size(); k += 128) {
        expected_new->process_block(std::span(tail).subspan(k, std::min<std::size_t>(128, tail.size() - k)));
    }
    const std::size_t settled = 48000 / 20; // 50 ms, well past the 10 ms fade
    double err = 0.0;
    double peak = 0.0;
    for (std::size_t k = settled; k < tail.size(); ++k) {
        err = std::max(err, std::abs(static_cast<double>(out[swap_at + k]) - tail[k]));
        peak = std::max(peak, std::abs(static_cast<double>(tail[k])));
    }
    CHECK(err <= 1e-6 * peak);
    auto retired = engine.try_pop_retired();
    REQUIRE(retired != nullptr);
    CHECK(retired.get() == static_cast<const rigd::core::Retirable*>(old_stage));
}
