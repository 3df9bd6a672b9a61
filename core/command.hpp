#pragma once

#include "core/stage_handle.hpp"

#include <array>
#include <cstdint>
#include <type_traits>

namespace rigd::core {

class Stage;
class AmplifierChain;

// Plain data sent from the control side to the RT thread. Pointers to new
// objects (fresh, chain) transfer ownership to the engine once the command is
// taken; the engine retires whatever it replaces. Positions are anchors: a
// stage goes before `anchor` (kNoStage = at the end), so a command means the
// same thing whatever else is still ramping in or out.
struct Command {
    enum class Type : std::uint8_t {
        set_param,      // stage, index, value
        set_bypass,     // stage, value != 0
        insert_stage,   // fresh as fresh_handle before anchor; value != 0 -> bypassed
        remove_stage,   // stage
        move_stage,     // stage before anchor
        replace_stage,  // stage -> fresh as fresh_handle
        swap_chain,     // chain (prepared; its spec becomes the engine's)
        set_master_db,  // value
        set_mute,       // value != 0
        set_rig_bypass, // value != 0
        set_tuner,      // value != 0: output muted while the tuner is on
        report_chain    // seq: the audio thread reports the order it runs
    };

    Type type = Type::set_param;
    StageHandle stage{};
    StageHandle fresh_handle{};
    StageHandle anchor{};
    Stage* fresh = nullptr;
    AmplifierChain* chain = nullptr;
    std::uint32_t index = 0;
    std::uint32_t seq = 0; // echoed in the report of structural commands
    float value = 0.0f;

    [[nodiscard]] constexpr bool is_structural() const noexcept {
        return type == Type::insert_stage || type == Type::remove_stage || type == Type::move_stage ||
               type == Type::replace_stage || type == Type::swap_chain;
    }
};

static_assert(std::is_trivially_copyable_v<Command>);

// RT -> control: the outcome of every structural command, and the chain
// order on request. Fixed size, so the RT thread only copies.
struct EngineReport {
    enum class Kind : std::uint8_t { applied, rejected, chain };
    static constexpr std::size_t kMaxStages = 64;

    Kind kind = Kind::applied;
    Command::Type command = Command::Type::set_param;
    bool idle = false; // chain reports: no ramp, fade or deferred command pending
    std::uint32_t seq = 0;
    std::uint32_t count = 0;
    std::array<StageHandle, kMaxStages> stages{}; // chain reports: the order the audio runs
};

static_assert(std::is_trivially_copyable_v<EngineReport>);

} // namespace rigd::core
