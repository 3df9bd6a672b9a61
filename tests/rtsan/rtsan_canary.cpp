// The RTSan canary (registered only with -Drtsan=true): proof that the
// RealtimeSanitizer build would catch a real-time violation in a stage.
//
//   rtsan_canary MODE      MODE = mutex | alloc | clean
//
// Builds an AmplifierChain holding one test-only stage whose RIGD_RT
// process_block locks a std::mutex (mutex), allocates (alloc) or does
// neither (clean), and runs a few periods through the chain. Under RTSan
// the first two must die with a "RealtimeSanitizer" report naming the
// offending call; clean must exit 0 (check_canary.sh checks all three).
#include "core/amplifier_chain.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace {

enum class Violation { none, mutex, alloc };

class BlockingStage final : public rigd::core::Stage {
public:
    explicit BlockingStage(Violation v) : violation_(v) { init_params(); }
    [[nodiscard]] std::string_view type() const noexcept override { return "test_blocking"; }
    [[nodiscard]] std::span<const rigd::core::ParamInfo> params() const noexcept RIGD_RT override { return {}; }
    void prepare(const rigd::core::ProcessSpec&) override {}
    void reset() noexcept RIGD_RT override {}
    float process_sample(float x) noexcept RIGD_RT override { return 0.5f * x; }
    // Deliberately not real-time safe: the violation RTSan must report.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
    void process_block(std::span<float> block) noexcept RIGD_RT override {
        if (violation_ == Violation::mutex) {
            const std::lock_guard lock(mutex_);
            scale(block);
            return;
        }
        if (violation_ == Violation::alloc) {
            auto* scratch = new (std::nothrow) float[block.size()];
            if (scratch != nullptr) {
                std::memcpy(scratch, block.data(), block.size_bytes());
            }
            sink_ = scratch;
            delete[] scratch;
        }
        scale(block);
    }
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

private:
    void on_param_changed(std::size_t, float) noexcept RIGD_RT override {}
    static void scale(std::span<float> block) noexcept {
        for (float& s : block) {
            s *= 0.5f;
        }
    }
    Violation violation_;
    std::mutex mutex_;
    float* volatile sink_ = nullptr;
};

} // namespace

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "";
    Violation v = Violation::none;
    if (std::strcmp(mode, "mutex") == 0) {
        v = Violation::mutex;
    } else if (std::strcmp(mode, "alloc") == 0) {
        v = Violation::alloc;
    } else if (std::strcmp(mode, "clean") != 0) {
        std::fprintf(stderr, "usage: rtsan_canary mutex|alloc|clean (got '%s')\n", mode);
        return 2;
    }
    rigd::core::AmplifierChain chain;
    chain.append(std::make_unique<BlockingStage>(v));
    chain.prepare({48000.0, 128, 1});
    std::vector<float> block(128, 0.25f);
    for (int period = 0; period < 4; ++period) {
        chain.process_block(block);
    }
    std::printf("rtsan_canary %s: %d periods, out %g\n", mode, 4, static_cast<double>(block[0]));
    return 0;
}
