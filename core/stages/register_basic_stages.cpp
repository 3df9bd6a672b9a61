#include "core/stage_factory.hpp"
#include "core/stages/comp_stage.hpp"
#include "core/stages/delay_stage.hpp"
#include "core/stages/eq_stage.hpp"
#include "core/stages/filter_stage.hpp"
#include "core/stages/gate_stage.hpp"
#include "core/stages/level_stage.hpp"
#include "core/stages/pitch_stage.hpp"
#include "core/stages/power_stage.hpp"
#include "core/stages/pre_stage.hpp"
#include "core/stages/reverb_stage.hpp"
#include "core/stages/sat_stage.hpp"
#include "core/stages/tone_stage.hpp"
#include "core/stages/trem_stage.hpp"

namespace rigd::core {

namespace {
template <typename T>
void add(StageFactory& factory) {
    factory.add(std::string(T::kType), [] { return std::make_unique<T>(); });
}
} // namespace

void register_basic_stages(StageFactory& factory) {
    add<stages::PitchStage>(factory);
    add<stages::FilterStage>(factory);
    add<stages::GateStage>(factory);
    add<stages::CompStage>(factory);
    add<stages::PreStage>(factory);
    add<stages::ToneStage>(factory);
    add<stages::EqStage>(factory);
    add<stages::SatStage>(factory);
    add<stages::PowerStage>(factory);
    add<stages::LevelStage>(factory);
    add<stages::DelayStage>(factory);
    add<stages::ReverbStage>(factory);
    add<stages::TremStage>(factory);
}

} // namespace rigd::core
