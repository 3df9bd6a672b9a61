#pragma once

#include "core/nam/nam_file.hpp"
#include "core/rt.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string_view>

namespace rigd::core::nam {

// A built neural amp model running at its own sample rate. prepare() and
// prewarm() allocate and run off the RT thread; reset(), set_size() and
// process_*() are RT-safe (no allocation, no locks, noexcept).
class NamModel {
public:
    NamModel(const NamModel&) = delete;
    NamModel& operator=(const NamModel&) = delete;
    virtual ~NamModel() = default;

    // Size every buffer for blocks of up to max_block frames (longer calls are
    // split internally) and clear the state.
    virtual void prepare(std::size_t max_block) = 0;
    // Feed prewarm_samples() zeros in max_block chunks, as the reference does,
    // and keep the resulting state as the one reset() returns to.
    virtual void prewarm();
    // Back to the state after the last prepare()/prewarm().
    virtual void reset() noexcept RIGD_RT = 0;
    // Batched over the block. `in` may equal `out`; any n.
    virtual void process_buffer(const float* in, float* out, std::size_t n) noexcept RIGD_RT = 0;
    // Same state and output as process_buffer with n = 1.
    [[nodiscard]] float process_sample(float x) noexcept RIGD_RT {
        float y = 0.0f;
        process_buffer(&x, &y, 1);
        return y;
    }

    // Slimmable models (SlimmableContainer, slimmable WaveNet): the size
    // control 0..1. set_size() switches on the RT thread with a short
    // crossfade between prepared, prewarmed submodels; select_size() switches
    // at once (off the RT thread, or before processing). Others ignore both.
    virtual void set_size(float /*size*/) noexcept RIGD_RT {}
    virtual void select_size(float /*size*/) noexcept {}
    [[nodiscard]] virtual bool slimmable() const noexcept { return false; }

    [[nodiscard]] virtual std::size_t prewarm_samples() const noexcept = 0;
    // Which kernels run: e.g. "wavenet fixed 16/8" or "lstm dynamic 1x3".
    [[nodiscard]] virtual std::string_view kernel_name() const noexcept = 0;
    [[nodiscard]] std::size_t max_block() const noexcept { return max_block_; }
    [[nodiscard]] double sample_rate_hz() const noexcept { return sample_rate_hz_; }
    [[nodiscard]] const NamMetadata& metadata() const noexcept { return metadata_; }

    // Remember the current state as the one reset() returns to (off the RT
    // thread): a nested condition model is warmed by its parent's prewarm.
    void mark_reset_point() { save_reset_state(); }

protected:
    NamModel(double sample_rate_hz, NamMetadata metadata)
        : sample_rate_hz_(sample_rate_hz), metadata_(std::move(metadata)) {}
    // Remember the current state as the reset point (off the RT thread).
    virtual void save_reset_state() = 0;

    std::size_t max_block_ = 0;

private:
    double sample_rate_hz_;
    NamMetadata metadata_;
};

struct NamBuildOptions {
    // false: always use the general (runtime-sized) kernels; tests compare both.
    bool allow_fixed_kernels = true;
    // true: run A1 WaveNets through the general (0.6/0.7) WaveNet too.
    bool general_wavenet = false;
};

// Builds a model from a validated file (throws NamLoadError on an internal
// inconsistency). The result still needs prepare() and prewarm().
[[nodiscard]] std::unique_ptr<NamModel> build_nam_model(const NamFile& file, const NamBuildOptions& options = {});

// load_nam_file + build + prepare(max_block) + prewarm(): ready to run.
[[nodiscard]] std::unique_ptr<NamModel> load_nam_model(const std::filesystem::path& path, std::size_t max_block,
                                                       const NamBuildOptions& options = {});

} // namespace rigd::core::nam
