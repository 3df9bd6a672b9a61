// What reset() costs on the audio thread (issue 9, real-time hygiene): the
// chain calls it when a bypassed stage comes back and after a non-finite
// output, inside the period. Stages with big buffers: `cab` with a 10 s IR
// (the longest ImpulseResponse accepts), `delay` (2 s line) and `reverb`.
//
//   BM_Reset:          reset() alone, µs per call.
//   BM_ResetAndBlock:  reset() then one 128-frame block, against
//   BM_Block:          one 128-frame block alone: the difference is what a
//                      reset adds to the period it happens in.
//   BM_WorstBlock:     the slowest of the 160 blocks (0.43 s, more than the
//                      convolver's largest partition cycle) that follow a
//                      reset (Arg 1) or not (Arg 0), mean over iterations as
//                      worst_block_us: lazy clearing must not move the cost
//                      into a later period's worst case.
#include "core/conv/cab_stage.hpp"
#include "core/denormals.hpp"
#include "core/stages/delay_stage.hpp"
#include "core/stages/reverb_stage.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kFrames = 128;
constexpr double kRate = 48000.0;

std::unique_ptr<rigd::core::Stage> make_stage(const std::string& type) {
    if (type == "cab") {
        auto cab = std::make_unique<rigd::core::conv::CabStage>();
        const auto n = static_cast<std::size_t>(rigd::core::conv::ImpulseResponse::kMaxSeconds * kRate);
        rigd::core::conv::ImpulseResponse ir;
        ir.sample_rate_hz = kRate;
        ir.samples.resize(n);
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        for (std::size_t i = 0; i < n; ++i) {
            ir.samples[i] = 0.3f * u(rng) * static_cast<float>(std::exp(-static_cast<double>(i) / (0.3 * kRate)));
        }
        ir.samples.back() = 1e-3f; // keep every tap: trailing zeros would be trimmed
        cab->set_impulse_response(std::move(ir), "noise-10s");
        return cab;
    }
    if (type == "delay") {
        auto d = std::make_unique<rigd::core::stages::DelayStage>();
        d->set_param(rigd::core::stages::DelayStage::kTime, 2000.0f); // the longest line
        return d;
    }
    return std::make_unique<rigd::core::stages::ReverbStage>();
}

struct Fixture {
    std::unique_ptr<rigd::core::Stage> stage;
    std::vector<float> buf = std::vector<float>(kFrames);
    std::mt19937 rng{5};

    explicit Fixture(const std::string& type) : stage(make_stage(type)) {
        rigd::core::flush_denormals_on_this_thread();
        stage->prepare({kRate, kFrames, 1});
        // Fill every buffer with history (the IR's whole length of input).
        for (std::size_t i = 0; i < static_cast<std::size_t>(11.0 * kRate) / kFrames; ++i) {
            block();
        }
    }
    void block() {
        std::uniform_real_distribution<float> u(-0.5f, 0.5f);
        for (float& v : buf) {
            v = u(rng);
        }
        stage->process_block(buf);
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
};

void BM_Reset(benchmark::State& state, const std::string& type) {
    Fixture f(type);
    for (auto _ : state) {
        f.stage->reset();
        benchmark::ClobberMemory();
    }
}

void BM_ResetAndBlock(benchmark::State& state, const std::string& type) {
    Fixture f(type);
    for (auto _ : state) {
        f.stage->reset();
        f.block();
    }
}

void BM_Block(benchmark::State& state, const std::string& type) {
    Fixture f(type);
    for (auto _ : state) {
        f.block();
    }
}

void BM_WorstBlock(benchmark::State& state, const std::string& type) {
    Fixture f(type);
    const bool reset = state.range(0) != 0;
    double worst_sum_us = 0.0;
    for (auto _ : state) {
        if (reset) {
            f.stage->reset();
        }
        double worst_us = 0.0;
        for (int b = 0; b < 160; ++b) {
            const auto t0 = std::chrono::steady_clock::now();
            f.block();
            const auto t1 = std::chrono::steady_clock::now();
            worst_us = std::max(worst_us, std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
        worst_sum_us += worst_us;
    }
    state.counters["worst_block_us"] = worst_sum_us / static_cast<double>(state.iterations());
}

} // namespace

#define RIGD_RESET_BENCH(name)                                                                            \
    BENCHMARK_CAPTURE(BM_Reset, name, std::string(#name))->Unit(benchmark::kMicrosecond);                 \
    BENCHMARK_CAPTURE(BM_ResetAndBlock, name, std::string(#name))->Unit(benchmark::kMicrosecond);         \
    BENCHMARK_CAPTURE(BM_Block, name, std::string(#name))->Unit(benchmark::kMicrosecond);                 \
    BENCHMARK_CAPTURE(BM_WorstBlock, name, std::string(#name))->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)

RIGD_RESET_BENCH(cab);
RIGD_RESET_BENCH(delay);
RIGD_RESET_BENCH(reverb);

BENCHMARK_MAIN();
