#include "rig_harness.hpp"

#include "control/lo_arg_read.hpp"

#include <doctest/doctest.h>
#include <sndfile.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace rigd::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> merged_env(const std::map<std::string, std::string>& extra) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string kv(*e);
        const auto eq = kv.find('=');
        if (eq != std::string::npos) {
            env[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    for (const auto& [k, v] : extra) {
        env[k] = v;
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : env) {
        out.push_back(k + "=" + v);
    }
    return out;
}

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, const std::map<std::string, std::string>& env) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const auto env_strings = merged_env(env);
    std::vector<char*> envp;
    for (const auto& e : env_strings) {
        envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    return pid;
}

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

} // namespace

Process::Process(std::vector<std::string> argv, const fs::path& log, const std::map<std::string, std::string>& env)
    : log_(log) {
    pid_ = spawn(argv, log, env);
}

Process::~Process() {
    if (!status_ && pid_ > 0) {
        if (!stop(SIGTERM, 3000ms)) {
            stop(SIGKILL, 3000ms);
        }
    }
}

bool Process::running() {
    if (status_) {
        return false;
    }
    int st = 0;
    const pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = decode(st);
        return false;
    }
    return true;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(5ms);
    }
    return status_;
}

std::optional<int> Process::stop(int sig, std::chrono::milliseconds timeout) {
    if (running()) {
        ::kill(pid_, sig);
    }
    return wait(timeout);
}

std::string Process::log_text() const {
    std::ifstream in(log_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

int run_command(const std::vector<std::string>& argv, const fs::path& log, const std::map<std::string, std::string>& env) {
    Process p(argv, log, env);
    const auto rc = p.wait(120s);
    return rc ? *rc : -1;
}

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "rigd-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    if (std::getenv("RIGD_KEEP_TEST_DIRS") == nullptr) {
        fs::remove_all(path_, ec);
    }
}

JackServer::JackServer(const fs::path& log_dir, int rate, int period, bool start_now)
    : log_dir_(log_dir), rate_(rate), period_(period) {
    static int counter = 0;
    name_ = "rigdtest" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    if (start_now) {
        start();
    }
}

void JackServer::start() {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"jackd", "-R", "-n", name_, "-d", "dummy", "-r", std::to_string(rate_), "-p",
                                 std::to_string(period_)},
        log_dir_ / "jackd.log", std::map<std::string, std::string>{{"JACK_NO_AUDIO_RESERVATION", "1"}});
    const int rc = run_command({"jack_wait", "-w", "-s", name_, "-t", "10"}, log_dir_ / "jack_wait.log");
    if (rc != 0) {
        throw std::runtime_error("jackd dummy server '" + name_ + "' did not start: " + process_->log_text());
    }
}

void JackServer::stop(bool crash) {
    if (process_) {
        process_->stop(crash ? SIGKILL : SIGINT, 5000ms);
        process_.reset();
    }
    // jackd can leave its shared-memory segments behind when stopped.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/dev/shm", ec)) {
        if (entry.path().filename().string().find(name_) != std::string::npos) {
            fs::remove(entry.path(), ec);
        }
    }
}

JackServer::~JackServer() { stop(); }

std::map<std::string, std::string> JackServer::env() const {
    return {{"JACK_DEFAULT_SERVER", name_}, {"JACK_NO_AUDIO_RESERVATION", "1"}};
}

double timing_scale() {
    const char* v = std::getenv("RIGD_TIMING_SCALE");
    const double scale = v != nullptr ? std::atof(v) : 1.0;
    return scale >= 1.0 ? scale : 1.0;
}

int free_udp_port() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

OscClient::OscClient(int target_port) {
    server_ = lo_server_new_with_proto(nullptr, LO_UDP, nullptr);
    if (server_ == nullptr) {
        throw std::runtime_error("cannot open an OSC client socket");
    }
    lo_server_add_method(server_, nullptr, nullptr, &OscClient::handler, this);
    target_ = lo_address_new("127.0.0.1", std::to_string(target_port).c_str());
}

OscClient::~OscClient() {
    lo_address_free(target_);
    lo_server_free(server_);
}

int OscClient::port() const noexcept { return lo_server_get_port(server_); }

int OscClient::handler(const char* path, const char* types, lo_arg** argv, int argc, lo_message, void* user) {
    auto* self = static_cast<OscClient*>(user);
    Message m;
    m.path = path;
    m.types = types;
    for (int i = 0; i < argc; ++i) {
        switch (types[i]) {
        case LO_STRING:
        case LO_SYMBOL:
            m.strings.emplace_back(rigd::control::lo_arg_string(argv[i]));
            break;
        case LO_FLOAT:
            m.numbers.push_back(rigd::control::lo_arg_value<float>(argv[i]));
            break;
        case LO_DOUBLE:
            m.numbers.push_back(rigd::control::lo_arg_value<double>(argv[i]));
            break;
        case LO_INT32:
            m.numbers.push_back(rigd::control::lo_arg_value<std::int32_t>(argv[i]));
            break;
        case LO_INT64:
            m.numbers.push_back(static_cast<double>(rigd::control::lo_arg_value<std::int64_t>(argv[i])));
            break;
        default:
            break;
        }
    }
    self->inbox_.push_back(std::move(m));
    return 0;
}

void OscClient::send(const std::string& path, lo_message message) {
    lo_send_message_from(target_, server_, path.c_str(), message);
    lo_message_free(message);
}

void OscClient::send_float(const std::string& path, float v) {
    lo_message m = lo_message_new();
    lo_message_add_float(m, v);
    send(path, m);
}

void OscClient::send_int(const std::string& path, int v) {
    lo_message m = lo_message_new();
    lo_message_add_int32(m, v);
    send(path, m);
}

void OscClient::send_string(const std::string& path, const std::string& v) {
    lo_message m = lo_message_new();
    lo_message_add_string(m, v.c_str());
    send(path, m);
}

std::optional<OscClient::Message> OscClient::wait_for(const std::string& path, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
            if (it->path == path) {
                Message m = *it;
                inbox_.erase(it);
                return m;
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        lo_server_recv_noblock(server_, static_cast<int>(std::min<long>(left.count(), 50)));
    }
}

std::optional<OscClient::Message> OscClient::ask(const std::string& path, const std::string& reply_path) {
    send(path);
    return wait_for(reply_path);
}

void OscClient::drain() {
    while (lo_server_recv_noblock(server_, 20) > 0) {
    }
    inbox_.clear();
}

Daemon::Daemon(const JackServer& jack, const TempDir& dir, const Options& options) {
    osc_port_ = free_udp_port();
    const fs::path presets = dir.path() / "presets";
    fs::create_directories(presets);
    fs::create_directories(dir.path() / "models");
    fs::create_directories(dir.path() / "irs");
    std::string rig = "[rig]\nlog_level = \"debug\"\n";
    if (!options.preset_toml.empty()) {
        write_text(presets / "start.toml", options.preset_toml);
        rig += "preset = \"start\"\n";
    }
    config_ = dir.path() / "rigd.toml";
    write_text(config_, "[jack]\nserver_name = \"" + jack.name() +
                            "\"\nauto_connect = false\n\n[osc]\nport = " + std::to_string(osc_port_) +
                            "\n\n[paths]\npresets = \"presets\"\nmodels = \"models\"\nirs = \"irs\"\nmidi_map = \"midi.toml\"\nrecordings = \"recordings\"\n\n" + rig +
                            options.extra_config);
    process_ = std::make_unique<Process>(std::vector<std::string>{rigd_binary().string(), "--config", config_.string()},
                                         dir.path() / "rigd.log", jack.env());
    OscClient probe(osc_port_);
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running()) {
            throw std::runtime_error("rigd exited during start-up: " + process_->log_text());
        }
        if (probe.ask("/rig/ping", "/rig/pong")) {
            return;
        }
    }
    throw std::runtime_error("rigd did not answer /rig/ping: " + process_->log_text());
}

Daemon::~Daemon() {
    // Stop it here (not in ~Process) so that a sanitizer build's report,
    // printed at exit (leaks) or at the fault, is in the log we read now.
    const auto rc = process_->stop(SIGTERM, 10s);
    const std::string log = process_->log_text();
    const std::string report = sanitizer_report(log);
    if (!report.empty()) {
        FAIL_CHECK((std::string("rigd reported a sanitizer error:\n") + report));
    } else if (rc && *rc == kSanitizerExitCode) {
        FAIL_CHECK(("rigd exited with the sanitizer exit code " + std::to_string(kSanitizerExitCode) + ":\n" + log));
    }
}

std::string sanitizer_report(const std::string& log) {
    static constexpr std::string_view kMarkers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                                    "WARNING: ThreadSanitizer", "runtime error:",
                                                    "ERROR: ThreadSanitizer", "==ERROR:"};
    std::size_t first = std::string::npos;
    for (const auto m : kMarkers) {
        first = std::min(first, log.find(m));
    }
    if (first == std::string::npos) {
        return {};
    }
    const std::size_t line = log.rfind('\n', first);
    const std::size_t from = line == std::string::npos ? 0 : line + 1;
    return log.substr(from, 6000);
}

fs::path rigd_binary() { return RIGD_BIN; }
fs::path jack_io_binary() { return RIGD_JACK_IO_BIN; }
fs::path midi_binary() { return RIGD_JACK_MIDI_BIN; }

std::vector<float> play_through(const fs::path& work_dir, const JackServer& jack, const std::vector<float>& signal) {
    write_f32(work_dir / "tone.f32", signal);
    const auto log = work_dir / "jack_io.log";
    if (run_command({jack_io_binary().string(), "--server", jack.name(), "--play", (work_dir / "tone.f32").string(),
                     "--to", "rigd:in", "--record", (work_dir / "rec.f32").string(), "--from", "rigd:out_l"},
                    log, jack.env()) != 0) {
        throw std::runtime_error("rigd-jack-io failed: see " + log.string());
    }
    return read_f32_file(work_dir / "rec.f32");
}

LiveVsRender live_vs_render(const fs::path& work_dir, const fs::path& preset_file, int period,
                            const std::vector<float>& signal, const std::vector<std::string>& launcher,
                            const std::map<std::string, std::string>& env) {
    write_f32(work_dir / "in.f32", signal);
    write_wav_mono(work_dir / "in.wav", signal, 48000);
    LiveVsRender result;
    if (run_command({rigd_binary().string(), "render", "--preset", preset_file.string(), "--block",
                     std::to_string(period), (work_dir / "in.wav").string(), (work_dir / "render.wav").string()},
                    work_dir / "render.log") != 0) {
        throw std::runtime_error("rigd render failed: see " + (work_dir / "render.log").string());
    }
    const auto offline = read_wav_channel(work_dir / "render.wav", 0);
    const std::size_t record_frames = signal.size() + 8192;
    for (int take = 0; take < 3 && !result.judged; ++take) {
        const auto log = work_dir / ("jack_io_" + std::to_string(take) + ".log");
        std::vector<std::string> argv = launcher;
        for (const std::string& a : {jack_io_binary().string(), std::string("--play"), (work_dir / "in.f32").string(),
                                     std::string("--to"), std::string("rigd:in"), std::string("--record"),
                                     (work_dir / "live.f32").string(), std::string("--from"), std::string("rigd:out_l"),
                                     std::string("--frames"), std::to_string(record_frames)}) {
            argv.push_back(a);
        }
        if (run_command(argv, log, env) != 0) {
            throw std::runtime_error("rigd-jack-io failed: see " + log.string());
        }
        std::ifstream in(log);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.find("xruns during recording: 0") == std::string::npos) {
            continue;
        }
        result.judged = true;
        const auto live = read_f32_file(work_dir / "live.f32");
        double best_err = 1e30;
        for (std::size_t lag = 0; lag <= 4096; ++lag) {
            double err = 0.0;
            for (std::size_t i = 0; i < 12000 && i + lag < live.size() && i < offline.size(); ++i) {
                const double d = static_cast<double>(live[i + lag]) - offline[i];
                err += d * d;
            }
            if (err < best_err) {
                best_err = err;
                result.lag = lag;
            }
        }
        for (std::size_t i = 0; i < offline.size() && i + result.lag < live.size(); ++i) {
            result.max_diff =
                std::max(result.max_diff, std::fabs(static_cast<double>(live[i + result.lag]) - offline[i]));
        }
    }
    return result;
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

void write_f32(const fs::path& path, const std::vector<float>& samples) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(samples.data()), static_cast<std::streamsize>(samples.size() * sizeof(float)));
}

std::vector<float> read_f32_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const auto bytes = static_cast<std::size_t>(in.tellg());
    std::vector<float> v(bytes / sizeof(float));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    return v;
}

std::vector<float> read_wav_channel(const fs::path& path, int channel) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (f == nullptr) {
        throw std::runtime_error("cannot read " + path.string());
    }
    std::vector<float> all(static_cast<std::size_t>(info.frames * info.channels));
    sf_readf_float(f, all.data(), info.frames);
    sf_close(f);
    std::vector<float> out(static_cast<std::size_t>(info.frames));
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = all[i * static_cast<std::size_t>(info.channels) + static_cast<std::size_t>(channel)];
    }
    return out;
}

void write_wav_mono(const fs::path& path, const std::vector<float>& samples, int rate) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (f == nullptr) {
        throw std::runtime_error("cannot write " + path.string());
    }
    sf_writef_float(f, samples.data(), static_cast<sf_count_t>(samples.size()));
    sf_close(f);
}

} // namespace rigd::test
