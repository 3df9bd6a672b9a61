// rigd-soak: the load client of scripts/soak. Talks OSC to a running rigd
// for a given time, mixing everything a phone, a script and a footswitch
// board do at once, and checks the daemon at the end.
//
//   rigd-soak --port P --pid PID --presets DIR --jack NAME --midi-bin PATH --seconds S
//
// Phases: an idle baseline (xruns per minute with nothing happening), then
// the mix: parameter storms (/norm of every stage parameter the dump shows),
// chain edits (add/remove/move/replace), preset load/next/prev, named and
// unnamed saves, subscribe/unsubscribe, /rig/get with a reply URL, malformed
// packets (raw UDP) and MIDI (rigd-jack-midi, spawned). Prints operations per
// kind, RSS and open fds at start/middle/end, the checks, and a final
// "N passed, N failed"; exits 1 when a check failed.

#include "control/lo_arg_read.hpp"
#include "control/preset_file.hpp"
#include "core/stage_factory.hpp"

#include <lo/lo.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Reply {
    std::string path;
    std::vector<std::string> strings;
    std::vector<double> numbers;
};

struct Options {
    int port = 0;
    pid_t pid = 0;
    fs::path presets;
    std::string jack;
    std::string midi_bin;
    double seconds = 60.0;
    unsigned seed = 1;
};

// A liblo endpoint with its own socket: replies and feedback come back here.
class Endpoint {
public:
    explicit Endpoint(int target_port) {
        server_ = lo_server_new_with_proto(nullptr, LO_UDP, [](int, const char*, const char*) {});
        lo_server_add_method(server_, nullptr, nullptr, &Endpoint::on_message, this);
        target_ = lo_address_new("127.0.0.1", std::to_string(target_port).c_str());
    }
    ~Endpoint() {
        lo_address_free(target_);
        lo_server_free(server_);
    }
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;

    void send(const char* path, lo_message m) {
        lo_send_message_from(target_, server_, path, m);
        lo_message_free(m);
    }
    void send(const char* path) { send(path, lo_message_new()); }
    // Reads what arrived for up to `wait`; returns every message.
    std::vector<Reply> pump(std::chrono::milliseconds wait) {
        const auto until = Clock::now() + wait;
        do {
            while (lo_server_recv_noblock(server_, 1) > 0) {
            }
        } while (Clock::now() < until);
        std::vector<Reply> out;
        out.swap(inbox_);
        return out;
    }
    // Sends and waits until a message with `reply` arrives (others are kept
    // in `seen`); nullopt after the timeout.
    std::optional<Reply> ask(const char* path, lo_message m, const std::string& reply, std::vector<Reply>* seen = nullptr,
                             std::chrono::milliseconds timeout = 3000ms) {
        send(path, m);
        const auto until = Clock::now() + timeout;
        std::optional<Reply> found;
        while (Clock::now() < until) {
            lo_server_recv_noblock(server_, 5);
            for (auto& r : inbox_) {
                if (!found && r.path == reply) {
                    found = r;
                } else if (seen != nullptr) {
                    seen->push_back(r);
                }
            }
            inbox_.clear();
            if (found) {
                return found;
            }
        }
        return std::nullopt;
    }
    [[nodiscard]] int port() const { return lo_server_get_port(server_); }

private:
    static int on_message(const char* path, const char* types, lo_arg** argv, int argc, lo_message, void* user) {
        auto* self = static_cast<Endpoint*>(user);
        Reply r{path, {}, {}};
        for (int i = 0; i < argc; ++i) {
            switch (types[i]) {
            case LO_STRING:
            case LO_SYMBOL:
                r.strings.emplace_back(rigd::control::lo_arg_string(argv[i]));
                break;
            case LO_FLOAT:
                r.numbers.push_back(rigd::control::lo_arg_value<float>(argv[i]));
                break;
            case LO_INT32:
                r.numbers.push_back(rigd::control::lo_arg_value<std::int32_t>(argv[i]));
                break;
            default:
                break;
            }
        }
        if (self->inbox_.size() < 100000) {
            self->inbox_.push_back(std::move(r));
        }
        return 0;
    }
    lo_server server_ = nullptr;
    lo_address target_ = nullptr;
    std::vector<Reply> inbox_;
};

lo_message msg_s(const std::string& a) {
    lo_message m = lo_message_new();
    lo_message_add_string(m, a.c_str());
    return m;
}
lo_message msg_ss(const std::string& a, const std::string& b) {
    lo_message m = msg_s(a);
    lo_message_add_string(m, b.c_str());
    return m;
}

struct Sample {
    long rss_kb = 0;
    long fds = 0;
};

Sample sample(pid_t pid) {
    Sample s;
    std::ifstream st("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(st, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rss_kb = std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        ++s.fds;
    }
    return s;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

class Soak {
public:
    explicit Soak(Options o) : o_(std::move(o)), osc_(o_.port), sub_(o_.port), rng_(o_.seed) {}

    int run() {
        if (!osc_.ask("/rig/ping", lo_message_new(), "/rig/pong")) {
            std::printf("rigd does not answer /rig/ping on port %d\n", o_.port);
            return 1;
        }
        raw_ = ::socket(AF_INET, SOCK_DGRAM, 0);
        // Idle baseline: a tenth of the time, 10..60 s.
        const double idle_s = std::clamp(o_.seconds * 0.1, 10.0, 60.0);
        const double load_s = std::max(10.0, o_.seconds - idle_s);
        settle_on_reference();
        const auto x0 = xruns();
        std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
        const auto x1 = xruns();
        const Sample start = sample(o_.pid);

        const auto t0 = Clock::now();
        const auto end = t0 + std::chrono::duration<double>(load_s);
        bool middle_taken = false;
        Sample middle;
        auto next_midi = t0 + 2s;
        while (Clock::now() < end && alive(o_.pid)) {
            step();
            if (Clock::now() >= next_midi) {
                midi();
                next_midi = Clock::now() + 3s;
            }
            if (!middle_taken && Clock::now() >= t0 + std::chrono::duration<double>(load_s / 2)) {
                middle = sample(o_.pid);
                middle_taken = true;
            }
        }
        const double load_min = std::chrono::duration<double>(Clock::now() - t0).count() / 60.0;
        const auto x2 = xruns();
        reap_midi(true);
        const bool up = alive(o_.pid);
        check(up, "rigd is still running after the load (no crash)");
        if (!up) {
            return finish();
        }
        settle_on_reference();
        const Sample last = sample(o_.pid);

        std::printf("\noperations:\n");
        for (const auto& [k, n] : ops_) {
            std::printf("  %-22s %8lu\n", k.c_str(), n);
        }
        std::printf("  %-22s %8lu (refusals are expected: random edits)\n", "/rig/error replies", errors_);
        std::printf("\n            RSS (kB)  open fds\n");
        std::printf("  start   %10ld  %8ld\n  middle  %10ld  %8ld\n  end     %10ld  %8ld\n", start.rss_kb, start.fds,
                    middle.rss_kb, middle.fds, last.rss_kb, last.fds);
        const double idle_rate = (x0 && x1) ? static_cast<double>(*x1 - *x0) / (idle_s / 60.0) : -1.0;
        const double load_rate = (x1 && x2) ? static_cast<double>(*x2 - *x1) / load_min : -1.0;
        std::printf("\nxruns per minute: idle %.2f, under load %.2f\n", idle_rate, load_rate);

        // Bounds: the same preset at start and end; allocator caches and
        // FFTW plans may grow a little, a leak per operation grows without end.
        const long rss_bound = std::max(32L * 1024, start.rss_kb / 4);
        check(last.rss_kb - start.rss_kb <= rss_bound,
              "RSS flat: end - start = " + std::to_string(last.rss_kb - start.rss_kb) + " kB <= " +
                  std::to_string(rss_bound) + " kB");
        check(last.fds - start.fds <= 4,
              "open fds flat: end - start = " + std::to_string(last.fds - start.fds) + " <= 4");
        check_presets();
        check_chain();
        check(osc_.ask("/rig/ping", lo_message_new(), "/rig/pong").has_value(), "rigd answers /rig/ping at the end");
        return finish();
    }

private:
    int finish() {
        std::printf("%d passed, %d failed\n", passed_, failed_);
        return failed_ == 0 ? 0 : 1;
    }

    void check(bool ok, const std::string& what) {
        std::printf("%s %s\n", ok ? "PASS" : "FAIL", what.c_str());
        (ok ? passed_ : failed_)++;
    }

    std::optional<long> xruns() {
        auto r = osc_.ask("/rig/status", lo_message_new(), "/rig/status");
        if (!r || r->numbers.size() < 2) {
            return std::nullopt;
        }
        return static_cast<long>(r->numbers[1]);
    }

    void count(const std::string& kind, unsigned long n = 1) { ops_[kind] += n; }

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    float uniform() { return std::uniform_real_distribution<float>(0.0f, 1.0f)(rng_); }

    void absorb(const std::vector<Reply>& rs) {
        for (const auto& r : rs) {
            if (r.path == "/rig/error") {
                ++errors_;
            }
        }
    }

    // Loads the reference rig (clean.toml as it was at the start, rewritten
    // first: an unnamed save in the mix may have overwritten any preset) and
    // waits for the load to finish.
    void settle_on_reference() {
        if (reference_.empty()) {
            std::ifstream in(o_.presets / "clean.toml", std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            reference_ = text.str();
        }
        std::ofstream(o_.presets / "soak_reference.toml", std::ios::binary) << reference_;
        osc_.send("/rig/preset/load", msg_s("soak_reference"));
        std::this_thread::sleep_for(1500ms);
        absorb(osc_.pump(100ms));
    }

    std::vector<std::pair<std::string, std::string>> chain_list(Endpoint& ep, const char* path = "/rig/chain/list") {
        std::vector<Reply> seen;
        auto head = ep.ask(path, lo_message_new(), path, &seen);
        std::vector<std::pair<std::string, std::string>> out;
        if (!head || head->numbers.empty()) {
            absorb(seen);
            return out;
        }
        const auto n = static_cast<std::size_t>(head->numbers[0]);
        auto more = ep.pump(150ms);
        seen.insert(seen.end(), more.begin(), more.end());
        for (const auto& r : seen) {
            // /rig/chain/item i:position s:id s:type i:bypass; the audio
            // thread's query may answer with its own .../item path.
            if ((r.path == "/rig/chain/item" || r.path == std::string(path) + "/item") && r.strings.size() >= 2) {
                out.emplace_back(r.strings[0], r.strings[1]);
            }
        }
        absorb(seen);
        if (out.size() != n) {
            out.clear();
            out.emplace_back("?", "incomplete list reply");
        }
        return out;
    }

    void refresh() {
        // Stage parameters from the dump: /rig/stage/<id>/<param> with a number.
        std::vector<Reply> seen;
        osc_.ask("/rig/dump", lo_message_new(), "/rig/preset/current", &seen, 2000ms);
        params_.clear();
        for (const auto& r : seen) {
            if (r.path.rfind("/rig/stage/", 0) == 0 && !r.numbers.empty() && r.strings.empty() &&
                r.path.find("/norm") == std::string::npos) {
                params_.push_back(r.path);
            }
        }
        ids_.clear();
        for (const auto& [id, type] : chain_list(osc_)) {
            ids_.push_back(id);
        }
        std::vector<Reply> list;
        if (auto head = osc_.ask("/rig/presets/list", lo_message_new(), "/rig/presets/list", &list)) {
            auto more = osc_.pump(100ms);
            list.insert(list.end(), more.begin(), more.end());
            presets_.clear();
            for (const auto& r : list) {
                if (r.path == "/rig/presets/item" && !r.strings.empty()) {
                    presets_.push_back(r.strings[0]);
                }
            }
        }
    }

    void step() {
        if (++steps_ % 40 == 1) {
            refresh();
        }
        switch (pick(16)) {
        case 0:
        case 1:
        case 2:
        case 3: { // parameter storm
            if (params_.empty()) {
                break;
            }
            const int n = 50 + pick(400);
            for (int i = 0; i < n; ++i) {
                lo_message m = lo_message_new();
                lo_message_add_float(m, uniform());
                osc_.send((params_[static_cast<std::size_t>(pick(static_cast<int>(params_.size())))] + "/norm").c_str(),
                          m);
            }
            count("parameter sets", static_cast<unsigned long>(n));
            break;
        }
        case 4: { // chain add
            static const char* kTypes[] = {"pre", "tone", "eq", "gate", "comp", "delay", "reverb", "level",
                                           "filter", "sat", "trem", "power", "cab"};
            if (ids_.size() >= 24) {
                break;
            }
            const std::string type = kTypes[pick(static_cast<int>(std::size(kTypes)))];
            const std::string id = "s" + std::to_string(next_id_++);
            lo_message m = msg_ss(type, id);
            if (pick(2) == 0) {
                lo_message_add_int32(m, pick(static_cast<int>(ids_.size()) + 1));
            }
            osc_.send("/rig/chain/add", m);
            ids_.push_back(id);
            if (type == "cab") {
                osc_.send(("/rig/stage/" + id + "/ir").c_str(), msg_s(pick(2) ? "cab_1x12.wav" : "cab_4x12.wav"));
            }
            count("chain add");
            break;
        }
        case 5: { // chain remove
            if (ids_.empty()) {
                break;
            }
            const std::size_t i = static_cast<std::size_t>(pick(static_cast<int>(ids_.size())));
            osc_.send("/rig/chain/remove", msg_s(ids_[i]));
            ids_.erase(ids_.begin() + static_cast<long>(i));
            count("chain remove");
            break;
        }
        case 6: { // chain move / replace
            if (ids_.empty()) {
                break;
            }
            const std::string id = ids_[static_cast<std::size_t>(pick(static_cast<int>(ids_.size())))];
            if (pick(2) == 0) {
                lo_message m = msg_s(id);
                lo_message_add_int32(m, pick(static_cast<int>(ids_.size())));
                osc_.send("/rig/chain/move", m);
                count("chain move");
            } else {
                static const char* kTypes[] = {"eq", "level", "comp", "delay", "sat"};
                osc_.send("/rig/chain/replace", msg_ss(id, kTypes[pick(5)]));
                count("chain replace");
            }
            break;
        }
        case 7: { // preset load / next / prev
            const int k = pick(3);
            if (k == 0 && !presets_.empty()) {
                osc_.send("/rig/preset/load",
                          msg_s(presets_[static_cast<std::size_t>(pick(static_cast<int>(presets_.size())))]));
                count("preset load");
            } else if (k == 1) {
                osc_.send("/rig/preset/next");
                count("preset next");
            } else {
                osc_.send("/rig/preset/prev");
                count("preset prev");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(pick(200)));
            break;
        }
        case 8: { // a checked, named save: settle, list the chain, save
            absorb(osc_.pump(400ms)); // a load in flight finishes
            const auto chain = chain_list(osc_);
            const std::string name = "soak_" + std::to_string(pick(4));
            lo_message m = msg_s(name);
            lo_message_add_int32(m, 1);
            auto r = osc_.ask("/rig/preset/save", m, "/rig/preset/current");
            count("preset save (named)");
            // A load still building can change the chain around the save:
            // only a chain that was the same before and after is the one saved.
            if (r && chain_list(osc_) == chain) {
                saved_[name] = chain;
            } else {
                saved_.erase(name);
                unknown_.insert(name);
            }
            break;
        }
        case 9: { // an unnamed save races whatever is in flight
            auto r = osc_.ask("/rig/preset/save", lo_message_new(), "/rig/preset/current", nullptr, 1000ms);
            if (r && !r->strings.empty()) {
                unknown_.insert(r->strings[0]); // contents unknown: only parsed at the end
                saved_.erase(r->strings[0]);
            }
            count("preset save (unnamed)");
            break;
        }
        case 10: { // subscribe / unsubscribe
            if (!subscribed_ || pick(3) > 0) {
                lo_message m = lo_message_new();
                lo_message_add_int32(m, sub_.port());
                lo_message_add_int32(m, 5 + pick(60));
                sub_.send("/rig/subscribe", m);
                subscribed_ = true;
                count("subscribe");
            } else {
                lo_message m = lo_message_new();
                lo_message_add_int32(m, sub_.port());
                sub_.send("/rig/unsubscribe", m);
                subscribed_ = false;
                count("unsubscribe");
            }
            break;
        }
        case 11: { // /rig/get with a reply URL
            static const char* kGets[] = {"/rig/chain/list", "/rig/status", "/rig/dump", "/rig/master/volume",
                                          "/rig/preset/current", "/rig/presets/list"};
            osc_.send("/rig/get", msg_ss(kGets[pick(6)], "osc.udp://127.0.0.1:" + std::to_string(sub_.port())));
            count("get with reply URL");
            break;
        }
        case 12: { // malformed packets
            malformed();
            count("malformed packets", 20);
            break;
        }
        default: { // reads, master, flags
            const int k = pick(5);
            if (k == 0) {
                lo_message m = lo_message_new();
                lo_message_add_float(m, -30.0f + 30.0f * uniform());
                osc_.send("/rig/master/volume", m);
            } else if (k == 1) {
                osc_.send("/rig/status");
            } else if (k == 2) {
                lo_message m = lo_message_new();
                lo_message_add_int32(m, pick(2));
                osc_.send(pick(2) ? "/rig/bypass" : "/rig/master/mute", m);
            } else if (k == 3) {
                osc_.send("/rig/chain/list");
            } else {
                osc_.send("/rig/dump");
            }
            count("reads and master");
            break;
        }
        }
        absorb(osc_.pump(std::chrono::milliseconds(2 + pick(8))));
        sub_.pump(0ms);
    }

    void malformed() {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<std::uint16_t>(o_.port));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        static const std::string kValid = std::string("/rig/master/volume\0\0,f\0\0\0\0\0\0", 28);
        for (int i = 0; i < 20; ++i) {
            std::string p;
            switch (pick(4)) {
            case 0: // random bytes
                p.resize(static_cast<std::size_t>(1 + pick(200)));
                for (auto& c : p) {
                    c = static_cast<char>(pick(256));
                }
                break;
            case 1: // a valid message cut short
                p = kValid.substr(0, static_cast<std::size_t>(pick(static_cast<int>(kValid.size()))));
                break;
            case 2: // a bundle whose element size lies
                p = std::string("#bundle\0\0\0\0\0\0\0\0\1\x7f\xff\xff\xf0", 20) + kValid;
                break;
            default: // a type tag string without its arguments
                p = std::string("/rig/chain/add\0\0,sssiifd\0\0\0\0", 28);
                break;
            }
            ::sendto(raw_, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        }
    }

    void midi() {
        reap_midi(false);
        if (o_.midi_bin.empty() || midi_children_.size() > 2) {
            return;
        }
        std::vector<std::string> args{o_.midi_bin, "--server", o_.jack, "--to", "rigd:midi_in"};
        char hex[8];
        const int n = 4 + pick(12);
        for (int i = 0; i < n; ++i) {
            const bool program = pick(8) == 0;
            const int status = (program ? 0xC0 : 0xB0) | pick(2);
            std::snprintf(hex, sizeof hex, "%02X", status);
            args.emplace_back(hex);
            std::snprintf(hex, sizeof hex, "%02X", program ? pick(8) : pick(120));
            args.emplace_back(hex);
            if (!program) {
                std::snprintf(hex, sizeof hex, "%02X", pick(128));
                args.emplace_back(hex);
            }
        }
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 01, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 01, 0);
        pid_t pid = -1;
        if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0) {
            midi_children_.push_back(pid);
            count("MIDI bursts");
            count("MIDI messages", static_cast<unsigned long>(n));
        }
        posix_spawn_file_actions_destroy(&fa);
    }

    void reap_midi(bool all) {
        for (auto it = midi_children_.begin(); it != midi_children_.end();) {
            int st = 0;
            if (waitpid(*it, &st, all ? 0 : WNOHANG) == *it) {
                it = midi_children_.erase(it);
            } else {
                ++it;
            }
        }
    }

    void check_presets() {
        const auto& factory = rigd::core::StageFactory::builtin();
        int files = 0;
        bool all_parse = true;
        std::string bad;
        for (const auto& e : fs::directory_iterator(o_.presets)) {
            if (e.path().extension() != ".toml") {
                continue;
            }
            ++files;
            try {
                (void)rigd::control::load_preset_file(e.path(), factory);
            } catch (const std::exception& ex) {
                all_parse = false;
                bad += std::string("\n    ") + ex.what();
            }
        }
        check(all_parse, "every preset file parses (" + std::to_string(files) + " files)" + bad);
        for (const auto& [name, chain] : saved_) {
            const fs::path path = o_.presets / (name + ".toml");
            std::string want;
            for (const auto& [id, type] : chain) {
                want += id + ":" + type + " ";
            }
            std::string got;
            std::string file_name;
            try {
                const auto p = rigd::control::load_preset_file(path, factory);
                for (const auto& s : p.stages) {
                    got += s.id + ":" + s.type + " ";
                }
                file_name = p.name;
            } catch (const std::exception& ex) {
                got = ex.what();
            }
            check(got == want, name + ".toml holds the chain last saved to it" +
                                   (got == want ? "" : "\n    saved: " + want + "\n    file:  " + got));
            check(file_name == name, name + ".toml is named '" + name + "' (file says '" + file_name + "')");
        }
    }

    // /rig/debug/chain asks the audio thread itself: i:idle s:id ... in the
    // order it runs. Once it is idle, that order is /rig/chain/list's.
    void check_chain() {
        absorb(osc_.pump(300ms));
        std::vector<std::string> running;
        bool idle = false;
        for (int attempt = 0; attempt < 50 && !idle; ++attempt) {
            std::vector<Reply> seen;
            auto r = osc_.ask("/rig/debug/chain", lo_message_new(), "/rig/debug/chain", &seen, 1500ms);
            absorb(seen);
            if (!r) {
                check(false, "/rig/debug/chain answers");
                return;
            }
            idle = !r->numbers.empty() && r->numbers[0] == 1.0;
            running = r->strings;
            if (!idle) {
                std::this_thread::sleep_for(100ms);
            }
        }
        std::vector<std::string> reported;
        for (const auto& [id, type] : chain_list(osc_)) {
            reported.push_back(id);
        }
        check(idle, "the audio thread settles (no ramp or fade pending)");
        check(running == reported, "the chain /rig/chain/list reports is the chain the audio thread runs");
    }

    Options o_;
    Endpoint osc_;
    Endpoint sub_;
    std::mt19937 rng_;
    int raw_ = -1;
    std::map<std::string, unsigned long> ops_;
    unsigned long errors_ = 0;
    unsigned long steps_ = 0;
    int next_id_ = 0;
    bool subscribed_ = false;
    std::vector<std::string> params_;
    std::vector<std::string> ids_;
    std::vector<std::string> presets_;
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> saved_;
    std::set<std::string> unknown_;
    std::string reference_;
    std::vector<pid_t> midi_children_;
    int passed_ = 0;
    int failed_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const std::string v = argv[i + 1];
        if (k == "--port") {
            o.port = std::atoi(v.c_str());
        } else if (k == "--pid") {
            o.pid = static_cast<pid_t>(std::atoi(v.c_str()));
        } else if (k == "--presets") {
            o.presets = v;
        } else if (k == "--jack") {
            o.jack = v;
        } else if (k == "--midi-bin") {
            o.midi_bin = v;
        } else if (k == "--seconds") {
            o.seconds = std::atof(v.c_str());
        } else if (k == "--seed") {
            o.seed = static_cast<unsigned>(std::atoi(v.c_str()));
        }
    }
    if (o.port <= 0 || o.pid <= 0 || o.presets.empty()) {
        std::fprintf(stderr, "usage: rigd-soak --port P --pid PID --presets DIR [--jack NAME --midi-bin PATH] "
                             "--seconds S [--seed N]\n");
        return 64;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    return Soak(o).run();
}
