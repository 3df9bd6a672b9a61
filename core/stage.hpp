#pragma once

#include "core/param_info.hpp"
#include "core/process_spec.hpp"
#include "core/retirable.hpp"
#include "core/rt.hpp"

#include <array>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace rigd::core {

// The stage contract (see DESIGN.md):
//  - prepare(spec) may allocate and runs off the RT thread;
//  - reset() returns to the just-prepared state without allocating;
//  - process_sample / process_block are noexcept, allocation-free and accept
//    any block length up to spec.max_block_size; the block path must match
//    the per-sample path;
//  - set_param is RT-safe: the control layer has already refused out-of-range
//    values, the stage clamps defensively and smooths the change.
// Everything the RT thread calls is RIGD_RT (see core/rt.hpp), and so must
// every override be: clang does not carry the attribute over to overrides,
// and RTSan checks only what carries it.
class Stage : public Retirable {
public:
    static constexpr std::size_t kMaxParams = 32;

    [[nodiscard]] virtual std::string_view type() const noexcept = 0;
    [[nodiscard]] virtual std::span<const ParamInfo> params() const noexcept RIGD_RT = 0;
    [[nodiscard]] virtual std::span<const TextParamInfo> text_params() const noexcept { return {}; }

    virtual void prepare(const ProcessSpec& spec) = 0;
    virtual void reset() noexcept RIGD_RT = 0;
    virtual float process_sample(float x) noexcept RIGD_RT = 0;
    virtual void process_block(std::span<float> block) noexcept RIGD_RT;

    // Latency the stage adds at the device rate, in samples.
    [[nodiscard]] virtual int latency_samples() const noexcept { return 0; }

    // RT-safe parameter access by index into params().
    void set_param(std::size_t index, float value) noexcept RIGD_RT;
    [[nodiscard]] float param(std::size_t index) const noexcept RIGD_RT;

    // Text parameters (file names). Off the RT thread only: may open files and
    // throw. `resolved` is the path the control layer resolved `value` to.
    virtual void set_text(std::size_t index, std::string_view value,
                          const std::filesystem::path& resolved);
    [[nodiscard]] virtual std::string text(std::size_t index) const;

    [[nodiscard]] std::size_t find_param(std::string_view name) const noexcept;
    [[nodiscard]] std::size_t find_text_param(std::string_view name) const noexcept;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

protected:
    // Derived constructors call this last: it stores every default and tells
    // the stage through on_param_changed.
    void init_params() noexcept;
    // Called with the clamped value whenever a parameter is set.
    virtual void on_param_changed(std::size_t index, float value) noexcept RIGD_RT = 0;

private:
    std::array<float, kMaxParams> values_{};
};

} // namespace rigd::core
