// NAM benchmarks: raw process_buffer vs process_sample, the `nam` stage in
// an AmplifierChain (block vs per-sample), and model load time. Time per
// iteration = one block of kFrames at 48 kHz; x_realtime = block duration /
// time per block.
#include "core/amplifier_chain.hpp"
#include "core/nam/nam_loader.hpp"
#include "core/nam/nam_model.hpp"
#include "core/nam/nam_stage.hpp"

#include "a2_synth.hpp"
#include "rigd_config.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <filesystem>
#include <fstream>
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

void BM_ProcessBuffer(benchmark::State& state, const char* name, bool fixed, bool general) {
    NamBuildOptions options;
    options.allow_fixed_kernels = fixed;
    options.general_wavenet = general;
    auto m = load_nam_model(model(name), kFrames, options);
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

// A2 layouts (synthetic weights, the release shapes): 0 = lite (3 ch), 1 = full (8 ch).
std::unique_ptr<NamModel> a2_model(int channels) {
    auto m = build_nam_model(parse_nam_json(rigd::test::a2_wavenet_json(channels, 5).dump(), "a2"));
    m->prepare(kFrames);
    m->prewarm();
    return m;
}

// MACs per frame of a plain (ungated, no FiLM) A2 WaveNet: the floor's numerator.
double a2_macs_per_frame(int c) {
    double ksum = 21 * 6 + 2 * 15;
    return c + c * c * ksum + 23.0 * (c + c * c) + c * 16;
}

void BM_A2(benchmark::State& state, int channels) {
    auto m = a2_model(channels);
    auto in = guitar_like(kFrames);
    std::vector<float> out(kFrames);
    state.SetLabel(std::string(m->kernel_name()));
    for (auto _ : state) {
        m->process_buffer(in.data(), out.data(), kFrames);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_counters(state);
    state.counters["MACs_per_block"] = a2_macs_per_frame(channels) * kFrames;
}

void BM_A2ContainerLoad(benchmark::State& state) {
    const std::string text = rigd::test::a2_container_text();
    for (auto _ : state) {
        auto m = build_nam_model(parse_nam_json(text, "a2"));
        m->prepare(kFrames);
        m->prewarm();
        benchmark::DoNotOptimize(m.get());
    }
}

void BM_A2SizeSwitch(benchmark::State& state) {
    auto m = build_nam_model(parse_nam_json(rigd::test::a2_container_text(), "a2"));
    m->prepare(kFrames);
    m->prewarm();
    auto in = guitar_like(kFrames);
    std::vector<float> out(kFrames);
    float size = 0.0f;
    for (auto _ : state) {
        // set_size + the first (crossfading) block: the new model is audible in it.
        m->set_size(size);
        m->process_buffer(in.data(), out.data(), kFrames);
        benchmark::DoNotOptimize(out.data());
        size = 1.0f - size;
        state.PauseTiming();
        for (int b = 0; b < 4; ++b) {
            m->process_buffer(in.data(), out.data(), kFrames); // finish the fade
        }
        state.ResumeTiming();
    }
}

// Baseline for the LSTM target: a reimplementation of the fastest known LSTM
// approach (gates as one column-major matrix-vector product on SIMD vectors,
// NAM's coarse rational fast tanh and fast sigmoid), same weights and sizes.
class FastTanhLstm {
public:
    using V = float __attribute__((vector_size(64)));
    explicit FastTanhLstm(const NamFile& f) {
        const auto& c = std::get<LstmConfig>(f.config);
        h_ = c.hidden_size;
        if (c.num_layers != 1 || h_ > 16) {
            throw std::runtime_error("baseline: 1 layer, hidden <= 16");
        }
        const float* w = f.weights.data();
        // W: 4H x (1 + H) row-major; column j of gate block g -> cols_[j][g].
        for (int g = 0; g < 4; ++g) {
            for (int r = 0; r < h_; ++r) {
                for (int j = 0; j <= h_; ++j) {
                    cols_[j][g][r] = w[(g * h_ + r) * (1 + h_) + j];
                }
            }
        }
        w += 4 * h_ * (1 + h_);
        for (int g = 0; g < 4; ++g) {
            for (int r = 0; r < h_; ++r) {
                b_[g][r] = w[g * h_ + r];
            }
        }
        w += 4 * h_;
        for (int r = 0; r < h_; ++r) {
            h_state_[r] = w[r];
            c_state_[r] = w[h_ + r];
        }
        w += 2 * h_;
        for (int r = 0; r < h_; ++r) {
            head_[r] = w[r];
        }
        head_b_ = w[h_];
    }
    // Out-parameter: a 64-byte vector by value changes the ABI in a non-AVX-512 build.
    static void fast_tanh(const V& x, V& y) {
        const V ax = x < 0.0f ? -x : x;
        const V x2 = x * x;
        const V inner = x + 0.814642734961073f * x * ax;
        y = x * (2.45550750702956f + 2.45550750702956f * ax + (0.893229853513558f + 0.821226666969744f * ax) * x2) /
            (2.44506634652299f + (2.44506634652299f + x2) * (inner < 0.0f ? -inner : inner));
    }
    void process(const float* in, float* out, std::size_t n) {
        for (std::size_t t = 0; t < n; ++t) {
            V g[4];
            for (int k = 0; k < 4; ++k) {
                g[k] = b_[k] + cols_[0][k] * in[t];
            }
            for (int j = 0; j < h_; ++j) {
                const float hj = h_state_[j];
                for (int k = 0; k < 4; ++k) {
                    g[k] += cols_[j + 1][k] * hj;
                }
            }
            V th[5];
            fast_tanh(0.5f * g[0], th[0]);
            fast_tanh(0.5f * g[1], th[1]);
            fast_tanh(g[2], th[2]);
            fast_tanh(0.5f * g[3], th[3]);
            const V i = 0.5f + 0.5f * th[0];
            const V f = 0.5f + 0.5f * th[1];
            const V c = f * c_state_ + i * th[2];
            const V o = 0.5f + 0.5f * th[3];
            c_state_ = c;
            fast_tanh(c, th[4]);
            h_state_ = o * th[4];
            const V prod = head_ * h_state_;
            float y = head_b_;
            for (int r = 0; r < h_; ++r) {
                y += prod[r];
            }
            out[t] = y;
        }
    }

private:
    int h_ = 0;
    V cols_[17][4]{};
    V b_[4]{};
    V h_state_{};
    V c_state_{};
    V head_{};
    float head_b_ = 0.0f;
};

void BM_LstmFastTanhBaseline(benchmark::State& state, const char* name) {
    FastTanhLstm m(load_nam_file(model(name)));
    auto in = guitar_like(kFrames);
    std::vector<float> out(kFrames);
    for (auto _ : state) {
        m.process(in.data(), out.data(), kFrames);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_counters(state);
}

// The machine's FMA throughput: independent vector FMA chains, MACs per second.
void BM_FmaPeak(benchmark::State& state) {
    using V = float __attribute__((vector_size(64)));
    constexpr int kChains = 12;
    V acc[kChains];
    for (int i = 0; i < kChains; ++i) {
        acc[i] = V{} + 0.001f * static_cast<float>(i);
    }
    V a = V{} + 0.999f;
    V b = V{} + 0.0001f;
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
    constexpr int kIters = 4096;
    for (auto _ : state) {
        for (int it = 0; it < kIters; ++it) {
            for (int i = 0; i < kChains; ++i) {
                acc[i] = acc[i] * a + b;
            }
        }
        for (int i = 0; i < kChains; ++i) {
            benchmark::DoNotOptimize(acc[i]);
        }
    }
    state.counters["MACs_per_s"] = benchmark::Counter(static_cast<double>(kIters) * kChains * 16,
                                                      benchmark::Counter::kIsIterationInvariantRate);
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
        benchmark::RegisterBenchmark(("nam_process_buffer/" + n).c_str(), BM_ProcessBuffer, m, true, false)
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
                                     BM_ProcessBuffer, m, false, false)
            ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark("nam_process_buffer_general_wavenet/reference_standard.nam", BM_ProcessBuffer,
                                 "reference_standard.nam", true, true)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("nam_load/reference_standard.nam", BM_Load, "reference_standard.nam")
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("nam_fma_peak", BM_FmaPeak)->Unit(benchmark::kMicrosecond);
    for (const char* m : {"synthetic_lstm_1x16.nam", "namcore_lstm.nam"}) {
        benchmark::RegisterBenchmark((std::string("nam_lstm_fast_tanh_baseline/") + m).c_str(),
                                     BM_LstmFastTanhBaseline, m)
            ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark("nam_a2/lite", BM_A2, 3)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("nam_a2/full", BM_A2, 8)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("nam_a2_container/load", BM_A2ContainerLoad)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("nam_a2_container/size_switch", BM_A2SizeSwitch)->Unit(benchmark::kMicrosecond);
    return true;
}();

} // namespace

// The CPU model and family/model numbers in the benchmark context: absolute
// times differ between instances of the same machine kind.
int main(int argc, char** argv) {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        for (const char* key : {"model name", "cpu family", "model\t", "flags"}) {
            if (line.rfind(key, 0) == 0) {
                const auto colon = line.find(':');
                std::string name = key;
                name.erase(name.find_last_not_of(" \t") + 1);
                std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
                if (name == "flags") {
                    name = "avx512f";
                    value = value.find("avx512f") != std::string::npos ? "yes" : "no";
                }
                benchmark::AddCustomContext("cpu_" + name, value);
                std::fprintf(stderr, "cpu %s: %s\n", name.c_str(), value.c_str());
            }
        }
        if (line.empty()) {
            break; // the first CPU is enough
        }
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
