#pragma once

#include "core/process_spec.hpp"
#include "core/retirable.hpp"
#include "core/stage.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace rigd::core {

// An ordered list of stages in preallocated slots. Every mutation is RT-safe:
// no allocation, no free, bounded work. Changes that would be audible as a
// step are ramped over kRampMs:
//  - bypass and un-bypass cross between dry and wet;
//  - insert ramps the new stage in; remove ramps it out, then retires it;
//  - move ramps out, moves, ramps back in;
//  - replace crossfades old -> new, then retires the old stage.
// Stages leaving the chain are collected for the owner (the Engine) to hand
// to the retire queue; they are never destroyed here while processing.
class AmplifierChain : public Retirable {
public:
    static constexpr std::size_t kCapacity = 64;
    static constexpr double kRampMs = 10.0;

    AmplifierChain();
    ~AmplifierChain() override;

    // Off the RT thread: prepares every stage and the scratch buffers.
    void prepare(const ProcessSpec& spec);
    [[nodiscard]] const ProcessSpec& spec() const noexcept { return spec_; }
    [[nodiscard]] bool is_prepared() const noexcept { return prepared_; }

    // Off the RT thread, before the chain is live: append a stage that is
    // already prepared for spec() (prepare() prepares every stage again).
    void append(std::unique_ptr<Stage> stage, bool bypassed = false);

    void reset() noexcept;
    void process_block(std::span<float> block) noexcept;
    [[nodiscard]] float process_sample(float x) noexcept;

    // RT-safe mutations. Stages are addressed by identity; positions count
    // the stages a listener sees (those not on their way out).
    [[nodiscard]] bool try_insert(std::size_t position, std::unique_ptr<Stage>& stage,
                                  bool bypassed = false) noexcept;
    [[nodiscard]] bool try_remove(const Stage* stage) noexcept;
    [[nodiscard]] bool try_move(const Stage* stage, std::size_t position) noexcept;
    // Fails (returns false, keeps `fresh`) while that slot is still fading.
    [[nodiscard]] bool try_replace(const Stage* old_stage, std::unique_ptr<Stage>& fresh) noexcept;
    [[nodiscard]] bool try_set_bypass(const Stage* stage, bool bypassed) noexcept;
    [[nodiscard]] bool try_set_param(const Stage* stage, std::size_t index, float value) noexcept;

    // Stages that left the chain, for the owner to retire. RT-safe.
    [[nodiscard]] Stage* pop_retired() noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] std::size_t visible_size() const noexcept;
    [[nodiscard]] Stage* stage_at(std::size_t slot) const noexcept;
    [[nodiscard]] bool bypassed_at(std::size_t slot) const noexcept;
    [[nodiscard]] bool is_idle() const noexcept; // no ramp, fade or pending move
    [[nodiscard]] int latency_samples() const noexcept;

    // Non-finite output seen from a stage since the last call (the stage was
    // reset and the block zeroed). RT-safe.
    [[nodiscard]] std::uint64_t take_nonfinite_resets() noexcept {
        const std::uint64_t n = nonfinite_resets_;
        nonfinite_resets_ = 0;
        return n;
    }
    [[nodiscard]] bool contains(const Stage* stage) const noexcept { return find(stage) != kCapacity; }

private:
    struct Slot {
        std::unique_ptr<Stage> stage;
        std::unique_ptr<Stage> incoming; // replace in progress
        float wet = 1.0f;                // 1 = stage fully in, 0 = dry
        float fade = 0.0f;               // replace crossfade position
        bool bypassed = false;
        bool removing = false;
        bool dormant = false; // skipped while fully bypassed: reset on return
        std::size_t move_to = kNoMove;
    };
    static constexpr std::size_t kNoMove = static_cast<std::size_t>(-1);

    [[nodiscard]] std::size_t find(const Stage* stage) const noexcept;
    [[nodiscard]] std::size_t slot_for_position(std::size_t position) const noexcept;
    [[nodiscard]] static float target_wet(const Slot& s) noexcept;
    void process_chunk(std::span<float> block) noexcept;
    void process_slot_ramped(Slot& slot, std::span<float> block) noexcept;
    void finish_transitions() noexcept;
    void retire(std::unique_ptr<Stage> stage) noexcept;
    void erase_slot(std::size_t index) noexcept;
    void rotate_slot(std::size_t from, std::size_t to) noexcept;

    std::array<Slot, kCapacity> slots_{};
    std::size_t count_ = 0;
    std::array<Stage*, 2 * kCapacity> retired_{};
    std::size_t retired_count_ = 0;
    std::vector<float> dry_;
    std::vector<float> alt_;
    ProcessSpec spec_{};
    float ramp_step_ = 1.0f;
    bool prepared_ = false;
    std::uint64_t nonfinite_resets_ = 0;
};

} // namespace rigd::core
