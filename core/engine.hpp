#pragma once

#include "core/amplifier_chain.hpp"
#include "core/command.hpp"
#include "core/dsp/linear_smoother.hpp"
#include "core/process_spec.hpp"
#include "core/retirable.hpp"
#include "core/rt.hpp"
#include "core/spsc_queue.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace rigd::core {

namespace tuner {
class InputTap;
}
class RecordTap;

// Counters the RT thread raises and a non-RT thread reads. Relaxed atomics:
// lock-free on every target we build for (checked by a static_assert).
struct EngineCounters {
    std::atomic<std::uint64_t> periods{0};
    std::atomic<std::uint64_t> commands_applied{0};
    std::atomic<std::uint64_t> commands_deferred{0};
    std::atomic<std::uint64_t> commands_rejected{0}; // structural command naming a stage that is not there
    std::atomic<std::uint64_t> stale_sets{0};        // a value for a stage that already left (harmless)
    std::atomic<std::uint64_t> reports_dropped{0};   // report queue full
    std::atomic<std::uint64_t> nonfinite_input{0};
    std::atomic<std::uint64_t> nonfinite_stage{0};
    std::atomic<std::uint64_t> retire_overflow{0};
    std::atomic<float> peak_in{0.0f};  // since the last meter reset
    std::atomic<float> peak_out{0.0f};
    std::atomic<bool> meter_reset{false}; // set by the reader, cleared by RT
};

// One period of audio: drain commands (bounded), run the chain over the whole
// block, crossfade to a new chain when one was swapped in, apply master
// volume / mute, copy mono to both outputs.
class Engine {
public:
    static constexpr std::size_t kMaxCommandsPerPeriod = 64;
    static constexpr double kChainFadeMs = 20.0; // preset switches: equal power
    static constexpr double kMasterRampMs = 20.0;
    // Periods up to this many frames run without chunking at the engine
    // level (the chain chunks to its own prepared size); a JACK period change
    // is taken at once, before the re-prepared chain arrives.
    static constexpr std::size_t kMaxFrames = 8192;

    explicit Engine(std::size_t command_capacity = 512, std::size_t retire_capacity = 512,
                    std::size_t report_capacity = 64);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Off the RT thread, before audio starts. The chain must be prepared with
    // the same spec (or is prepared here if it is not).
    void prepare(const ProcessSpec& spec, std::unique_ptr<AmplifierChain> chain);
    [[nodiscard]] const ProcessSpec& spec() const noexcept { return spec_; }
    // Before audio starts only: set the master volume without a ramp.
    void snap_master_db(float db) noexcept;
    // Before audio starts only: every period's input is copied to `tap`
    // (the tuner reads it on its own thread). nullptr turns it off.
    void set_input_tap(tuner::InputTap* tap) noexcept { tap_ = tap; }
    // Before audio starts only: every period's input and output are offered
    // to `tap` (the recorder; it keeps them only while armed).
    void set_record_tap(RecordTap* tap) noexcept { record_tap_ = tap; }

    // Producer side (one control thread at a time). On failure the command
    // was not queued and ownership of any object in it stays with the caller.
    [[nodiscard]] bool try_send(const Command& command) noexcept;
    // Room left in the command queue (producer side; a lower bound).
    [[nodiscard]] std::size_t free_command_slots() const noexcept;
    // Consumer side of the retire queue (one non-RT thread).
    [[nodiscard]] std::unique_ptr<Retirable> try_pop_retired() noexcept;
    // Consumer side of the report queue (one non-RT thread): the outcome of
    // each structural command and the chain order on request.
    [[nodiscard]] std::optional<EngineReport> try_pop_report() noexcept;

    // RT thread. All three spans have the same length; out_r may alias out_l
    // but neither may alias in.
    void process(std::span<const float> in, std::span<float> out_l, std::span<float> out_r) noexcept RIGD_RT;

    [[nodiscard]] EngineCounters& counters() noexcept { return counters_; }
    // Only for tests and the offline renderer (same thread as process()).
    [[nodiscard]] AmplifierChain* chain_for_testing() noexcept { return chain_.get(); }
    // No fade, ramp or queued command pending. Same thread as process().
    [[nodiscard]] bool is_idle() const noexcept;

private:
    enum class Outcome { applied, deferred, rejected, stale };
    Outcome apply(const Command& c) noexcept RIGD_RT;
    void drain_commands() noexcept RIGD_RT;
    void report(const Command& c, Outcome outcome) noexcept RIGD_RT;
    void report_chain(std::uint32_t seq) noexcept RIGD_RT;
    void follow_spec(const ProcessSpec& spec) noexcept RIGD_RT;
    void retune(double sample_rate_hz) noexcept RIGD_RT; // fades and ramps for a rate: arithmetic only
    void process_chunk(std::span<const float> in, std::span<float> out) noexcept RIGD_RT;
    void retire(Retirable* object) noexcept RIGD_RT;
    void flush_retired() noexcept RIGD_RT;

    SpscQueue<Command> commands_;
    SpscQueue<Retirable*> retired_;
    SpscQueue<EngineReport> reports_;
    std::array<Retirable*, 64> retire_backlog_{};
    std::size_t retire_backlog_count_ = 0;
    Command deferred_{};
    bool has_deferred_ = false;

    std::unique_ptr<AmplifierChain> chain_;
    std::unique_ptr<AmplifierChain> next_chain_;
    float chain_fade_ = 0.0f;
    float chain_fade_step_ = 1.0f;

    dsp::LinearSmoother master_gain_;
    dsp::LinearSmoother mute_gain_;
    dsp::LinearSmoother rig_wet_;
    std::vector<float> work_;
    std::vector<float> dry_;
    std::vector<float> alt_;
    ProcessSpec spec_{};
    float peak_in_ = 0.0f;
    float peak_out_ = 0.0f;
    tuner::InputTap* tap_ = nullptr;
    RecordTap* record_tap_ = nullptr;
    bool muted_ = false;
    bool tuner_on_ = false;

    EngineCounters counters_;
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
    static_assert(std::atomic<float>::is_always_lock_free);
};

} // namespace rigd::core
