#include "control/address_space.hpp"

#include <lo/lo_lowlevel.h>

#include <cmath>

namespace rigd::control {

namespace {

constexpr std::string_view kStagePrefix = "/rig/stage/";

OscMessage msg(std::string path, std::vector<OscArg> args = {}) { return OscMessage{std::move(path), std::move(args)}; }

void expect_args(const OscMessage& m, std::size_t min, std::size_t max) {
    if (m.args.size() < min || m.args.size() > max) {
        if (max == 0) {
            throw ControlError(m.path + " takes no arguments");
        }
        if (min == max) {
            throw ControlError(m.path + " takes " + std::to_string(min) + " argument" + (min == 1 ? "" : "s") +
                               ", got " + std::to_string(m.args.size()));
        }
        throw ControlError(m.path + " takes " + (min == 0 ? "at most " + std::to_string(max) :
                                                 std::to_string(min) + " to " + std::to_string(max)) +
                           " argument" + (max == 1 ? "" : "s") + ", got " + std::to_string(m.args.size()));
    }
}

double number(const OscMessage& m, std::size_t i) {
    if (!m.args[i].is_number()) {
        throw ControlError(m.path + " expects a number as argument " + std::to_string(i + 1) + ", got a string");
    }
    return m.args[i].number();
}

int whole(const OscMessage& m, std::size_t i) {
    const double v = number(m, i);
    if (v != std::floor(v) || std::fabs(v) > 1e6) {
        throw ControlError(m.path + " expects a whole number as argument " + std::to_string(i + 1));
    }
    return static_cast<int>(v);
}

const std::string& text(const OscMessage& m, std::size_t i) {
    if (m.args[i].type != OscArg::Type::string) {
        throw ControlError(m.path + " expects a string as argument " + std::to_string(i + 1) + ", got a number");
    }
    return m.args[i].s;
}

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[{") != std::string::npos; }

} // namespace

AddressSpace::AddressSpace(RigController& rig, PresetManager& presets, const Library& library, Hooks hooks)
    : rig_(rig), presets_(presets), library_(library), hooks_(std::move(hooks)) {}

std::vector<OscMessage> AddressSpace::list_reply(const std::string& path, const std::vector<std::string>& items) const {
    std::vector<OscMessage> out;
    out.push_back(msg(path, {OscArg::of(static_cast<std::int32_t>(items.size()))}));
    const std::string item = path.substr(0, path.rfind('/')) + "/item";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out.push_back(msg(item, {OscArg::of(static_cast<std::int32_t>(i)), OscArg::of(items[i])}));
    }
    return out;
}

OscMessage AddressSpace::current_preset() const {
    const auto c = presets_.current();
    return msg("/rig/preset/current", {OscArg::of(c.name.empty() ? rig_.preset_name() : c.name),
                                       OscArg::of(static_cast<std::int32_t>(c.index)),
                                       OscArg::of(static_cast<std::int32_t>(c.dirty ? 1 : 0))});
}

std::vector<OscMessage> AddressSpace::dump() const {
    auto out = rig_.dump();
    out.push_back(current_preset());
    return out;
}

std::vector<OscMessage> AddressSpace::handle(const OscMessage& in, const PresetManager::ErrorSink& late_error) {
    const std::string& p = in.path;
    auto toggle = [&](auto set, auto get) -> std::vector<OscMessage> {
        expect_args(in, 0, 1);
        if (in.args.empty()) {
            return {msg(p, {OscArg::of(static_cast<std::int32_t>(get() ? 1 : 0))})};
        }
        set(number(in, 0) != 0.0);
        return {};
    };

    if (p == "/rig/ping") {
        expect_args(in, 0, 0);
        return {msg("/rig/pong")};
    }
    if (p == "/rig/status") {
        expect_args(in, 0, 0);
        const Status s = hooks_.status ? hooks_.status() : Status{};
        return {msg(p, {OscArg::of(s.dsp_load_percent), OscArg::of(static_cast<std::int32_t>(s.xruns)),
                        OscArg::of(static_cast<std::int32_t>(s.sample_rate_hz)),
                        OscArg::of(static_cast<std::int32_t>(s.period_frames))})};
    }
    if (p == "/rig/info") {
        expect_args(in, 0, 0);
        return {msg(p, hooks_.info ? hooks_.info() : std::vector<OscArg>{})};
    }
    if (p == "/rig/dump") {
        expect_args(in, 0, 0);
        return dump();
    }
    if (p == "/rig/master/volume") {
        expect_args(in, 0, 1);
        if (in.args.empty()) {
            return {msg(p, {OscArg::of(rig_.master_db())})};
        }
        rig_.set_master_db(static_cast<float>(number(in, 0)));
        return {};
    }
    if (p == "/rig/master/mute") {
        return toggle([&](bool v) { rig_.set_mute(v); }, [&] { return rig_.mute(); });
    }
    if (p == "/rig/bypass") {
        return toggle([&](bool v) { rig_.set_rig_bypass(v); }, [&] { return rig_.rig_bypass(); });
    }
    if (p == "/rig/tuner") {
        return toggle([&](bool v) { rig_.set_tuner(v); }, [&] { return rig_.tuner(); });
    }
    if (p == "/rig/oversample") {
        expect_args(in, 0, 1);
        if (in.args.empty()) {
            return {msg(p, {OscArg::of(static_cast<std::int32_t>(rig_.oversample()))})};
        }
        rig_.set_oversample(whole(in, 0));
        return {};
    }
    if (p == "/rig/models/list") {
        expect_args(in, 0, 0);
        return list_reply(p, library_.list("models", ".nam"));
    }
    if (p == "/rig/irs/list") {
        expect_args(in, 0, 0);
        return list_reply(p, library_.list("irs", ".wav"));
    }
    if (p == "/rig/presets/list" || p == "/rig/preset/list") {
        expect_args(in, 0, 0);
        return list_reply("/rig/presets/list", presets_.names());
    }
    if (p == "/rig/midi/learn") {
        expect_args(in, 1, 1);
        if (!hooks_.midi_learn) {
            throw ControlError("MIDI is not enabled");
        }
        const std::string& address = text(in, 0);
        float min = 0.0f;
        float max = 1.0f;
        bool is_toggle = true;
        const auto tail = address.rfind('/');
        if (address.rfind(kStagePrefix, 0) == 0 && tail != std::string::npos) {
            const std::string leaf = address.substr(tail + 1);
            const std::string id = address.substr(kStagePrefix.size(), tail - kStagePrefix.size());
            if (leaf != "bypass") {
                const auto info = rig_.param_info(id, leaf); // throws for unknown stage/param
                min = info.min;
                max = info.max;
                is_toggle = info.kind == core::ParamKind::toggle;
            } else {
                (void)rig_.bypass(id); // throws for an unknown stage
            }
        } else if (address == "/rig/master/volume") {
            min = RigController::kMasterMinDb;
            max = RigController::kMasterMaxDb;
            is_toggle = false;
        } else if (address != "/rig/master/mute" && address != "/rig/bypass" && address != "/rig/tuner") {
            throw ControlError("cannot map MIDI to '" + address + "'");
        }
        hooks_.midi_learn(address, min, max, is_toggle);
        return {};
    }
    if (p == "/rig/midi/list") {
        expect_args(in, 0, 0);
        if (!hooks_.midi_list) {
            throw ControlError("MIDI is not enabled");
        }
        return hooks_.midi_list();
    }
    if (p.rfind("/rig/chain/", 0) == 0) {
        return handle_chain(in, p.substr(11));
    }
    if (p.rfind("/rig/preset/", 0) == 0) {
        return handle_preset(in, p.substr(12), late_error);
    }
    if (p.rfind(kStagePrefix, 0) == 0) {
        const std::string rest = p.substr(kStagePrefix.size());
        const auto slash = rest.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()) {
            throw ControlError("expected /rig/stage/<id>/<param>");
        }
        return handle_stage(in, rest.substr(0, slash), rest.substr(slash + 1));
    }
    throw ControlError("unknown address");
}

std::vector<OscMessage> AddressSpace::handle_stage(const OscMessage& in, const std::string& id_pattern,
                                                   const std::string& leaf) {
    expect_args(in, 0, 1);
    std::vector<std::string> ids;
    if (has_wildcard(id_pattern)) {
        for (const auto& id : rig_.stage_ids()) {
            if (lo_pattern_match(id.c_str(), id_pattern.c_str()) != 0) {
                ids.push_back(id);
            }
        }
        if (ids.empty()) {
            throw ControlError("no stage id matches '" + id_pattern + "'");
        }
    } else {
        ids.push_back(id_pattern);
    }
    if (leaf.find('/') != std::string::npos && (leaf.size() < 5 || leaf.substr(leaf.size() - 5) != "/norm")) {
        throw ControlError("expected /rig/stage/<id>/<param> or /rig/stage/<id>/<param>/norm");
    }
    std::vector<OscMessage> replies;
    const bool get = in.args.empty();
    for (const auto& id : ids) {
        const std::string address = "/rig/stage/" + id + "/" + leaf;
        if (leaf == "bypass") {
            if (get) {
                replies.push_back(msg(address, {OscArg::of(static_cast<std::int32_t>(rig_.bypass(id) ? 1 : 0))}));
            } else {
                rig_.set_bypass(id, number(in, 0) != 0.0);
            }
            continue;
        }
        if (leaf.size() > 5 && leaf.substr(leaf.size() - 5) == "/norm") {
            const std::string param = leaf.substr(0, leaf.size() - 5);
            const auto info = rig_.param_info(id, param);
            if (get) {
                replies.push_back(msg(address, {OscArg::of(to_norm(info, rig_.param(id, param)))}));
            } else {
                const double n = number(in, 0);
                if (!(n >= 0.0 && n <= 1.0)) {
                    throw ControlError(param + "/norm: " + std::to_string(n) + " is outside 0..1");
                }
                rig_.set_param(id, param, from_norm(info, static_cast<float>(n)));
            }
            continue;
        }
        if (rig_.has_text_param(id, leaf)) {
            if (get) {
                replies.push_back(msg(address, {OscArg::of(rig_.text(id, leaf))}));
            } else {
                rig_.set_text(id, leaf, text(in, 0));
            }
            continue;
        }
        if (get) {
            replies.push_back(msg(address, {OscArg::of(rig_.param(id, leaf))}));
        } else {
            rig_.set_param(id, leaf, static_cast<float>(number(in, 0)));
        }
    }
    return replies;
}

std::vector<OscMessage> AddressSpace::handle_chain(const OscMessage& in, const std::string& verb) {
    if (verb == "list") {
        expect_args(in, 0, 0);
        const auto stages = rig_.stages();
        std::vector<OscMessage> out{msg("/rig/chain/list", {OscArg::of(static_cast<std::int32_t>(stages.size()))})};
        for (std::size_t i = 0; i < stages.size(); ++i) {
            out.push_back(msg("/rig/chain/item", {OscArg::of(static_cast<std::int32_t>(i)), OscArg::of(stages[i].id),
                                                  OscArg::of(stages[i].type),
                                                  OscArg::of(static_cast<std::int32_t>(stages[i].bypass ? 1 : 0))}));
        }
        return out;
    }
    if (verb == "add") {
        expect_args(in, 2, 3);
        std::optional<std::size_t> pos;
        if (in.args.size() == 3) {
            const int v = whole(in, 2);
            if (v < 0) {
                throw ControlError("position must not be negative");
            }
            pos = static_cast<std::size_t>(v);
        }
        rig_.add_stage(text(in, 0), text(in, 1), pos);
        return {};
    }
    if (verb == "remove") {
        expect_args(in, 1, 1);
        rig_.remove_stage(text(in, 0));
        return {};
    }
    if (verb == "move") {
        expect_args(in, 2, 2);
        const int v = whole(in, 1);
        if (v < 0) {
            throw ControlError("position must not be negative");
        }
        rig_.move_stage(text(in, 0), static_cast<std::size_t>(v));
        return {};
    }
    if (verb == "replace") {
        expect_args(in, 2, 2);
        rig_.replace_stage(text(in, 0), text(in, 1));
        return {};
    }
    throw ControlError("unknown address");
}

std::vector<OscMessage> AddressSpace::handle_preset(const OscMessage& in, const std::string& verb,
                                                    const PresetManager::ErrorSink& late_error) {
    if (verb == "load") {
        expect_args(in, 1, 1);
        if (in.args[0].is_number()) {
            presets_.request_load_index(whole(in, 0), late_error);
        } else {
            presets_.request_load(in.args[0].s, late_error);
        }
        return {};
    }
    if (verb == "next" || verb == "prev") {
        expect_args(in, 0, 0);
        presets_.request_step(verb == "next" ? 1 : -1, late_error);
        return {};
    }
    if (verb == "save") {
        expect_args(in, 0, 2);
        std::optional<std::string> name;
        bool overwrite = false;
        if (!in.args.empty()) {
            name = text(in, 0);
        }
        if (in.args.size() == 2) {
            overwrite = number(in, 1) != 0.0;
        }
        (void)presets_.save(name, overwrite);
        return {current_preset()};
    }
    if (verb == "current") {
        expect_args(in, 0, 0);
        return {current_preset()};
    }
    if (verb == "delete") {
        expect_args(in, 1, 1);
        presets_.remove(text(in, 0));
        return {};
    }
    throw ControlError("unknown address");
}

} // namespace rigd::control
