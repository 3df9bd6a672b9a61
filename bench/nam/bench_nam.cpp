// NAM benchmarks: raw process_buffer vs process_sample, the `nam` stage in
// an AmplifierChain (block vs per-sample), and model load time. Time per
// iteration = one block of kFrames at 48 kHz; x_realtime = block duration /
// time per block.
#include "core/amplifier_chain.hpp"
#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"
#include "core/nam/nam_stage.hpp"

#include "rigd_config.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

using rigd::core::AmplifierChain;
using rigd::core::ProcessSpec;
using namespace rigd::core::nam;

constexpr std::size_t kFrames = 128;
constexpr double kRate = 48000.0;

std::filesystem::path model(const char* name) {
    return std::filesystem::path(RIGD_SHARED_DIR) / "models" / name;
}

std::vector<float> guitar_like(std::size_t n) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = 0.3f * static_cast<float>(std::sin(2.0 * 3.141592653589793 * 110.0 * static_cast<double>(i) / kRate));
    }
    return x;
}

void set_counters(benchmark::State& state) {
    const double block_s = static_cast<double>(kFrames) / kRate;
    state.counters["x_realtime"] =
        benchmark::Counter(block_s, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["frames"] = static_cast<double>(kFrames);
}

void BM_ProcessBuffer(benchmark::State& state, const char* name, bool fixed) {
    auto m = load_nam_model(model(name), kFrames, NamBuildOptions{fixed});
    auto in = guitar_like(kFrames);
    std::vector<float> out(kFrames);
    state.SetLabel(std::string(m->kernel_name()));
    for (auto _ : state) {
        m->process_buffer(in.data(), out.data(), kFrames);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_counters(state);
}

void BM_ProcessSample(benchmark::State& state, const char* name) {
    auto m = load_nam_model(model(name), kFrames);
    auto in = guitar_like(kFrames);
    std::vector<float> out(kFrames);
    state.SetLabel(std::string(m->kernel_name()));
    for (auto _ : state) {
        for (std::size_t i = 0; i < kFrames; ++i) {
            out[i] = m->process_sample(in[i]);
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_counters(state);
}

std::unique_ptr<AmplifierChain> nam_chain(const char* name) {
    const ProcessSpec spec{kRate, kFrames, 1};
    auto chain = std::make_unique<AmplifierChain>();
    chain->prepare(spec);
    auto stage = std::make_unique<NamStage>();
    stage->prepare(spec);
    stage->set_text(0, name, model(name));
    chain->append(std::move(stage));
    return chain;
}

void BM_ChainBlock(benchmark::State& state, const char* name) {
    auto chain = nam_chain(name);
    auto in = guitar_like(kFrames);
    std::vector<float> buf(kFrames);
    for (auto _ : state) {
        buf = in;
        chain->process_block(buf);
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    set_counters(state);
}

void BM_ChainPerSample(benchmark::State& state, const char* name) {
    auto chain = nam_chain(name);
    auto in = guitar_like(kFrames);
    std::vector<float> buf(kFrames);
    for (auto _ : state) {
        for (std::size_t i = 0; i < kFrames; ++i) {
            buf[i] = chain->process_sample(in[i]);
        }
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    set_counters(state);
}

void BM_Load(benchmark::State& state, const char* name) {
    for (auto _ : state) {
        auto m = load_nam_model(model(name), kFrames);
        benchmark::DoNotOptimize(m.get());
    }
}

constexpr const char* kModels[] = {
    "reference_standard.nam", "synthetic_a1_lite.nam",  "synthetic_a1_feather.nam", "synthetic_a1_nano.nam",
    "namcore_lstm.nam",       "synthetic_lstm_1x16.nam", "synthetic_lstm_2x8.nam",
};

const bool kRegistered = [] {
    for (const char* m : kModels) {
        const std::string n(m);
        benchmark::RegisterBenchmark(("nam_process_buffer/" + n).c_str(), BM_ProcessBuffer, m, true)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("nam_process_sample/" + n).c_str(), BM_ProcessSample, m)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("nam_chain_block/" + n).c_str(), BM_ChainBlock, m)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("nam_chain_per_sample/" + n).c_str(), BM_ChainPerSample, m)
            ->Unit(benchmark::kMicrosecond);
    }
    for (const char* m : {"reference_standard.nam", "synthetic_lstm_1x16.nam"}) {
        benchmark::RegisterBenchmark((std::string("nam_process_buffer_general_kernels/") + m).c_str(),
                                     BM_ProcessBuffer, m, false)
            ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark("nam_load/reference_standard.nam", BM_Load, "reference_standard.nam")
        ->Unit(benchmark::kMillisecond);
    return true;
}();

} // namespace

BENCHMARK_MAIN();
