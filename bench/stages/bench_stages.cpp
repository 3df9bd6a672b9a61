// One benchmark per stage type: microseconds per 128-frame block at 48 kHz
// (block path), nonlinear stages at 1x, 4x and 16x oversampling; pitch at
// four shifts (110 Hz sine input).
#include "core/denormals.hpp"
#include "core/stage_factory.hpp"

#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kFrames = 128;
constexpr double kRate = 48000.0;

void BM_Stage(benchmark::State& state, const std::string& type, float pitch_semitones = 0.0f) {
    rigd::core::flush_denormals_on_this_thread();
    rigd::core::StageFactory factory;
    rigd::core::register_basic_stages(factory);
    auto stage = factory.create(type);
    if (type == "eq") { // every band active
        for (std::size_t b = 0; b < 16; ++b) {
            stage->set_param(b, (b % 2 == 0) ? 3.0f : -3.0f);
        }
    }
    if (type == "tone") {
        stage->set_param(stage->find_param("model"), 1.0f);
    }
    if (type == "pitch") { // the splice rate, so the cost, grows with the shift
        stage->set_param(stage->find_param("semitones"), pitch_semitones);
    }
    stage->prepare({kRate, kFrames, static_cast<int>(state.range(0))});
    std::vector<float> source(kFrames * 32);
    for (std::size_t i = 0; i < source.size(); ++i) {
        source[i] = static_cast<float>(0.4 * std::sin(2 * M_PI * 110 * static_cast<double>(i) / kRate));
    }
    std::vector<float> buf(kFrames);
    std::size_t offset = 0;
    for (auto _ : state) {
        std::copy_n(source.begin() + static_cast<std::ptrdiff_t>(offset), kFrames, buf.begin());
        offset = (offset + kFrames) % source.size();
        stage->process_block(buf);
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    state.counters["x_realtime"] =
        benchmark::Counter(static_cast<double>(kFrames) / kRate, benchmark::Counter::kIsIterationInvariantRate);
}

} // namespace

#define RIGD_STAGE_BENCH(name) BENCHMARK_CAPTURE(BM_Stage, name, std::string(#name))->Arg(1)->Unit(benchmark::kMicrosecond)
#define RIGD_OS_BENCH(name)                                                                                    \
    BENCHMARK_CAPTURE(BM_Stage, name, std::string(#name))->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMicrosecond)

RIGD_STAGE_BENCH(filter);
RIGD_STAGE_BENCH(gate);
RIGD_STAGE_BENCH(comp);
RIGD_OS_BENCH(pre);
RIGD_STAGE_BENCH(tone);
RIGD_STAGE_BENCH(eq);
RIGD_OS_BENCH(sat);
RIGD_OS_BENCH(power);
RIGD_STAGE_BENCH(level);
RIGD_STAGE_BENCH(delay);
RIGD_STAGE_BENCH(reverb);
RIGD_STAGE_BENCH(trem);
BENCHMARK_CAPTURE(BM_Stage, pitch_up5, std::string("pitch"), 5.0f)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Stage, pitch_down5, std::string("pitch"), -5.0f)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Stage, pitch_up12, std::string("pitch"), 12.0f)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Stage, pitch_down12, std::string("pitch"), -12.0f)->Arg(1)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
