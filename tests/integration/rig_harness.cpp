#include "rig_harness.hpp"

#include <sndfile.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
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

JackServer::JackServer(const fs::path& log_dir, int rate, int period) {
    static int counter = 0;
    name_ = "rigdtest" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"jackd", "-R", "-n", name_, "-d", "dummy", "-r", std::to_string(rate), "-p",
                                 std::to_string(period)},
        log_dir / "jackd.log", std::map<std::string, std::string>{{"JACK_NO_AUDIO_RESERVATION", "1"}});
    const int rc = run_command({"jack_wait", "-w", "-s", name_, "-t", "10"}, log_dir / "jack_wait.log");
    if (rc != 0) {
        throw std::runtime_error("jackd dummy server '" + name_ + "' did not start: " + process_->log_text());
    }
}

JackServer::~JackServer() {
    process_->stop(SIGINT, 5000ms);
    process_.reset();
    // jackd can leave its shared-memory segments behind when stopped.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/dev/shm", ec)) {
        if (entry.path().filename().string().find(name_) != std::string::npos) {
            fs::remove(entry.path(), ec);
        }
    }
}

std::map<std::string, std::string> JackServer::env() const {
    return {{"JACK_DEFAULT_SERVER", name_}, {"JACK_NO_AUDIO_RESERVATION", "1"}};
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
            m.strings.emplace_back(&argv[i]->s);
            break;
        case LO_FLOAT:
            m.numbers.push_back(argv[i]->f);
            break;
        case LO_DOUBLE:
            m.numbers.push_back(argv[i]->d);
            break;
        case LO_INT32:
            m.numbers.push_back(argv[i]->i);
            break;
        case LO_INT64:
            m.numbers.push_back(static_cast<double>(argv[i]->h));
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

Daemon::~Daemon() = default;

fs::path rigd_binary() { return RIGD_BIN; }
fs::path jack_io_binary() { return RIGD_JACK_IO_BIN; }
fs::path midi_binary() { return RIGD_JACK_MIDI_BIN; }

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
