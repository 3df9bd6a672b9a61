#include "control/address_space.hpp"

#include "control/feedback.hpp"
#include "control/osc_sender.hpp"
#include "control/recorder.hpp"

#include <arpa/inet.h>
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


OscMessage value_reply(const std::string& path, float v) { return msg(path, {OscArg::of(v)}); }
OscMessage flag_reply(const std::string& path, bool on) {
    return msg(path, {OscArg::of(static_cast<std::int32_t>(on ? 1 : 0))});
}

std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '/') {
            ++i;
            continue;
        }
        const std::size_t j = s.find('/', i);
        out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
        i = j == std::string_view::npos ? s.size() : j;
    }
    return out;
}

using A = AddressSpace;
constexpr float kNo = 0.0f;

} // namespace

std::span<const AddressSpace::Route> AddressSpace::routes() {
// The one table. Order matters where two patterns could match the same
// address: the first wins (bypass and norm before <param>).
    static const A::Route kRoutes[] = {
    {"/rig/ping", "—", Access::query, false, kNo, kNo, false, &A::ping},
    {"/rig/status", "—", Access::query, false, kNo, kNo, false, &A::status},
    {"/rig/info", "—", Access::query, false, kNo, kNo, false, &A::info},
    {"/rig/dump", "—", Access::query, false, kNo, kNo, false, &A::dump_route},
    {"/rig/get", "s:address s:reply_url", Access::action, false, kNo, kNo, false, &A::get},
    {"/rig/subscribe", "[i:port or s:url] [i:lease_s]", Access::action, false, kNo, kNo, false, &A::subscribe},
    {"/rig/unsubscribe", "[i:port or s:url]", Access::action, false, kNo, kNo, false, &A::unsubscribe},
    {"/rig/master/volume", "[f dB]", Access::value, true, RigController::kMasterMinDb, RigController::kMasterMaxDb,
     false, &A::master_volume},
    {"/rig/master/mute", "[i 0/1]", Access::value, true, 0.0f, 1.0f, true, &A::master_mute},
    {"/rig/bypass", "[i 0/1]", Access::value, true, 0.0f, 1.0f, true, &A::rig_bypass},
    {"/rig/oversample", "[i 1,2,4,8,16]", Access::value, false, kNo, kNo, false, &A::oversample},
    {"/rig/tuner", "[i 0/1]", Access::value, true, 0.0f, 1.0f, true, &A::tuner},
    {"/rig/stage/<id>/bypass", "[i 0/1]", Access::value, true, 0.0f, 1.0f, true, &A::stage_bypass},
    {"/rig/stage/<id>/<param>/norm", "[f 0..1]", Access::value, true, kNo, kNo, false, &A::stage_norm},
    {"/rig/stage/<id>/<param>", "[f] or [s file name]", Access::value, true, kNo, kNo, false, &A::stage_param},
    {"/rig/chain/list", "—", Access::query, false, kNo, kNo, false, &A::chain_list},
    {"/rig/chain/add", "s:type s:id [i:position]", Access::action, false, kNo, kNo, false, &A::chain_add},
    {"/rig/chain/remove", "s:id", Access::action, false, kNo, kNo, false, &A::chain_remove},
    {"/rig/chain/move", "s:id i:position", Access::action, false, kNo, kNo, false, &A::chain_move},
    {"/rig/chain/replace", "s:id s:type", Access::action, false, kNo, kNo, false, &A::chain_replace},
    {"/rig/models/list", "—", Access::query, false, kNo, kNo, false, &A::models_list},
    {"/rig/irs/list", "—", Access::query, false, kNo, kNo, false, &A::irs_list},
    {"/rig/presets/list", "—", Access::query, false, kNo, kNo, false, &A::presets_list},
    {"/rig/preset/list", "—", Access::query, false, kNo, kNo, false, &A::presets_list},
    {"/rig/preset/load", "s:name or i:index", Access::action, false, kNo, kNo, false, &A::preset_load},
    {"/rig/preset/next", "—", Access::action, false, kNo, kNo, false, &A::preset_step},
    {"/rig/preset/prev", "—", Access::action, false, kNo, kNo, false, &A::preset_step},
    {"/rig/preset/save", "[s:name] [i:overwrite]", Access::action, false, kNo, kNo, false, &A::preset_save},
    {"/rig/preset/current", "—", Access::query, false, kNo, kNo, false, &A::preset_current},
    {"/rig/preset/delete", "s:name", Access::action, false, kNo, kNo, false, &A::preset_delete},
    {"/rig/midi/learn", "s:address", Access::action, false, kNo, kNo, false, &A::midi_learn},
    {"/rig/midi/list", "—", Access::query, false, kNo, kNo, false, &A::midi_list},
    {"/rig/debug/chain", "—", Access::query, false, kNo, kNo, false, &A::debug_chain},
    {"/rig/record", "—", Access::query, false, kNo, kNo, false, &A::record_state},
    {"/rig/record/start", "[s:name]", Access::action, false, kNo, kNo, false, &A::record_start},
    {"/rig/record/stop", "—", Access::action, false, kNo, kNo, false, &A::record_stop},
    {"/rig/record/toggle", "[any]", Access::action, true, 0.0f, 1.0f, true, &A::record_toggle},
};

    return kRoutes;
}

const AddressSpace::Route* AddressSpace::match(std::string_view address, std::vector<std::string>& parts) {
    parts = split(address);
    if (address.empty() || address.front() != '/' || address.back() == '/' ||
        address.find("//") != std::string_view::npos) {
        return nullptr;
    }
    for (const Route& r : routes()) {
        const auto pattern = split(r.address);
        if (pattern.size() != parts.size()) {
            continue;
        }
        bool ok = true;
        for (std::size_t i = 0; i < pattern.size() && ok; ++i) {
            ok = pattern[i].front() == '<' ? !parts[i].empty() : pattern[i] == parts[i];
        }
        if (ok) {
            return &r;
        }
    }
    return nullptr;
}

std::string AddressSpace::stage_address(std::string_view id, std::string_view leaf) {
    return "/rig/stage/" + std::string(id) + "/" + std::string(leaf);
}

AddressSpace::AddressSpace(RigController& rig, PresetManager& presets, const Library& library, Feedback* feedback,
                           Hooks hooks)
    : rig_(rig), presets_(presets), library_(library), feedback_(feedback), hooks_(std::move(hooks)) {}

std::vector<OscMessage> AddressSpace::handle(const OscMessage& message) { return handle(Request{message, {}, {}, {}}); }

std::vector<OscMessage> AddressSpace::handle(const Request& request) {
    std::vector<std::string> parts;
    const Route* route = match(request.message.path, parts);
    if (route == nullptr) {
        if (request.message.path.rfind(kStagePrefix, 0) == 0) {
            throw ControlError("expected /rig/stage/<id>/<param> or /rig/stage/<id>/<param>/norm");
        }
        throw ControlError("unknown address");
    }
    if (route->access == Access::query) {
        expect_args(request.message, 0, 0);
    }
    return (this->*(route->handler))(request, parts);
}

RigController::ErrorSink AddressSpace::late_errors(const Request& r) const {
    if (!r.later) {
        return {};
    }
    return [later = r.later, address = r.message.path](const std::string& message) {
        later(msg("/rig/error", {OscArg::of(address), OscArg::of(message)}));
    };
}

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

std::vector<OscMessage> AddressSpace::dump() {
    // Every value route, read bare: globals once, stage routes per stage.
    std::vector<OscMessage> out;
    for (const Route& r : routes()) {
        if (r.access != Access::value) {
            continue;
        }
        const auto pattern = split(r.address);
        if (r.address.find('<') == std::string_view::npos) {
            auto replies = (this->*(r.handler))(Request{msg(std::string(r.address)), {}, {}, {}}, pattern);
            out.insert(out.end(), replies.begin(), replies.end());
        }
    }
    for (const auto& s : rig_.stages()) {
        out.push_back(flag_reply(stage_address(s.id, "bypass"), s.bypass));
        for (std::size_t i = 0; i < s.infos.size(); ++i) {
            out.push_back(value_reply(stage_address(s.id, s.infos[i].name), s.values[i]));
            out.push_back(value_reply(stage_address(s.id, std::string(s.infos[i].name) + "/norm"),
                                      to_norm(s.infos[i], s.values[i])));
        }
        for (const auto& [name, value] : s.texts) {
            out.push_back(msg(stage_address(s.id, name), {OscArg::of(value)}));
        }
    }
    out.push_back(current_preset());
    return out;
}

std::vector<OscMessage> AddressSpace::ping(const Request&, const std::vector<std::string>&) {
    return {msg("/rig/pong")};
}

std::vector<OscMessage> AddressSpace::status(const Request& r, const std::vector<std::string>&) {
    const Status s = hooks_.status ? hooks_.status() : Status{};
    return {msg(r.message.path, {OscArg::of(s.dsp_load_percent), OscArg::of(static_cast<std::int32_t>(s.xruns)),
                                 OscArg::of(static_cast<std::int32_t>(s.sample_rate_hz)),
                                 OscArg::of(static_cast<std::int32_t>(s.period_frames))})};
}

std::vector<OscMessage> AddressSpace::info(const Request& r, const std::vector<std::string>&) {
    return {msg(r.message.path, hooks_.info ? hooks_.info() : std::vector<OscArg>{})};
}

std::vector<OscMessage> AddressSpace::dump_route(const Request&, const std::vector<std::string>&) { return dump(); }

std::string AddressSpace::checked_url(const std::string& url) const {
    // Numeric only: resolving a name would block the control loop.
    std::string reason;
    const auto endpoint = OscSender::parse_url(url, &reason);
    if (!endpoint) {
        throw ControlError(reason);
    }
    char numeric[INET6_ADDRSTRLEN] = {};
    const auto& a = endpoint->address;
    const void* raw = a.ss_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(a).sin_addr)
                                             : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr);
    // Replies go only to the networks we take orders from.
    if (inet_ntop(a.ss_family, raw, numeric, sizeof numeric) == nullptr ||
        (hooks_.allowed && !hooks_.allowed(numeric))) {
        throw ControlError("'" + url + "' is outside the allowed networks");
    }
    return endpoint->url;
}

std::vector<OscMessage> AddressSpace::get(const Request& r, const std::vector<std::string>&) {
    const auto& in = r.message;
    if (in.args.size() != 2 || in.args[0].type != OscArg::Type::string || in.args[1].type != OscArg::Type::string) {
        throw ControlError("/rig/get takes s:address s:reply_url");
    }
    const std::string target = checked_url(in.args[1].s);
    const std::string& address = in.args[0].s;
    std::vector<std::string> parts;
    const Route* route = match(address, parts);
    if (route == nullptr || route->access == Access::action) {
        throw ControlError("/rig/get: '" + address + "' is not a value that can be read");
    }
    auto send = [this, target](const OscMessage& m) {
        if (hooks_.send) {
            hooks_.send(target, m);
        }
    };
    try {
        for (const auto& m : handle(Request{msg(address), r.source_url, r.source_host, send})) {
            send(m);
        }
    } catch (const ControlError& e) {
        send(msg("/rig/error", {OscArg::of(address), OscArg::of(std::string(e.what()))}));
    }
    return {};
}

std::vector<OscMessage> AddressSpace::subscribe(const Request& r, const std::vector<std::string>&) {
    if (feedback_ == nullptr) {
        throw ControlError("feedback is not enabled");
    }
    const auto& in = r.message;
    const bool sub = in.path == "/rig/subscribe";
    const std::size_t max_args = sub ? 2 : 1;
    if (in.args.size() > max_args) {
        throw ControlError(in.path + " takes at most " + std::to_string(max_args) + " arguments");
    }
    std::string url = r.source_url;
    if (!in.args.empty()) {
        if (in.args[0].type == OscArg::Type::string) {
            url = checked_url(in.args[0].s);
        } else {
            const int p = in.args[0].type == OscArg::Type::int32 ? in.args[0].i : -1;
            if (p < 1 || p > 65535) {
                throw ControlError(in.path + ": expected a port 1-65535 (int) or an osc.udp:// URL");
            }
            const std::string& host = r.source_host;
            url = std::string("osc.udp://") + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                  std::to_string(p) + "/";
        }
    }
    if (url.empty()) {
        throw ControlError(in.path + ": no address to send feedback to");
    }
    if (!sub) {
        if (!feedback_->unsubscribe(url)) {
            throw ControlError("'" + url + "' is not subscribed");
        }
        return {};
    }
    int lease = Feedback::kDefaultLeaseS;
    if (in.args.size() == 2) {
        if (in.args[1].type != OscArg::Type::int32 || in.args[1].i < 1 || in.args[1].i > Feedback::kMaxLeaseS) {
            throw ControlError("/rig/subscribe: lease must be a whole number of seconds 1.." +
                               std::to_string(Feedback::kMaxLeaseS));
        }
        lease = in.args[1].i;
    }
    feedback_->subscribe(url, lease);
    return {};
}

std::vector<OscMessage> AddressSpace::unsubscribe(const Request& r, const std::vector<std::string>& parts) {
    return subscribe(r, parts);
}

std::vector<OscMessage> AddressSpace::master_volume(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 0, 1);
    if (r.message.args.empty()) {
        return {value_reply("/rig/master/volume", rig_.master_db())};
    }
    rig_.set_master_db(static_cast<float>(number(r.message, 0)));
    return {};
}

std::vector<OscMessage> AddressSpace::master_mute(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 0, 1);
    if (r.message.args.empty()) {
        return {flag_reply("/rig/master/mute", rig_.mute())};
    }
    rig_.set_mute(number(r.message, 0) != 0.0);
    return {};
}

std::vector<OscMessage> AddressSpace::rig_bypass(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 0, 1);
    if (r.message.args.empty()) {
        return {flag_reply("/rig/bypass", rig_.rig_bypass())};
    }
    rig_.set_rig_bypass(number(r.message, 0) != 0.0);
    return {};
}

std::vector<OscMessage> AddressSpace::tuner(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 0, 1);
    if (r.message.args.empty()) {
        return {flag_reply("/rig/tuner", rig_.tuner())};
    }
    rig_.set_tuner(number(r.message, 0) != 0.0);
    return {};
}

std::vector<OscMessage> AddressSpace::oversample(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 0, 1);
    if (r.message.args.empty()) {
        return {msg("/rig/oversample", {OscArg::of(static_cast<std::int32_t>(rig_.oversample()))})};
    }
    rig_.set_oversample(whole(r.message, 0), late_errors(r));
    return {};
}

std::vector<std::string> AddressSpace::stage_ids(const std::string& pattern, bool setting) const {
    std::vector<std::string> ids;
    if (has_wildcard(pattern)) {
        if (!setting) {
            throw ControlError("a stage id pattern ('" + pattern + "') can only be used when setting");
        }
        for (const auto& id : rig_.stage_ids()) {
            if (lo_pattern_match(id.c_str(), pattern.c_str()) != 0) {
                ids.push_back(id);
            }
        }
        if (ids.empty()) {
            throw ControlError("no stage id matches '" + pattern + "'");
        }
    } else {
        ids.push_back(pattern);
    }
    return ids;
}

std::vector<OscMessage> AddressSpace::stage_bypass(const Request& r, const std::vector<std::string>& parts) {
    expect_args(r.message, 0, 1);
    const bool get = r.message.args.empty();
    std::vector<OscMessage> replies;
    for (const auto& id : stage_ids(parts[2], !get)) {
        if (get) {
            replies.push_back(flag_reply(stage_address(id, "bypass"), rig_.bypass(id)));
        } else {
            rig_.set_bypass(id, number(r.message, 0) != 0.0);
        }
    }
    return replies;
}

std::vector<OscMessage> AddressSpace::stage_norm(const Request& r, const std::vector<std::string>& parts) {
    expect_args(r.message, 0, 1);
    const bool get = r.message.args.empty();
    const std::string& param = parts[3];
    std::vector<OscMessage> replies;
    for (const auto& id : stage_ids(parts[2], !get)) {
        const auto info = rig_.param_info(id, param);
        if (get) {
            replies.push_back(value_reply(stage_address(id, param + "/norm"), to_norm(info, rig_.param(id, param))));
        } else {
            const double n = number(r.message, 0);
            if (!(n >= 0.0 && n <= 1.0)) {
                throw ControlError(param + "/norm: " + std::to_string(n) + " is outside 0..1");
            }
            rig_.set_param(id, param, from_norm(info, static_cast<float>(n)));
        }
    }
    return replies;
}

std::vector<OscMessage> AddressSpace::stage_param(const Request& r, const std::vector<std::string>& parts) {
    expect_args(r.message, 0, 1);
    const bool get = r.message.args.empty();
    const std::string& leaf = parts[3];
    std::vector<OscMessage> replies;
    for (const auto& id : stage_ids(parts[2], !get)) {
        if (rig_.has_text_param(id, leaf)) {
            if (get) {
                replies.push_back(msg(stage_address(id, leaf), {OscArg::of(rig_.text(id, leaf))}));
            } else {
                rig_.set_text(id, leaf, text(r.message, 0), late_errors(r));
            }
            continue;
        }
        if (get) {
            replies.push_back(value_reply(stage_address(id, leaf), rig_.param(id, leaf)));
        } else {
            rig_.set_param(id, leaf, static_cast<float>(number(r.message, 0)));
        }
    }
    return replies;
}

std::vector<OscMessage> AddressSpace::chain_list(const Request&, const std::vector<std::string>&) {
    const auto& stages = rig_.stages();
    std::vector<OscMessage> out{msg("/rig/chain/list", {OscArg::of(static_cast<std::int32_t>(stages.size()))})};
    for (std::size_t i = 0; i < stages.size(); ++i) {
        out.push_back(msg("/rig/chain/item", {OscArg::of(static_cast<std::int32_t>(i)), OscArg::of(stages[i].id),
                                              OscArg::of(stages[i].type),
                                              OscArg::of(static_cast<std::int32_t>(stages[i].bypass ? 1 : 0))}));
    }
    return out;
}

std::vector<OscMessage> AddressSpace::chain_add(const Request& r, const std::vector<std::string>&) {
    const auto& in = r.message;
    expect_args(in, 2, 3);
    std::optional<std::size_t> pos;
    if (in.args.size() == 3) {
        const int v = whole(in, 2);
        if (v < 0) {
            throw ControlError("position must not be negative");
        }
        pos = static_cast<std::size_t>(v);
    }
    rig_.add_stage(text(in, 0), text(in, 1), pos, late_errors(r));
    return {};
}

std::vector<OscMessage> AddressSpace::chain_remove(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 1, 1);
    rig_.remove_stage(text(r.message, 0));
    return {};
}

std::vector<OscMessage> AddressSpace::chain_move(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 2, 2);
    const int v = whole(r.message, 1);
    if (v < 0) {
        throw ControlError("position must not be negative");
    }
    rig_.move_stage(text(r.message, 0), static_cast<std::size_t>(v));
    return {};
}

std::vector<OscMessage> AddressSpace::chain_replace(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 2, 2);
    rig_.replace_stage(text(r.message, 0), text(r.message, 1), late_errors(r));
    return {};
}

std::vector<OscMessage> AddressSpace::models_list(const Request&, const std::vector<std::string>&) {
    return list_reply("/rig/models/list", library_.list("models", ".nam"));
}

std::vector<OscMessage> AddressSpace::irs_list(const Request&, const std::vector<std::string>&) {
    return list_reply("/rig/irs/list", library_.list("irs", ".wav"));
}

std::vector<OscMessage> AddressSpace::presets_list(const Request&, const std::vector<std::string>&) {
    return list_reply("/rig/presets/list", presets_.names());
}

std::vector<OscMessage> AddressSpace::preset_load(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 1, 1);
    if (r.message.args[0].is_number()) {
        presets_.request_load_index(whole(r.message, 0), late_errors(r));
    } else {
        presets_.request_load(r.message.args[0].s, late_errors(r));
    }
    return {};
}

std::vector<OscMessage> AddressSpace::preset_step(const Request& r, const std::vector<std::string>& parts) {
    expect_args(r.message, 0, 0);
    presets_.request_step(parts.back() == "next" ? 1 : -1, late_errors(r));
    return {};
}

std::vector<OscMessage> AddressSpace::preset_save(const Request& r, const std::vector<std::string>&) {
    const auto& in = r.message;
    expect_args(in, 0, 2);
    std::optional<std::string> name;
    bool overwrite = false;
    if (!in.args.empty()) {
        name = text(in, 0);
    }
    if (in.args.size() == 2) {
        overwrite = number(in, 1) != 0.0;
    }
    // The reply (/rig/preset/current, or /rig/error) comes when the file is written.
    presets_.save(name, overwrite, [this, later = r.later](const std::string& error) {
        if (!later) {
            return;
        }
        later(error.empty() ? current_preset()
                            : msg("/rig/error", {OscArg::of(std::string("/rig/preset/save")), OscArg::of(error)}));
    });
    return {};
}

std::vector<OscMessage> AddressSpace::preset_current(const Request&, const std::vector<std::string>&) {
    return {current_preset()};
}

std::vector<OscMessage> AddressSpace::preset_delete(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 1, 1);
    presets_.remove(text(r.message, 0), late_errors(r));
    return {};
}

std::vector<OscMessage> AddressSpace::midi_learn(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 1, 1);
    if (!hooks_.midi_learn) {
        throw ControlError("MIDI is not enabled");
    }
    const std::string& address = text(r.message, 0);
    std::vector<std::string> parts;
    const Route* route = match(address, parts);
    if (route == nullptr || !route->learnable || has_wildcard(address)) {
        throw ControlError("cannot map MIDI to '" + address + "'");
    }
    float min = route->min;
    float max = route->max;
    bool toggle = route->toggle;
    if (route->handler == &A::stage_param || route->handler == &A::stage_norm) {
        const std::string& id = parts[2];
        const std::string& param = parts[3];
        if (rig_.has_text_param(id, param)) {
            throw ControlError("cannot map MIDI to '" + address + "': it takes a file name");
        }
        const auto info = rig_.param_info(id, param); // throws for unknown stage/param
        if (route->handler == &A::stage_param) {
            min = info.min;
            max = info.max;
        } else {
            min = 0.0f;
            max = 1.0f;
        }
        toggle = info.kind == core::ParamKind::toggle;
    } else if (route->handler == &A::stage_bypass) {
        (void)rig_.bypass(parts[2]); // throws for an unknown stage
    }
    hooks_.midi_learn(address, min, max, toggle);
    return {};
}

std::vector<OscMessage> AddressSpace::midi_list(const Request&, const std::vector<std::string>&) {
    if (!hooks_.midi_list) {
        throw ControlError("MIDI is not enabled");
    }
    return hooks_.midi_list();
}

std::vector<OscMessage> AddressSpace::debug_chain(const Request& r, const std::vector<std::string>&) {
    // Asks the audio thread itself; the answer comes through the report queue.
    if (!r.later) {
        throw ControlError("/rig/debug/chain needs a sender to answer to");
    }
    rig_.query_audio_chain([later = r.later](std::vector<std::string> ids, bool idle) {
        std::vector<OscArg> args{OscArg::of(static_cast<std::int32_t>(idle ? 1 : 0))};
        for (auto& id : ids) {
            args.push_back(OscArg::of(std::move(id)));
        }
        later(OscMessage{"/rig/debug/chain", std::move(args)});
    });
    return {};
}

OscMessage AddressSpace::record_message(const RecordState& s) {
    return msg("/rig/record", {OscArg::of(static_cast<std::int32_t>(s.recording ? 1 : 0)),
                               OscArg::of(static_cast<float>(s.seconds)), OscArg::of(s.file),
                               OscArg::of(static_cast<std::int32_t>(s.dropped_blocks))});
}

std::vector<OscMessage> AddressSpace::record_state(const Request&, const std::vector<std::string>&) {
    return {record_message(hooks_.recorder != nullptr ? hooks_.recorder->state() : RecordState{})};
}

std::vector<OscMessage> AddressSpace::record_start(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 0, 1);
    if (hooks_.recorder == nullptr || !hooks_.record_start) {
        throw ControlError("recording is not enabled");
    }
    hooks_.record_start(r.message.args.empty() ? std::string() : text(r.message, 0));
    return {};
}

std::vector<OscMessage> AddressSpace::record_stop(const Request& r, const std::vector<std::string>&) {
    expect_args(r.message, 0, 0);
    if (hooks_.recorder == nullptr) {
        throw ControlError("recording is not enabled");
    }
    hooks_.recorder->stop();
    return {};
}

std::vector<OscMessage> AddressSpace::record_toggle(const Request& r, const std::vector<std::string>&) {
    // Every message flips, whatever its argument: a latching footswitch
    // mapped by MIDI learn sends one per press.
    expect_args(r.message, 0, 1);
    if (hooks_.recorder == nullptr || !hooks_.record_start) {
        throw ControlError("recording is not enabled");
    }
    if (hooks_.recorder->recording()) {
        hooks_.recorder->stop();
    } else {
        hooks_.record_start(std::string());
    }
    return {};
}

} // namespace rigd::control
