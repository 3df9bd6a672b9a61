#include "control/rig_controller.hpp"

#include "control/preset_file.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <spdlog/spdlog.h>

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

// std::function must be copyable: a unique_ptr travels in a shared box.
template <typename T>
std::shared_ptr<std::unique_ptr<T>> box(std::unique_ptr<T> p) {
    return std::make_shared<std::unique_ptr<T>>(std::move(p));
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

struct RigController::Build {
    std::uint64_t id = 0;
    core::Preset preset;
    std::string file;
    bool replaces_model = false; // a preset load (else a rebuild of the current rig)
    bool allow_absolute = false;
    std::uint64_t structure_at = 0;
    core::ProcessSpec spec{};
    std::vector<core::StageHandle> handles;
    ErrorSink on_error;
    std::function<void(const std::vector<std::string>&)> done;
};

struct RigController::StageBuild {
    std::string id;
    core::StageHandle handle; // the handle the built stage will have
    std::optional<std::pair<std::size_t, std::string>> text;
    std::optional<StageView> previous; // restored when a type change fails
    ErrorSink on_error;
};

Executors Executors::inline_for_testing() {
    return Executors{[](std::function<void()> f) { f(); }, [](std::function<void()> f) { f(); }};
}

RigController::RigController(core::Engine& engine, const core::StageFactory& factory, const Library& library,
                             Executors executors)
    : engine_(engine), factory_(factory), library_(library), exec_(std::move(executors)) {}

RigController::~RigController() {
    // Commands never sent: what they would have handed over is ours.
    for (const core::Command& c : outbox_) {
        delete c.fresh;
        delete c.chain;
    }
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

RigController::StageView RigController::prototype(const core::StageConfig& config) const {
    std::unique_ptr<core::Stage> stage;
    try {
        stage = factory_.create(config.type); // constructs only: no prepare, no file
    } catch (const core::UnknownStageType& e) {
        throw ControlError("stage '" + config.id + "': " + e.what());
    }
    StageView v;
    v.id = config.id;
    v.type = config.type;
    v.bypass = config.bypass;
    const auto infos = stage->params();
    for (std::size_t p = 0; p < infos.size(); ++p) {
        v.infos.push_back(infos[p]); // static descriptions (param_info.hpp)
        float value = stage->param(p);
        for (const auto& [name, given] : config.params) {
            if (name == infos[p].name) {
                value = given;
            }
        }
        v.values.push_back(value);
    }
    for (const auto& t : stage->text_params()) {
        std::string value;
        for (const auto& [name, given] : config.texts) {
            if (name == t.name) {
                value = given;
            }
        }
        v.texts.emplace_back(std::string(t.name), value);
        v.texts_playing.push_back(value);
    }
    return v;
}

core::StageConfig RigController::config_of(const StageView& e) const {
    core::StageConfig c;
    c.id = e.id;
    c.type = e.type;
    c.bypass = e.bypass;
    for (std::size_t p = 0; p < e.infos.size(); ++p) {
        c.params.emplace_back(std::string(e.infos[p].name), e.values[p]);
    }
    for (const auto& t : e.texts) {
        if (!t.second.empty()) {
            c.texts.push_back(t);
        }
    }
    return c;
}

std::vector<std::string> RigController::start(const core::Preset& preset, const core::ProcessSpec& spec,
                                              std::string file, bool allow_absolute_paths) {
    std::vector<core::StageHandle> handles;
    for (std::size_t i = 0; i < preset.stages.size(); ++i) {
        handles.push_back(next_handle());
    }
    core::BuiltChain built;
    try {
        built = core::build_chain(preset, factory_, spec, resolver(allow_absolute_paths), handles);
    } catch (const core::ChainBuildError& e) {
        throw ControlError(std::string("preset '") + preset.name + "': " + e.what());
    }
    entries_.clear();
    for (std::size_t i = 0; i < preset.stages.size(); ++i) {
        StageView v = prototype(preset.stages[i]);
        v.texts.clear();
        for (const auto& t : built.stages[i]->text_params()) {
            std::string value;
            for (const auto& [name, given] : preset.stages[i].texts) {
                if (name == t.name) {
                    value = given;
                }
            }
            v.texts.emplace_back(std::string(t.name), value);
            v.texts_playing.push_back(value);
        }
        v.handle = handles[i];
        v.live = true;
        entries_.push_back(std::move(v));
    }
    spec_ = spec;
    oversample_ = preset.oversample;
    preset_name_ = preset.name;
    preset_file_ = std::move(file);
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

void RigController::edited() {
    dirty_ = true;
    ++edits_;
}

void RigController::chain_changed() {
    edited();
    ++structure_;
    if (listener_ != nullptr) {
        listener_->reloaded();
    }
}

void RigController::send_ordered(core::Command c) {
    if (outbox_.empty() && engine_.try_send(c)) {
        return;
    }
    if (outbox_.size() >= kMaxOutbox) {
        delete c.fresh;
        delete c.chain;
        throw ControlError("the audio thread is not taking commands (" + std::to_string(kMaxOutbox) +
                           " waiting); try again");
    }
    ++stats_.outbox_waits;
    outbox_.push_back(c); // sent by pump(), in order
}

void RigController::send_value(core::StageHandle h, std::uint32_t index, float value) {
    const auto key = std::make_pair(h.value, index);
    if (outbox_.empty() && !pending_values_.contains(key)) {
        const core::Command c = h.valid() ? core::Command{.type = core::Command::Type::set_param,
                                                          .stage = h,
                                                          .index = index,
                                                          .value = value}
                                          : core::Command{.type = core::Command::Type::set_master_db, .value = value};
        if (engine_.try_send(c)) {
            return;
        }
    }
    if (pending_values_.contains(key)) {
        ++stats_.sets_coalesced;
    }
    pending_values_[key] = value; // the newest value wins
}

void RigController::pump() {
    while (!outbox_.empty() && engine_.try_send(outbox_.front())) {
        outbox_.pop_front();
    }
    if (outbox_.empty()) {
        for (auto it = pending_values_.begin(); it != pending_values_.end();) {
            const core::StageHandle h{it->first.first};
            const core::Command c = h.valid() ? core::Command{.type = core::Command::Type::set_param,
                                                              .stage = h,
                                                              .index = it->first.second,
                                                              .value = it->second}
                                              : core::Command{.type = core::Command::Type::set_master_db,
                                                              .value = it->second};
            if (!engine_.try_send(c)) {
                break;
            }
            it = pending_values_.erase(it);
        }
    }
    while (const auto r = engine_.try_pop_report()) {
        if (r->kind == core::EngineReport::Kind::chain) {
            const auto q = chain_queries_.find(r->seq);
            if (q == chain_queries_.end()) {
                continue;
            }
            std::vector<std::string> ids;
            for (std::uint32_t i = 0; i < r->count; ++i) {
                const StageView* e = find_by_handle(r->stages[i]);
                ids.push_back(e != nullptr ? e->id : "?");
            }
            auto reply = std::move(q->second);
            chain_queries_.erase(q);
            reply(std::move(ids), r->idle && outbox_.empty());
        } else if (r->kind == core::EngineReport::Kind::rejected) {
            // By design this cannot happen (the engine defers what it cannot
            // do yet and handles are never reused); if it does, say so loudly.
            ++stats_.rejected_by_audio;
            spdlog::error("the audio thread refused a chain edit (command {}): please report this",
                          static_cast<int>(r->command));
        }
    }
    while (auto retired = engine_.try_pop_retired()) {
        discard(std::move(retired));
    }
}

void RigController::discard(std::unique_ptr<core::Retirable> object) {
    // Freeing an IR's spectra or a model's weights takes a while: not here.
    auto b = box(std::move(object));
    exec_.work([b] { b->reset(); });
}

void RigController::discard(std::unique_ptr<core::Stage> stage) {
    auto b = box(std::move(stage));
    exec_.work([b] { b->reset(); });
}

void RigController::query_audio_chain(std::function<void(std::vector<std::string>, bool)> reply) {
    const std::uint32_t seq = ++seq_;
    chain_queries_[seq] = std::move(reply);
    send_ordered(core::Command{.type = core::Command::Type::report_chain, .seq = seq});
}

bool RigController::has_pending_work() const noexcept {
    return !outbox_.empty() || !pending_values_.empty() || !stage_builds_.empty() || chain_build_ != nullptr ||
           queued_build_ != nullptr;
}

const RigController::StageView& RigController::find(std::string_view id) const {
    for (const StageView& e : entries_) {
        if (e.id == id) {
            return e;
        }
    }
    throw ControlError("no stage with id '" + std::string(id) + "'");
}

RigController::StageView& RigController::find(std::string_view id) {
    return const_cast<StageView&>(std::as_const(*this).find(id));
}

RigController::StageView* RigController::find_by_handle(core::StageHandle h) {
    for (StageView& e : entries_) {
        if (e.live && e.handle == h) {
            return &e;
        }
    }
    return nullptr;
}

std::size_t RigController::param_index(const StageView& e, std::string_view param) const {
    for (std::size_t i = 0; i < e.infos.size(); ++i) {
        if (e.infos[i].name == param) {
            return i;
        }
    }
    throw ControlError("stage '" + e.id + "' (" + e.type + ") has no parameter '" + std::string(param) + "'");
}

core::StageHandle RigController::anchor_after(std::size_t index) const {
    for (std::size_t j = index + 1; j < entries_.size(); ++j) {
        if (entries_[j].live) {
            return entries_[j].handle;
        }
    }
    return core::kNoStage;
}

void RigController::set_param(std::string_view id, std::string_view param, float value) {
    StageView& e = find(id);
    const std::size_t index = param_index(e, param);
    check_param_value(e.infos[index], value);
    e.values[index] = value;
    if (e.live) {
        send_value(e.handle, static_cast<std::uint32_t>(index), value);
    } // else: the stage being built gets the model's values when it arrives
    edited();
    if (listener_ != nullptr) {
        listener_->param_changed(e.id, e.infos[index], value);
    }
}

float RigController::param(std::string_view id, std::string_view param) const {
    const StageView& e = find(id);
    return e.values[param_index(e, param)];
}

core::ParamInfo RigController::param_info(std::string_view id, std::string_view param) const {
    const StageView& e = find(id);
    return e.infos[param_index(e, param)];
}

void RigController::set_bypass(std::string_view id, bool bypassed) {
    StageView& e = find(id);
    e.bypass = bypassed;
    if (e.live) {
        send_ordered(core::Command{.type = core::Command::Type::set_bypass,
                                   .stage = e.handle,
                                   .value = bypassed ? 1.0f : 0.0f});
    }
    edited();
    if (listener_ != nullptr) {
        listener_->bypass_changed(e.id, bypassed);
    }
}

bool RigController::bypass(std::string_view id) const { return find(id).bypass; }

bool RigController::has_text_param(std::string_view id, std::string_view name) const {
    const StageView& e = find(id);
    return std::any_of(e.texts.begin(), e.texts.end(), [&](const auto& t) { return t.first == name; });
}

std::string RigController::text(std::string_view id, std::string_view name) const {
    const StageView& e = find(id);
    for (const auto& [n, v] : e.texts) {
        if (n == name) {
            return v;
        }
    }
    throw ControlError("stage '" + e.id + "' (" + e.type + ") has no file parameter '" + std::string(name) + "'");
}

void RigController::supersede_stage_builds(const std::string& id) {
    for (auto& [number, b] : stage_builds_) {
        if (b.id == id) {
            b.id.clear(); // its result is discarded when it comes
            ++stats_.builds_superseded;
        }
    }
}

void RigController::build_stage_async(const StageView& e, std::optional<std::pair<std::size_t, std::string>> text,
                                      std::optional<StageView> previous, ErrorSink on_error) {
    if (stage_builds_.size() >= kMaxPendingBuilds) {
        throw ControlError("too many stage builds pending (" + std::to_string(kMaxPendingBuilds) + "); try again");
    }
    if (!text) {
        supersede_stage_builds(e.id); // a new type or a new stage: older builds are moot
    } // file changes apply in order: a failing newer file leaves the older one playing
    const std::uint64_t number = ++builds_;
    stage_builds_[number] =
        StageBuild{e.id, next_handle(), text, std::move(previous), std::move(on_error)};
    core::StageConfig config = config_of(e);
    config.texts.clear();
    std::vector<std::pair<std::size_t, std::string>> texts;
    for (std::size_t t = 0; t < e.texts.size(); ++t) {
        std::string value = text && text->first == t ? text->second : e.texts[t].second;
        if (!value.empty()) {
            texts.emplace_back(t, std::move(value));
        }
    }
    const std::optional<std::size_t> changed = text ? std::optional<std::size_t>(text->first) : std::nullopt;
    const bool allow_absolute = allow_absolute_;
    exec_.work([this, number, config, texts, changed, allow_absolute, spec = stage_spec()] {
        std::unique_ptr<core::Stage> stage;
        std::string error;
        try {
            std::vector<std::string> warnings;
            stage = core::build_stage(config, factory_, spec, resolver(false), warnings);
            for (const auto& [t, value] : texts) {
                const auto info = stage->text_params()[t];
                try {
                    // A name given over OSC resolves inside its folder only;
                    // the other files of the stage came from its preset.
                    const auto path = library_.resolve(info.folder, value, changed == t ? false : allow_absolute);
                    stage->set_text(t, value, path);
                } catch (const ControlError& ex) {
                    throw ControlError(ex.what());
                } catch (const std::exception& ex) {
                    throw ControlError(std::string(info.name) + " '" + value + "': " + ex.what());
                }
            }
        } catch (const core::ChainBuildError& ex) {
            error = ex.what();
            stage.reset();
        } catch (const std::exception& ex) {
            error = ex.what();
            stage.reset();
        }
        auto b = box(std::move(stage));
        exec_.post([this, number, b, error] { stage_built(number, std::move(*b), error); });
    });
}

void RigController::apply_values(core::Stage& stage, const StageView& e) const {
    // The stage is not live yet: setting it directly is safe.
    for (std::size_t p = 0; p < e.values.size() && p < stage.params().size(); ++p) {
        stage.set_param(p, e.values[p]);
    }
}

void RigController::stage_built(std::uint64_t number, std::unique_ptr<core::Stage> stage, const std::string& error) {
    const auto it = stage_builds_.find(number);
    if (it == stage_builds_.end()) {
        discard(std::move(stage));
        return;
    }
    StageBuild b = std::move(it->second);
    stage_builds_.erase(it);
    const auto e_it = std::find_if(entries_.begin(), entries_.end(), [&](const StageView& v) { return v.id == b.id; });
    if (b.id.empty() || e_it == entries_.end()) {
        discard(std::move(stage)); // superseded, or the stage left meanwhile
        run_settled();
        return;
    }
    StageView& e = *e_it;
    if (!error.empty() || !stage) {
        const bool newer_file_pending =
            b.text && std::any_of(stage_builds_.begin(), stage_builds_.end(), [&](const auto& other) {
                return other.second.id == b.id && other.second.text && other.second.text->first == b.text->first;
            });
        if (b.text && !newer_file_pending) {
            const std::size_t t = b.text->first;
            e.texts[t].second = e.texts_playing[t]; // the old file keeps playing
            if (listener_ != nullptr) {
                listener_->text_changed(e.id, e.texts[t].first, e.texts[t].second);
            }
        }
        if (b.previous) {
            const bool live = e.live;
            const core::StageHandle h = e.handle;
            e = std::move(*b.previous); // the type change did not happen
            e.live = live;
            e.handle = h;
            chain_changed();
        } else if (!e.live) {
            const std::string id = e.id;
            entries_.erase(e_it); // the added stage never existed
            chain_changed();
        }
        if (b.on_error) {
            b.on_error(error.empty() ? std::string("stage '") + b.id + "' could not be built" : error);
        }
        run_settled();
        return;
    }
    apply_values(*stage, e);
    const std::size_t index = static_cast<std::size_t>(e_it - entries_.begin());
    if (b.text) {
        e.texts_playing[b.text->first] = b.text->second;
    }
    core::Stage* raw = stage.release();
    if (e.live) {
        pending_values_.erase(pending_values_.lower_bound({e.handle.value, 0}),
                              pending_values_.lower_bound({e.handle.value + 1, 0}));
        send_ordered(core::Command{.type = core::Command::Type::replace_stage,
                                   .stage = e.handle,
                                   .fresh_handle = b.handle,
                                   .fresh = raw});
    } else {
        send_ordered(core::Command{.type = core::Command::Type::insert_stage,
                                   .fresh_handle = b.handle,
                                   .anchor = anchor_after(index),
                                   .fresh = raw,
                                   .value = e.bypass ? 1.0f : 0.0f});
    }
    e.handle = b.handle;
    e.live = true;
    run_settled();
}

void RigController::set_text(std::string_view id, std::string_view name, std::string_view value, ErrorSink on_error) {
    const StageView& e = find(id);
    std::size_t index = e.texts.size();
    for (std::size_t t = 0; t < e.texts.size(); ++t) {
        if (e.texts[t].first == name) {
            index = t;
        }
    }
    if (index == e.texts.size()) {
        throw ControlError("stage '" + e.id + "' (" + e.type + ") has no file parameter '" + std::string(name) +
                           "'");
    }
    StageView& m = find(id);
    m.texts[index].second = std::string(value);
    try {
        build_stage_async(m, std::make_pair(index, std::string(value)), std::nullopt, std::move(on_error));
    } catch (...) {
        m.texts[index].second = m.texts_playing[index];
        throw;
    }
    edited();
    if (listener_ != nullptr) {
        // (When the build already finished and failed, this is the revert.)
        listener_->text_changed(m.id, m.texts[index].first, m.texts[index].second);
    }
}

void RigController::add_stage(std::string_view type, std::string_view id, std::optional<std::size_t> position,
                              ErrorSink on_error) {
    if (!is_valid_stage_id(id)) {
        throw ControlError("stage id '" + std::string(id) + "': use letters, digits, '_' or '-' (1-32 characters)");
    }
    if (std::any_of(entries_.begin(), entries_.end(), [&](const StageView& e) { return e.id == id; })) {
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
    StageView v = prototype(core::StageConfig{std::string(id), std::string(type), false, {}, {}});
    const auto at = entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(pos), std::move(v));
    try {
        build_stage_async(*at, std::nullopt, std::nullopt, std::move(on_error));
    } catch (...) {
        entries_.erase(at);
        throw;
    }
    chain_changed();
}

void RigController::remove_stage(std::string_view id) {
    StageView& e = find(id);
    if (e.live) {
        send_ordered(core::Command{.type = core::Command::Type::remove_stage, .stage = e.handle});
        pending_values_.erase(pending_values_.lower_bound({e.handle.value, 0}),
                              pending_values_.lower_bound({e.handle.value + 1, 0}));
    }
    supersede_stage_builds(e.id);
    entries_.erase(entries_.begin() + (&e - entries_.data()));
    chain_changed();
}

void RigController::move_stage(std::string_view id, std::size_t position) {
    StageView& e = find(id);
    if (position >= entries_.size()) {
        throw ControlError("position " + std::to_string(position) + " is outside 0.." +
                           std::to_string(entries_.size() - 1));
    }
    const auto from = static_cast<std::size_t>(&e - entries_.data());
    if (from == position) {
        return;
    }
    StageView moved = std::move(entries_[from]);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(from));
    entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(position), std::move(moved));
    const StageView& now = entries_[position];
    if (now.live) {
        send_ordered(core::Command{.type = core::Command::Type::move_stage,
                                   .stage = now.handle,
                                   .anchor = anchor_after(position)});
    }
    chain_changed();
}

void RigController::replace_stage(std::string_view id, std::string_view type, ErrorSink on_error) {
    StageView& e = find(id);
    StageView fresh = prototype(core::StageConfig{e.id, std::string(type), e.bypass, {}, {}});
    StageView previous = e;
    fresh.handle = e.handle;
    fresh.live = e.live;
    e = std::move(fresh);
    try {
        build_stage_async(e, std::nullopt, previous, std::move(on_error));
    } catch (...) {
        e = std::move(previous); // refused: the model keeps what plays
        throw;
    }
    chain_changed();
}

std::vector<std::string> RigController::stage_ids() const {
    std::vector<std::string> ids;
    for (const StageView& e : entries_) {
        ids.push_back(e.id);
    }
    return ids;
}

void RigController::set_master_db(float db) {
    if (!std::isfinite(db) || db < kMasterMinDb || db > kMasterMaxDb) {
        std::ostringstream s;
        s << "master volume " << db << " dB is outside " << kMasterMinDb << ".." << kMasterMaxDb << " dB";
        throw ControlError(s.str());
    }
    send_value(core::kNoStage, 0, db);
    master_db_ = db;
    edited();
    if (listener_ != nullptr) {
        listener_->master_changed(db);
    }
}

void RigController::set_mute(bool muted) {
    send_ordered(core::Command{.type = core::Command::Type::set_mute, .value = muted ? 1.0f : 0.0f});
    mute_ = muted;
    if (listener_ != nullptr) {
        listener_->flag_changed(RigListener::Flag::mute, muted);
    }
}

void RigController::set_rig_bypass(bool bypassed) {
    send_ordered(core::Command{.type = core::Command::Type::set_rig_bypass, .value = bypassed ? 1.0f : 0.0f});
    rig_bypass_ = bypassed;
    if (listener_ != nullptr) {
        listener_->flag_changed(RigListener::Flag::rig_bypass, bypassed);
    }
}

void RigController::set_tuner(bool on) {
    send_ordered(core::Command{.type = core::Command::Type::set_tuner, .value = on ? 1.0f : 0.0f});
    tuner_ = on;
    if (listener_ != nullptr) {
        listener_->flag_changed(RigListener::Flag::tuner, on);
    }
}

void RigController::set_oversample(int factor, ErrorSink on_error) {
    if (factor != 1 && factor != 2 && factor != 4 && factor != 8 && factor != 16) {
        throw ControlError("oversample " + std::to_string(factor) + ": expected 1, 2, 4, 8 or 16");
    }
    if (factor == oversample_) {
        return;
    }
    oversample_ = factor;
    edited();
    ++structure_;
    start_chain_build(snapshot(), preset_file_, false, std::move(on_error), {});
    if (listener_ != nullptr) {
        listener_->oversample_changed(factor);
    }
}

void RigController::load_preset(core::Preset preset, std::string file, ErrorSink on_error,
                                std::function<void(const std::vector<std::string>&)> done) {
    start_chain_build(std::move(preset), std::move(file), true, std::move(on_error), std::move(done));
}

std::optional<std::string> RigController::pending_preset_file() const {
    if (queued_build_ && queued_build_->replaces_model) {
        return queued_build_->file;
    }
    if (chain_build_ && chain_build_->replaces_model && !queued_build_) {
        return chain_build_->file;
    }
    return std::nullopt;
}

void RigController::reprepare(const core::ProcessSpec& spec) {
    spec_.sample_rate_hz = spec.sample_rate_hz;
    spec_.max_block_size = spec.max_block_size;
    ++structure_; // a running rebuild at the old spec is stale
    start_chain_build(snapshot(), preset_file_, false, {}, {});
}

void RigController::start_chain_build(core::Preset preset, std::string file, bool replaces_model, ErrorSink on_error,
                                      std::function<void(const std::vector<std::string>&)> done) {
    auto b = std::make_unique<Build>();
    b->preset = std::move(preset);
    b->file = std::move(file);
    b->replaces_model = replaces_model;
    b->allow_absolute = replaces_model ? false : allow_absolute_;
    b->on_error = std::move(on_error);
    b->done = std::move(done);
    if (chain_build_) {
        if (queued_build_) {
            ++stats_.builds_superseded;
            // A rebuild request never displaces a preset load still to come.
            if (queued_build_->replaces_model && !b->replaces_model) {
                return;
            }
        }
        queued_build_ = std::move(b); // the newest waits; older waiting ones are dropped
        return;
    }
    b->id = ++builds_;
    b->structure_at = structure_;
    b->spec = spec_;
    for (std::size_t i = 0; i < b->preset.stages.size(); ++i) {
        b->handles.push_back(next_handle());
    }
    chain_build_ = std::move(b);
    const Build& job = *chain_build_;
    exec_.work([this, id = job.id, preset = job.preset, spec = job.spec, handles = job.handles,
                allow_absolute = job.allow_absolute] {
        core::BuiltChain built;
        std::string error;
        try {
            built = core::build_chain(preset, factory_, spec, resolver(allow_absolute), handles);
        } catch (const std::exception& e) {
            error = std::string("preset '") + preset.name + "': " + e.what();
        }
        auto chain = std::make_shared<core::BuiltChain>(std::move(built));
        exec_.post([this, id, chain, error] { chain_built(id, std::move(*chain), error); });
    });
}

void RigController::chain_built(std::uint64_t id, core::BuiltChain built, std::string error) {
    if (!chain_build_ || chain_build_->id != id) {
        discard(std::move(built.chain));
        return;
    }
    std::unique_ptr<Build> b = std::move(chain_build_);
    if (queued_build_) {
        // A newer request came while this one built: it wins.
        ++stats_.builds_superseded;
        discard(std::move(built.chain));
        std::unique_ptr<Build> next = std::move(queued_build_);
        if (!next->replaces_model) {
            next->preset = snapshot(); // a rebuild builds what the model is now
        }
        start_chain_build(std::move(next->preset), std::move(next->file), next->replaces_model,
                          std::move(next->on_error), std::move(next->done));
        return;
    }
    if (!error.empty()) {
        if (b->on_error) {
            b->on_error(error);
        } else {
            spdlog::error("{}", error);
        }
        run_settled();
        return;
    }
    if (!b->replaces_model && b->structure_at != structure_) {
        // The chain changed shape while it was rebuilt: build it again.
        discard(std::move(built.chain));
        start_chain_build(snapshot(), preset_file_, false, std::move(b->on_error), std::move(b->done));
        return;
    }
    // Stages of the old chain stop taking values; the new ones carry them.
    for (auto it = pending_values_.begin(); it != pending_values_.end();) {
        it = it->first.first != 0 ? pending_values_.erase(it) : std::next(it);
    }
    if (b->replaces_model) {
        entries_.clear();
        stage_builds_.clear();
        for (std::size_t i = 0; i < b->preset.stages.size(); ++i) {
            StageView v = prototype(b->preset.stages[i]);
            v.handle = b->handles[i];
            v.live = true;
            entries_.push_back(std::move(v));
        }
        preset_name_ = b->preset.name;
        preset_file_ = b->file;
        preset_midi_ = b->preset.midi;
        oversample_ = b->preset.oversample;
        allow_absolute_ = false;
        ++structure_;
        dirty_ = false;
    } else {
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            apply_values(*built.stages[i], entries_[i]); // edits made while it built
            if (built.chain->bypassed_at(i) != entries_[i].bypass) {
                (void)built.chain->set_bypass(b->handles[i], entries_[i].bypass);
            }
            entries_[i].handle = b->handles[i];
            entries_[i].live = true;
        }
    }
    send_ordered(core::Command{.type = core::Command::Type::swap_chain, .chain = built.chain.release()});
    if (b->replaces_model) {
        if (b->preset.master_db) {
            master_db_ = *b->preset.master_db;
            send_value(core::kNoStage, 0, master_db_);
        }
        if (listener_ != nullptr) {
            listener_->reloaded();
        }
    }
    if (b->done) {
        b->done(built.warnings);
    }
    run_settled();
}

void RigController::when_settled(std::function<void()> fn) {
    if (!chain_build_ && !queued_build_) {
        fn();
        return;
    }
    settled_.push_back(std::move(fn));
}

void RigController::run_settled() {
    if (chain_build_ || queued_build_) {
        return;
    }
    auto waiting = std::move(settled_);
    settled_.clear();
    for (auto& fn : waiting) {
        fn();
    }
}

core::Preset RigController::snapshot() const {
    core::Preset p;
    p.name = preset_name_;
    p.oversample = oversample_;
    p.master_db = master_db_;
    p.midi = preset_midi_;
    for (const StageView& e : entries_) {
        p.stages.push_back(config_of(e));
    }
    return p;
}

void RigController::mark_saved(std::string file, std::string name, std::uint64_t generation) {
    preset_file_ = std::move(file);
    preset_name_ = std::move(name);
    if (generation == edits_) {
        dirty_ = false;
    }
}

} // namespace rigd::control
