#include "control/rig_controller.hpp"

#include <cmath>
#include <sstream>

namespace rigd::control {

namespace {

std::string range_text(const core::ParamInfo& info) {
    std::ostringstream s;
    s << info.min << ".." << info.max;
    if (!info.unit.empty()) {
        s << ' ' << info.unit;
    }
    return s.str();
}

} // namespace

void check_param_value(const core::ParamInfo& info, float value) {
    std::ostringstream v;
    v << value;
    if (!std::isfinite(value)) {
        throw ControlError(std::string(info.name) + ": value must be a finite number");
    }
    if (!info.in_range(value)) {
        throw ControlError(std::string(info.name) + ": " + v.str() + " is outside " + range_text(info));
    }
    const bool whole = value == std::floor(value);
    if ((info.kind == core::ParamKind::integer || info.kind == core::ParamKind::choice ||
         info.kind == core::ParamKind::toggle) &&
        !whole) {
        throw ControlError(std::string(info.name) + ": " + v.str() + " is not a whole number");
    }
}

RigController::RigController(core::Engine& engine, const core::StageFactory& factory, const Library& library)
    : engine_(engine), factory_(factory), library_(library) {}

core::PathResolver RigController::resolver(bool allow_absolute) const {
    return [this, allow_absolute](std::string_view folder, std::string_view name) {
        return library_.resolve(folder, name, allow_absolute);
    };
}

std::vector<RigController::Entry> RigController::build_entries(const core::Preset& preset,
                                                               const core::ProcessSpec& spec, bool allow_absolute,
                                                               core::BuiltChain& built) const {
    try {
        built = core::build_chain(preset, factory_, spec, resolver(allow_absolute));
    } catch (const core::ChainBuildError& e) {
        throw ControlError(std::string("preset '") + preset.name + "': " + e.what());
    }
    std::vector<Entry> entries;
    for (std::size_t i = 0; i < preset.stages.size(); ++i) {
        Entry e;
        e.stage = built.stages[i];
        e.config.id = preset.stages[i].id;
        e.config.type = preset.stages[i].type;
        e.config.bypass = preset.stages[i].bypass;
        // The chain is not live yet: reading the stage is safe here.
        const auto infos = e.stage->params();
        for (std::size_t p = 0; p < infos.size(); ++p) {
            e.config.params.emplace_back(std::string(infos[p].name), e.stage->param(p));
        }
        const auto texts = e.stage->text_params();
        for (std::size_t t = 0; t < texts.size(); ++t) {
            std::string value;
            for (const auto& [name, v] : preset.stages[i].texts) {
                if (name == texts[t].name) {
                    value = v;
                }
            }
            e.config.texts.emplace_back(std::string(texts[t].name), value);
        }
        entries.push_back(std::move(e));
    }
    return entries;
}

std::vector<std::string> RigController::start(const core::Preset& preset, const core::ProcessSpec& spec,
                                              bool allow_absolute_paths) {
    std::lock_guard lock(mutex_);
    core::BuiltChain built;
    entries_ = build_entries(preset, spec, allow_absolute_paths, built);
    spec_ = spec;
    oversample_ = preset.oversample;
    preset_name_ = preset.name;
    engine_.prepare(spec, std::move(built.chain));
    if (preset.master_db) {
        master_db_ = *preset.master_db;
        engine_.snap_master_db(master_db_); // audio has not started: no ramp
    }
    return built.warnings;
}

void RigController::send(const core::Command& command) {
    if (!engine_.try_send(command)) {
        throw ControlError("command queue full: the audio thread is not keeping up; try again");
    }
}

const RigController::Entry& RigController::find(std::string_view id) const {
    for (const Entry& e : entries_) {
        if (e.config.id == id) {
            return e;
        }
    }
    throw ControlError("no stage with id '" + std::string(id) + "'");
}

RigController::Entry& RigController::find(std::string_view id) {
    return const_cast<Entry&>(std::as_const(*this).find(id));
}

void RigController::set_param(std::string_view id, std::string_view param, float value) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    const std::size_t index = e.stage->find_param(param);
    if (index == core::Stage::npos) {
        throw ControlError("stage '" + std::string(id) + "' (" + e.config.type + ") has no parameter '" +
                           std::string(param) + "'");
    }
    check_param_value(e.stage->params()[index], value);
    send(core::Command{.type = core::Command::Type::set_param,
                       .stage = e.stage,
                       .index = static_cast<std::uint32_t>(index),
                       .value = value});
    e.config.params[index].second = value;
}

float RigController::param(std::string_view id, std::string_view param) const {
    std::lock_guard lock(mutex_);
    const Entry& e = find(id);
    for (const auto& [name, value] : e.config.params) {
        if (name == param) {
            return value;
        }
    }
    throw ControlError("stage '" + std::string(id) + "' (" + e.config.type + ") has no parameter '" +
                       std::string(param) + "'");
}

void RigController::set_bypass(std::string_view id, bool bypassed) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    send(core::Command{.type = core::Command::Type::set_bypass, .stage = e.stage, .value = bypassed ? 1.0f : 0.0f});
    e.config.bypass = bypassed;
}

bool RigController::bypass(std::string_view id) const {
    std::lock_guard lock(mutex_);
    return find(id).config.bypass;
}

void RigController::set_master_db(float db) {
    if (!std::isfinite(db) || db < kMasterMinDb || db > kMasterMaxDb) {
        std::ostringstream s;
        s << "master volume " << db << " dB is outside " << kMasterMinDb << ".." << kMasterMaxDb << " dB";
        throw ControlError(s.str());
    }
    std::lock_guard lock(mutex_);
    send(core::Command{.type = core::Command::Type::set_master_db, .value = db});
    master_db_ = db;
}

float RigController::master_db() const {
    std::lock_guard lock(mutex_);
    return master_db_;
}

void RigController::set_mute(bool muted) {
    std::lock_guard lock(mutex_);
    send(core::Command{.type = core::Command::Type::set_mute, .value = muted ? 1.0f : 0.0f});
    mute_ = muted;
}

bool RigController::mute() const {
    std::lock_guard lock(mutex_);
    return mute_;
}

std::vector<std::string> RigController::load_preset(const core::Preset& preset, bool allow_absolute_paths) {
    std::lock_guard lock(mutex_);
    core::BuiltChain built;
    auto entries = build_entries(preset, spec_, allow_absolute_paths, built);
    core::AmplifierChain* chain = built.chain.release();
    if (!engine_.try_send(core::Command{.type = core::Command::Type::swap_chain, .chain = chain})) {
        delete chain;
        throw ControlError("command queue full: the audio thread is not keeping up; try again");
    }
    entries_ = std::move(entries);
    oversample_ = preset.oversample;
    preset_name_ = preset.name;
    if (preset.master_db) {
        send(core::Command{.type = core::Command::Type::set_master_db, .value = *preset.master_db});
        master_db_ = *preset.master_db;
    }
    return built.warnings;
}

std::vector<std::string> RigController::reprepare(const core::ProcessSpec& spec) {
    std::lock_guard lock(mutex_);
    const core::Preset current = snapshot_locked();
    core::BuiltChain built;
    auto entries = build_entries(current, spec, true, built);
    core::AmplifierChain* chain = built.chain.release();
    if (!engine_.try_send(core::Command{.type = core::Command::Type::swap_chain, .chain = chain})) {
        delete chain;
        throw ControlError("command queue full while re-preparing");
    }
    entries_ = std::move(entries);
    spec_ = spec;
    return built.warnings;
}

std::size_t RigController::collect_retired() {
    std::size_t n = 0;
    while (auto r = engine_.try_pop_retired()) {
        ++n; // unique_ptr deletes it here, off the RT thread
    }
    return n;
}

core::Preset RigController::snapshot() const {
    std::lock_guard lock(mutex_);
    return snapshot_locked();
}

core::Preset RigController::snapshot_locked() const {
    core::Preset p;
    p.name = preset_name_;
    p.oversample = oversample_;
    p.master_db = master_db_;
    for (const Entry& e : entries_) {
        core::StageConfig c = e.config;
        std::erase_if(c.texts, [](const auto& t) { return t.second.empty(); });
        p.stages.push_back(std::move(c));
    }
    return p;
}

core::ProcessSpec RigController::spec() const {
    std::lock_guard lock(mutex_);
    return spec_;
}

std::vector<std::string> RigController::stage_ids() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> ids;
    for (const Entry& e : entries_) {
        ids.push_back(e.config.id);
    }
    return ids;
}

} // namespace rigd::control
