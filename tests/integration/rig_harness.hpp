#pragma once

// Real processes for integration tests: a jackd dummy server with its own
// name, the real rigd daemon, and a liblo OSC client that receives replies.

#include <lo/lo.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rigd::test {

// A child process with its output in a log file.
class Process {
public:
    Process(std::vector<std::string> argv, const std::filesystem::path& log,
            const std::map<std::string, std::string>& env = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] bool running();
    // Sends `sig` and waits up to `timeout`; returns the exit status
    // (exit code, or 128 + signal), or nullopt if it did not exit in time.
    std::optional<int> stop(int sig, std::chrono::milliseconds timeout);
    std::optional<int> wait(std::chrono::milliseconds timeout);
    [[nodiscard]] std::string log_text() const;

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_;
};

// Runs a command to completion; returns its exit code (output to `log`).
int run_command(const std::vector<std::string>& argv, const std::filesystem::path& log,
                const std::map<std::string, std::string>& env = {});

// A fresh temporary folder, removed at the end.
class TempDir {
public:
    TempDir();
    ~TempDir();
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

// `jackd -n NAME -d dummy` started and stopped by the test; cleans the
// /dev/shm files it leaves.
class JackServer {
public:
    // start = false: only picks the name; start() runs it later.
    explicit JackServer(const std::filesystem::path& log_dir, int rate = 48000, int period = 128, bool start = true);
    ~JackServer();
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] std::map<std::string, std::string> env() const;
    // Stops the server (SIGINT; SIGKILL with `crash`) and starts it again
    // under the same name, as an interface unplugged or jackd restarted.
    void stop(bool crash = false);
    void start();

private:
    std::filesystem::path log_dir_;
    int rate_ = 48000;
    int period_ = 128;
    std::string name_;
    std::unique_ptr<Process> process_;
};

[[nodiscard]] int free_udp_port();

// Latency bounds are for the native build; sanitizer builds run the same
// tests several times slower and scale them by $RIGD_TIMING_SCALE
// (scripts/check sets it). Never below 1.
[[nodiscard]] double timing_scale();

// An OSC client with its own socket: replies come back to it.
class OscClient {
public:
    struct Message {
        std::string path;
        std::string types;
        std::vector<std::string> strings;
        std::vector<double> numbers;
    };

    explicit OscClient(int target_port);
    ~OscClient();
    OscClient(const OscClient&) = delete;
    OscClient& operator=(const OscClient&) = delete;

    void send(const std::string& path, lo_message message);
    void send(const std::string& path) { send(path, lo_message_new()); }
    void send_float(const std::string& path, float v);
    void send_int(const std::string& path, int v);
    void send_string(const std::string& path, const std::string& v);

    // Waits for the next message whose path is `path`.
    std::optional<Message> wait_for(const std::string& path,
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
    // Sends and waits for the reply at `reply_path`.
    std::optional<Message> ask(const std::string& path, const std::string& reply_path);
    void drain();

    [[nodiscard]] int port() const noexcept;

private:
    static int handler(const char* path, const char* types, lo_arg** argv, int argc, lo_message msg, void* user);
    lo_server server_ = nullptr;
    lo_address target_ = nullptr;
    std::vector<Message> inbox_;
};

// The real daemon on a dummy JACK server, configured in a temp folder.
class Daemon {
public:
    struct Options {
        std::string preset_toml; // written as presets/start.toml and used as start-up preset
        std::string extra_config;
    };
    Daemon(const JackServer& jack, const TempDir& dir, const Options& options);
    ~Daemon();

    [[nodiscard]] int osc_port() const noexcept { return osc_port_; }
    [[nodiscard]] Process& process() noexcept { return *process_; }
    [[nodiscard]] std::string log_text() const { return process_->log_text(); }
    [[nodiscard]] const std::filesystem::path& config_path() const noexcept { return config_; }

private:
    int osc_port_ = 0;
    std::filesystem::path config_;
    std::unique_ptr<Process> process_;
};

// The first sanitizer report (ASan, LSan, UBSan, TSan) in a process log,
// with what follows it; empty when there is none.
[[nodiscard]] std::string sanitizer_report(const std::string& log);
// scripts/check sets every sanitizer's exitcode to this.
inline constexpr int kSanitizerExitCode = 86;

[[nodiscard]] std::filesystem::path rigd_binary();
[[nodiscard]] std::filesystem::path jack_io_binary();
[[nodiscard]] std::filesystem::path midi_binary();

// Plays `signal` into rigd:in on `jack` and returns what rigd:out_l gave
// (rigd-jack-io's default length). Fails the calling test if the tool fails.
[[nodiscard]] std::vector<float> play_through(const std::filesystem::path& work_dir, const JackServer& jack,
                                              const std::vector<float>& signal);

// Plays `signal` through the live rig (rigd:in -> rigd:out_l, with
// rigd-jack-io started through `launcher`, e.g. {"pw-jack"}) and compares it
// with `rigd render` of `preset_file` at `period`: the lag is found by least
// squares over the first 0.25 s. A take the recorder saw an xrun in is
// retaken (up to 3); `judged` is false when every take had one.
struct LiveVsRender {
    bool judged = false;
    double max_diff = 0.0;
    std::size_t lag = 0;
};
[[nodiscard]] LiveVsRender live_vs_render(const std::filesystem::path& work_dir, const std::filesystem::path& preset_file,
                                          int period, const std::vector<float>& signal,
                                          const std::vector<std::string>& launcher,
                                          const std::map<std::string, std::string>& env);

void write_text(const std::filesystem::path& path, const std::string& text);
void write_f32(const std::filesystem::path& path, const std::vector<float>& samples);
[[nodiscard]] std::vector<float> read_f32_file(const std::filesystem::path& path);
// Reads channel `channel` of a WAV written by `rigd render`.
[[nodiscard]] std::vector<float> read_wav_channel(const std::filesystem::path& path, int channel);
void write_wav_mono(const std::filesystem::path& path, const std::vector<float>& samples, int rate);

} // namespace rigd::test
