#pragma once

#include "core/process_spec.hpp"
#include "core/retirable.hpp"
#include "core/rt.hpp"
#include "core/stage.hpp"
#include "core/stage_handle.hpp"

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
    static constexpr std::size_t kCapacity = 64; // visible stages
    // Slots: visible stages plus stages still ramping out, so a remove and
    // an add at the limit do not wait 10 ms for each other.
    static constexpr std::size_t kSlots = 2 * kCapacity;
    static constexpr double kRampMs = 10.0;

    AmplifierChain();
    ~AmplifierChain() override;

    // Off the RT thread: prepares every stage and the scratch buffers.
    void prepare(const ProcessSpec& spec);
    [[nodiscard]] const ProcessSpec& spec() const noexcept { return spec_; }
    [[nodiscard]] bool is_prepared() const noexcept { return prepared_; }

    // Off the RT thread, before the chain is live: append a stage that is
    // already prepared for spec() (prepare() prepares every stage again).
    // Without a handle the stage is named by its position + 1.
    void append(std::unique_ptr<Stage> stage, bool bypassed = false, StageHandle handle = kNoStage);

    void reset() noexcept RIGD_RT;
    void process_block(std::span<float> block) noexcept RIGD_RT;
    [[nodiscard]] float process_sample(float x) noexcept RIGD_RT;

    // RT-safe edits. Stages are named by handle; a new or moved stage goes
    // before `anchor` (kNoStage: at the end). The order of visible stages
    // (those not on their way out) changes at once; the audio follows after
    // the ramps. `deferred` means "not now, retry next period, keep the
    // command order" (every slot still busy ramping out, or a crossfade in
    // progress); `rejected` means the command names a stage that is not here.
    enum class Edit : std::uint8_t { applied, deferred, rejected };
    [[nodiscard]] Edit insert(std::unique_ptr<Stage>& stage, StageHandle handle, StageHandle anchor,
                              bool bypassed = false) noexcept RIGD_RT;
    [[nodiscard]] Edit remove(StageHandle handle) noexcept RIGD_RT;
    [[nodiscard]] Edit move(StageHandle handle, StageHandle anchor) noexcept RIGD_RT;
    [[nodiscard]] Edit replace(StageHandle handle, std::unique_ptr<Stage>& fresh,
                               StageHandle fresh_handle) noexcept RIGD_RT;
    [[nodiscard]] bool set_bypass(StageHandle handle, bool bypassed) noexcept RIGD_RT;
    [[nodiscard]] bool set_param(StageHandle handle, std::size_t index, float value) noexcept RIGD_RT;

    // Stages that left the chain, for the owner to retire. RT-safe.
    [[nodiscard]] Stage* pop_retired() noexcept RIGD_RT;

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] std::size_t visible_size() const noexcept { return order_count_; }
    [[nodiscard]] Stage* stage_at(std::size_t slot) const noexcept;
    [[nodiscard]] StageHandle handle_at(std::size_t slot) const noexcept;
    [[nodiscard]] bool bypassed_at(std::size_t slot) const noexcept;
    // The stage a handle names (the incoming one during a replace), or null.
    [[nodiscard]] Stage* find_stage(StageHandle handle) const noexcept;
    // Handles of the stages the audio runs, in the order it runs them
    // (those on their way out left out). Returns how many were written.
    std::size_t running_order(std::span<StageHandle> out) const noexcept RIGD_RT;
    [[nodiscard]] bool is_idle() const noexcept RIGD_RT; // no ramp, fade or pending move
    [[nodiscard]] int latency_samples() const noexcept;

    // Non-finite output seen from a stage since the last call (the stage was
    // reset and the block zeroed). RT-safe.
    [[nodiscard]] std::uint64_t take_nonfinite_resets() noexcept RIGD_RT {
        const std::uint64_t n = nonfinite_resets_;
        nonfinite_resets_ = 0;
        return n;
    }
    [[nodiscard]] bool contains(StageHandle handle) const noexcept { return find(handle) != kSlots; }

private:
    struct Slot {
        std::unique_ptr<Stage> stage;
        std::unique_ptr<Stage> incoming; // replace in progress
        float wet = 1.0f;                // 1 = stage fully in, 0 = dry
        float fade = 0.0f;               // replace crossfade position
        bool bypassed = false;
        bool removing = false;
        bool dormant = false; // skipped while fully bypassed: reset on return
        bool moving = false;  // ramping out to move; placed when silent
        StageHandle handle{};
        StageHandle incoming_handle{};
    };

    [[nodiscard]] std::size_t find(StageHandle handle) const noexcept;
    [[nodiscard]] std::size_t order_index(StageHandle handle) const noexcept;
    // Where the stage at order_[k] belongs physically: before the first
    // settled stage that follows it in order_ (or at the end).
    [[nodiscard]] std::size_t placement(std::size_t order_k, std::size_t skip_slot) const noexcept;
    [[nodiscard]] static bool settled(const Slot& s) noexcept { return !s.removing && !s.moving; }
    void order_erase(std::size_t k) noexcept;
    void order_insert(std::size_t k, StageHandle handle) noexcept;
    [[nodiscard]] static float target_wet(const Slot& s) noexcept;
    void process_chunk(std::span<float> block) noexcept;
    void process_slot_ramped(Slot& slot, std::span<float> block) noexcept;
    void finish_transitions() noexcept;
    void retire(std::unique_ptr<Stage> stage) noexcept;
    void erase_slot(std::size_t index) noexcept;
    void rotate_slot(std::size_t from, std::size_t to) noexcept;

    std::array<Slot, kSlots> slots_{};
    std::size_t count_ = 0;
    // The order of visible stages as the control side sees it, updated at
    // once by every edit; the slots follow it as ramps finish.
    std::array<StageHandle, kCapacity> order_{};
    std::size_t order_count_ = 0;
    std::array<Stage*, 2 * kSlots> retired_{};
    std::size_t retired_count_ = 0;
    std::vector<float> dry_;
    std::vector<float> alt_;
    ProcessSpec spec_{};
    float ramp_step_ = 1.0f;
    bool prepared_ = false;
    std::uint64_t nonfinite_resets_ = 0;
};

} // namespace rigd::core
