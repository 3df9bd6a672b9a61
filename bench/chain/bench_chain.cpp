// The reference chain: filter HP 100 Hz -> filter LP 8 kHz -> gate
// -40 dB -> comp (2 ms, 100 ms, -15 dB, 3:1, +3 dB) -> pre (gain 6, soft) ->
// tone (british 0.6/0.7/0.6/0.5) -> power (0.5, ab, 0.3, 120 ms) -> level,
// 128 frames at 48 kHz, oversampling 1/4/8/16, per-sample vs block.
// Time per iteration = one 128-frame block; x_realtime = block duration /
// processing time.
#include "core/amplifier_chain.hpp"
#include "core/denormals.hpp"
#include "core/stage_factory.hpp"
#include "reference_chain.hpp"

#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using rigd::core::AmplifierChain;
using rigd::core::ProcessSpec;

constexpr std::size_t kFrames = 128;
constexpr double kRate = 48000.0;

std::unique_ptr<AmplifierChain> reference_chain(int oversample) {
    return rigd::bench::reference_chain(ProcessSpec{kRate, kFrames, oversample});
}

std::vector<float> guitar_block_source() {
    std::vector<float> x(kFrames * 64);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> n(-0.01f, 0.01f);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double t = static_cast<double>(i) / kRate;
        x[i] = static_cast<float>(0.3 * std::sin(2 * M_PI * 110 * t) + 0.1 * std::sin(2 * M_PI * 330.3 * t)) + n(rng);
    }
    return x;
}

void run(benchmark::State& state, bool block_path) {
    rigd::core::flush_denormals_on_this_thread();
    const int os = static_cast<int>(state.range(0));
    auto chain = reference_chain(os);
    const auto source = guitar_block_source();
    std::vector<float> buf(kFrames);
    std::size_t offset = 0;
    for (auto _ : state) {
        std::copy_n(source.begin() + static_cast<std::ptrdiff_t>(offset), kFrames, buf.begin());
        offset = (offset + kFrames) % source.size();
        if (block_path) {
            chain->process_block(buf);
        } else {
            for (float& v : buf) {
                v = chain->process_sample(v);
            }
        }
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    state.counters["x_realtime"] =
        benchmark::Counter(static_cast<double>(kFrames) / kRate, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["latency_samples"] = chain->latency_samples();
}

void BM_ChainPerSample(benchmark::State& state) { run(state, false); }
void BM_ChainBlock(benchmark::State& state) { run(state, true); }

} // namespace

BENCHMARK(BM_ChainPerSample)->Arg(1)->Arg(4)->Arg(8)->Arg(16)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ChainBlock)->Arg(1)->Arg(4)->Arg(8)->Arg(16)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
