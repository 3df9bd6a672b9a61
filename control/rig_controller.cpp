#include "control/rig_controller.hpp"

#include "control/preset_file.hpp"

#include <algorithm>
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

std::string stage_address(std::string_view id, std::string_view leaf) {
    return "/rig/stage/" + std::string(id) + "/" + std::string(leaf);
}

OscMessage message(std::string path, OscArg arg) { return OscMessage{std::move(path), {std::move(arg)}}; }

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

float to_norm(const core::ParamInfo& info, float value) noexcept {
    return info.max > info.min ? (value - info.min) / (info.max - info.min) : 0.0f;
}

float from_norm(const core::ParamInfo& info, float norm) noexcept {
    float v = info.min + std::clamp(norm, 0.0f, 1.0f) * (info.max - info.min);
    if (info.kind != core::ParamKind::continuous) {
        v = std::round(v); // faders over choices and toggles land on a whole step
    }
    return std::clamp(v, info.min, info.max);
}

RigController::RigController(core::Engine& engine, const core::StageFactory& factory, const Library& library)
    : engine_(engine), factory_(factory), library_(library) {}

void RigController::set_listener(RigListener* listener) {
    std::lock_guard lock(mutex_);
    listener_ = listener;
}

void RigController::notify(const OscMessage& m) const {
    if (listener_ != nullptr) {
        listener_->changed(m);
    }
}

void RigController::notify_param(const Entry& e, std::size_t index) const {
    const auto& info = e.stage->params()[index];
    const float v = e.config.params[index].second;
    notify(message(stage_address(e.config.id, info.name), OscArg::of(v)));
    notify(message(stage_address(e.config.id, std::string(info.name) + "/norm"), OscArg::of(to_norm(info, v))));
}

core::PathResolver RigController::resolver(bool allow_absolute) const {
    return [this, allow_absolute](std::string_view folder, std::string_view name) {
        return library_.resolve(folder, name, allow_absolute);
    };
}

core::ProcessSpec RigController::stage_spec() const {
    core::ProcessSpec s = spec_;
    s.oversample = oversample_;
    return s;
}

RigController::Entry RigController::entry_for(const core::StageConfig& config, core::Stage* stage) {
    Entry e;
    e.stage = stage;
    e.config.id = config.id;
    e.config.type = config.type;
    e.config.bypass = config.bypass;
    // The stage is not live yet: reading it is safe here.
    const auto infos = stage->params();
    for (std::size_t p = 0; p < infos.size(); ++p) {
        e.config.params.emplace_back(std::string(infos[p].name), stage->param(p));
    }
    const auto texts = stage->text_params();
    for (const auto& t : texts) {
        std::string value;
        for (const auto& [name, v] : config.texts) {
            if (name == t.name) {
                value = v;
            }
        }
        e.config.texts.emplace_back(std::string(t.name), value);
    }
    return e;
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
        entries.push_back(entry_for(preset.stages[i], built.stages[i]));
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
    preset_midi_ = preset.midi;
    allow_absolute_ = allow_absolute_paths;
    dirty_ = false;
    engine_.prepare(spec, std::move(built.chain));
    if (preset.master_db) {
        master_db_ = *preset.master_db;
        engine_.snap_master_db(master_db_); // audio has not started: no ramp
    }
    return built.warnings;
}

void RigController::send(const core::Command& command) {
    if (!engine_.try_send(command)) {
        // Nothing was queued: what the command would have handed over is ours.
        delete command.fresh;
        delete command.chain;
        throw ControlError("command queue full: the audio thread is not keeping up; try again");
    }
}

void RigController::chain_changed() {
    dirty_ = true;
    if (listener_ != nullptr) {
        listener_->reloaded();
    }
}

std::unique_ptr<core::Stage> RigController::build_default_stage(const core::StageConfig& config) const {
    std::vector<std::string> warnings;
    try {
        return core::build_stage(config, factory_, stage_spec(), resolver(false), warnings);
    } catch (const core::ChainBuildError& ex) {
        throw ControlError(ex.what());
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

std::size_t RigController::param_index(const Entry& e, std::string_view param) const {
    const std::size_t index = e.stage->find_param(param);
    if (index == core::Stage::npos) {
        throw ControlError("stage '" + e.config.id + "' (" + e.config.type + ") has no parameter '" +
                           std::string(param) + "'");
    }
    return index;
}

void RigController::set_param(std::string_view id, std::string_view param, float value) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    const std::size_t index = param_index(e, param);
    check_param_value(e.stage->params()[index], value);
    send(core::Command{.type = core::Command::Type::set_param,
                       .stage = e.stage,
                       .index = static_cast<std::uint32_t>(index),
                       .value = value});
    e.config.params[index].second = value;
    dirty_ = true;
    notify_param(e, index);
}

float RigController::param(std::string_view id, std::string_view param) const {
    std::lock_guard lock(mutex_);
    const Entry& e = find(id);
    return e.config.params[param_index(e, param)].second;
}

core::ParamInfo RigController::param_info(std::string_view id, std::string_view param) const {
    std::lock_guard lock(mutex_);
    const Entry& e = find(id);
    return e.stage->params()[param_index(e, param)];
}

void RigController::set_bypass(std::string_view id, bool bypassed) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    send(core::Command{.type = core::Command::Type::set_bypass, .stage = e.stage, .value = bypassed ? 1.0f : 0.0f});
    e.config.bypass = bypassed;
    dirty_ = true;
    notify(message(stage_address(id, "bypass"), OscArg::of(bypassed ? 1 : 0)));
}

bool RigController::bypass(std::string_view id) const {
    std::lock_guard lock(mutex_);
    return find(id).config.bypass;
}

bool RigController::has_text_param(std::string_view id, std::string_view name) const {
    std::lock_guard lock(mutex_);
    return find(id).stage->find_text_param(name) != core::Stage::npos;
}

void RigController::set_text(std::string_view id, std::string_view name, std::string_view value) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    const std::size_t index = e.stage->find_text_param(name);
    if (index == core::Stage::npos) {
        throw ControlError("stage '" + e.config.id + "' (" + e.config.type + ") has no file parameter '" +
                           std::string(name) + "'");
    }
    // A new instance with the same settings and the new file, built and
    // prewarmed here; the chain crossfades to it.
    core::StageConfig config = e.config;
    config.texts[index].second = std::string(value);
    std::vector<std::string> warnings;
    std::unique_ptr<core::Stage> fresh;
    const auto folder = e.stage->text_params()[index].folder;
    const auto path = library_.resolve(folder, value, allow_absolute_); // throws ControlError
    fresh = core::build_stage(core::StageConfig{config.id, config.type, config.bypass, config.params, {}}, factory_,
                              stage_spec(), resolver(allow_absolute_), warnings);
    for (std::size_t t = 0; t < config.texts.size(); ++t) {
        const auto& [tname, tvalue] = config.texts[t];
        if (tvalue.empty()) {
            continue;
        }
        try {
            const auto p = t == index ? path : library_.resolve(fresh->text_params()[t].folder, tvalue, allow_absolute_);
            fresh->set_text(t, tvalue, p);
        } catch (const std::exception& ex) {
            throw ControlError(std::string(tname) + " '" + tvalue + "': " + ex.what());
        }
    }
    core::Stage* raw = fresh.release();
    send(core::Command{.type = core::Command::Type::replace_stage, .stage = e.stage, .fresh = raw});
    e.stage = raw;
    e.config.texts[index].second = std::string(value);
    dirty_ = true;
    notify(message(stage_address(id, name), OscArg::of(std::string(value))));
}

std::string RigController::text(std::string_view id, std::string_view name) const {
    std::lock_guard lock(mutex_);
    const Entry& e = find(id);
    for (const auto& [n, v] : e.config.texts) {
        if (n == name) {
            return v;
        }
    }
    throw ControlError("stage '" + e.config.id + "' (" + e.config.type + ") has no file parameter '" +
                       std::string(name) + "'");
}

void RigController::add_stage(std::string_view type, std::string_view id, std::optional<std::size_t> position) {
    std::lock_guard lock(mutex_);
    if (!is_valid_stage_id(id)) {
        throw ControlError("stage id '" + std::string(id) + "': use letters, digits, '_' or '-' (1-32 characters)");
    }
    if (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.config.id == id; })) {
        throw ControlError("a stage with id '" + std::string(id) + "' exists already");
    }
    if (entries_.size() >= core::AmplifierChain::kCapacity) {
        throw ControlError("the chain is full (64 stages)");
    }
    const std::size_t pos = position.value_or(entries_.size());
    if (pos > entries_.size()) {
        throw ControlError("position " + std::to_string(pos) + " is past the end of the chain (" +
                           std::to_string(entries_.size()) + " stages)");
    }
    const core::StageConfig config{std::string(id), std::string(type), false, {}, {}};
    core::Stage* raw = build_default_stage(config).release();
    send(core::Command{.type = core::Command::Type::insert_stage, .fresh = raw, .index = static_cast<std::uint32_t>(pos)});
    entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(pos), entry_for(config, raw));
    chain_changed();
}

void RigController::remove_stage(std::string_view id) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    send(core::Command{.type = core::Command::Type::remove_stage, .stage = e.stage});
    entries_.erase(entries_.begin() + (&e - entries_.data()));
    chain_changed();
}

void RigController::move_stage(std::string_view id, std::size_t position) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    if (position >= entries_.size()) {
        throw ControlError("position " + std::to_string(position) + " is outside 0.." +
                           std::to_string(entries_.size() - 1));
    }
    send(core::Command{.type = core::Command::Type::move_stage,
                       .stage = e.stage,
                       .index = static_cast<std::uint32_t>(position)});
    const auto from = static_cast<std::size_t>(&e - entries_.data());
    Entry moved = std::move(entries_[from]);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(from));
    entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(position), std::move(moved));
    chain_changed();
}

void RigController::replace_stage(std::string_view id, std::string_view type) {
    std::lock_guard lock(mutex_);
    Entry& e = find(id);
    const core::StageConfig config{e.config.id, std::string(type), e.config.bypass, {}, {}};
    core::Stage* raw = build_default_stage(config).release();
    send(core::Command{.type = core::Command::Type::replace_stage, .stage = e.stage, .fresh = raw});
    e = entry_for(config, raw);
    chain_changed();
}

std::vector<RigController::StageSummary> RigController::stages() const {
    std::lock_guard lock(mutex_);
    std::vector<StageSummary> out;
    for (const Entry& e : entries_) {
        out.push_back({e.config.id, e.config.type, e.config.bypass});
    }
    return out;
}

std::vector<std::string> RigController::stage_ids() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> ids;
    for (const Entry& e : entries_) {
        ids.push_back(e.config.id);
    }
    return ids;
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
    dirty_ = true;
    notify(message("/rig/master/volume", OscArg::of(db)));
}

float RigController::master_db() const {
    std::lock_guard lock(mutex_);
    return master_db_;
}

void RigController::set_flag(core::Command::Type type, bool& flag, const char* address, bool on) {
    std::lock_guard lock(mutex_);
    send(core::Command{.type = type, .value = on ? 1.0f : 0.0f});
    flag = on;
    notify(message(address, OscArg::of(on ? 1 : 0)));
}

void RigController::set_mute(bool muted) { set_flag(core::Command::Type::set_mute, mute_, "/rig/master/mute", muted); }

bool RigController::mute() const {
    std::lock_guard lock(mutex_);
    return mute_;
}

void RigController::set_rig_bypass(bool bypassed) {
    set_flag(core::Command::Type::set_rig_bypass, rig_bypass_, "/rig/bypass", bypassed);
}

bool RigController::rig_bypass() const {
    std::lock_guard lock(mutex_);
    return rig_bypass_;
}

void RigController::set_tuner(bool on) { set_flag(core::Command::Type::set_tuner, tuner_, "/rig/tuner", on); }

bool RigController::tuner() const {
    std::lock_guard lock(mutex_);
    return tuner_;
}

void RigController::set_oversample(int factor) {
    if (factor != 1 && factor != 2 && factor != 4 && factor != 8 && factor != 16) {
        throw ControlError("oversample " + std::to_string(factor) + ": expected 1, 2, 4, 8 or 16");
    }
    std::lock_guard lock(mutex_);
    if (factor == oversample_) {
        return;
    }
    core::Preset p = snapshot_locked();
    p.oversample = factor;
    (void)swap_in_chain(p, spec_, allow_absolute_);
    oversample_ = factor;
    dirty_ = true;
    notify(message("/rig/oversample", OscArg::of(factor)));
}

int RigController::oversample() const {
    std::lock_guard lock(mutex_);
    return oversample_;
}

std::vector<std::string> RigController::swap_in_chain(const core::Preset& preset, const core::ProcessSpec& spec,
                                                      bool allow_absolute) {
    core::BuiltChain built;
    auto entries = build_entries(preset, spec, allow_absolute, built);
    send(core::Command{.type = core::Command::Type::swap_chain, .chain = built.chain.release()});
    entries_ = std::move(entries);
    return built.warnings;
}

std::vector<std::string> RigController::load_preset(const core::Preset& preset, bool allow_absolute_paths) {
    std::vector<std::string> warnings;
    {
        std::lock_guard lock(mutex_);
        warnings = swap_in_chain(preset, spec_, allow_absolute_paths);
        oversample_ = preset.oversample;
        preset_name_ = preset.name;
        preset_midi_ = preset.midi;
        allow_absolute_ = allow_absolute_paths;
        if (preset.master_db) {
            send(core::Command{.type = core::Command::Type::set_master_db, .value = *preset.master_db});
            master_db_ = *preset.master_db;
        }
        dirty_ = false;
        if (listener_ != nullptr) {
            listener_->reloaded();
        }
    }
    return warnings;
}

std::vector<std::string> RigController::reprepare(const core::ProcessSpec& spec) {
    std::lock_guard lock(mutex_);
    const core::Preset current = snapshot_locked();
    auto warnings = swap_in_chain(current, spec, allow_absolute_);
    spec_ = spec;
    return warnings;
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
    p.midi = preset_midi_;
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

std::string RigController::preset_name() const {
    std::lock_guard lock(mutex_);
    return preset_name_;
}

bool RigController::dirty() const {
    std::lock_guard lock(mutex_);
    return dirty_;
}

void RigController::mark_saved(std::string name) {
    std::lock_guard lock(mutex_);
    preset_name_ = std::move(name);
    dirty_ = false;
}

std::vector<OscMessage> RigController::dump() const {
    std::lock_guard lock(mutex_);
    std::vector<OscMessage> out;
    out.push_back(message("/rig/master/volume", OscArg::of(master_db_)));
    out.push_back(message("/rig/master/mute", OscArg::of(mute_ ? 1 : 0)));
    out.push_back(message("/rig/bypass", OscArg::of(rig_bypass_ ? 1 : 0)));
    out.push_back(message("/rig/oversample", OscArg::of(oversample_)));
    out.push_back(message("/rig/tuner", OscArg::of(tuner_ ? 1 : 0)));
    for (const Entry& e : entries_) {
        out.push_back(message(stage_address(e.config.id, "bypass"), OscArg::of(e.config.bypass ? 1 : 0)));
        const auto infos = e.stage->params();
        for (std::size_t i = 0; i < infos.size(); ++i) {
            const float v = e.config.params[i].second;
            out.push_back(message(stage_address(e.config.id, infos[i].name), OscArg::of(v)));
            out.push_back(message(stage_address(e.config.id, std::string(infos[i].name) + "/norm"),
                                  OscArg::of(to_norm(infos[i], v))));
        }
        for (const auto& [name, value] : e.config.texts) {
            out.push_back(message(stage_address(e.config.id, name), OscArg::of(value)));
        }
    }
    return out;
}

} // namespace rigd::control
