#pragma once

#include <cstdint>
#include <type_traits>

namespace rigd::core {

class Stage;
class AmplifierChain;

// Plain data sent from the control side to the RT thread. Pointers to new
// objects (fresh, chain) transfer ownership to the engine once the command is
// taken; the engine retires whatever it replaces.
struct Command {
    enum class Type : std::uint8_t {
        set_param,     // stage, index, value
        set_bypass,    // stage, value != 0
        insert_stage,  // fresh, index = position, value != 0 -> bypassed
        remove_stage,  // stage
        move_stage,    // stage, index = position
        replace_stage, // stage -> fresh
        swap_chain,    // chain
        set_master_db, // value
        set_mute,      // value != 0
        set_rig_bypass, // value != 0
        set_tuner       // value != 0: output muted while the tuner is on
    };

    Type type = Type::set_param;
    Stage* stage = nullptr;
    Stage* fresh = nullptr;
    AmplifierChain* chain = nullptr;
    std::uint32_t index = 0;
    float value = 0.0f;
};

static_assert(std::is_trivially_copyable_v<Command>);

} // namespace rigd::core
