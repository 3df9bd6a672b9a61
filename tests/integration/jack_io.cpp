// rigd-jack-io: a small JACK client for the integration tests and the demo.
// Plays a file into one port and, in the same process cycles, records
// another port into a file, then exits. Files ending in .wav are read and
// written as WAV (32-bit float); anything else is raw float32.
//
//   rigd-jack-io --server NAME --play IN --to PORT --record OUT
//                --from PORT [--frames N] [--timeout-s S]
#include <jack/jack.h>
#include <sndfile.h>

#include <cmath>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct State {
    jack_port_t* out = nullptr;
    jack_port_t* in = nullptr;
    std::vector<float> play;
    std::vector<float> recorded;
    std::atomic<std::size_t> pos{0};
    std::atomic<bool> started{false};
    std::atomic<int> xruns{0}; // while playing/recording only
};

int on_xrun(void* arg) {
    auto* s = static_cast<State*>(arg);
    if (s->started.load() && s->pos.load() < s->recorded.size()) {
        s->xruns.fetch_add(1);
    }
    return 0;
}

int process(jack_nframes_t n, void* arg) {
    auto* s = static_cast<State*>(arg);
    auto* out = static_cast<float*>(jack_port_get_buffer(s->out, n));
    const auto* in = static_cast<const float*>(jack_port_get_buffer(s->in, n));
    if (!s->started.load(std::memory_order_acquire)) {
        std::memset(out, 0, n * sizeof(float));
        return 0;
    }
    const std::size_t pos = s->pos.load(std::memory_order_relaxed);
    for (jack_nframes_t i = 0; i < n; ++i) {
        const std::size_t k = pos + i;
        out[i] = k < s->play.size() ? s->play[k] : 0.0f;
        if (k < s->recorded.size()) {
            s->recorded[k] = in[i];
        }
    }
    s->pos.store(pos + n, std::memory_order_release);
    return 0;
}

bool is_wav(const std::string& path) { return path.size() > 4 && path.substr(path.size() - 4) == ".wav"; }

std::vector<float> read_wav(const std::string& path) {
    SF_INFO info{};
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
    if (f == nullptr) {
        return {};
    }
    std::vector<float> all(static_cast<std::size_t>(info.frames * info.channels));
    sf_readf_float(f, all.data(), info.frames);
    sf_close(f);
    std::vector<float> mono(static_cast<std::size_t>(info.frames));
    for (std::size_t i = 0; i < mono.size(); ++i) {
        mono[i] = all[i * static_cast<std::size_t>(info.channels)];
    }
    return mono;
}

bool write_wav(const std::string& path, const std::vector<float>& x, unsigned rate) {
    SF_INFO info{};
    info.samplerate = static_cast<int>(rate);
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (f == nullptr) {
        return false;
    }
    sf_writef_float(f, x.data(), static_cast<sf_count_t>(x.size()));
    sf_close(f);
    return true;
}

void print_level(const char* what, const std::vector<float>& x) {
    double peak = 0.0;
    double sum = 0.0;
    for (const float v : x) {
        peak = std::max(peak, std::fabs(static_cast<double>(v)));
        sum += static_cast<double>(v) * v;
    }
    const double rms = x.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(x.size()));
    auto db = [](double g) { return g > 0.0 ? 20.0 * std::log10(g) : -INFINITY; };
    std::printf("rigd-jack-io: %s peak %.1f dBFS, RMS %.1f dBFS\n", what, db(peak), db(rms));
}

std::vector<float> read_f32(const std::string& path) {
    if (is_wav(path)) {
        return read_wav(path);
    }
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) {
        return {};
    }
    const auto bytes = static_cast<std::size_t>(f.tellg());
    std::vector<float> v(bytes / sizeof(float));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    return v;
}

} // namespace

int main(int argc, char** argv) {
    std::string server;
    std::string play_path;
    std::string to;
    std::string record_path;
    std::string from;
    long frames = -1;
    double timeout_s = 30.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const std::string v = argv[i + 1];
        if (a == "--server") {
            server = v;
        } else if (a == "--play") {
            play_path = v;
        } else if (a == "--to") {
            to = v;
        } else if (a == "--record") {
            record_path = v;
        } else if (a == "--from") {
            from = v;
        } else if (a == "--frames") {
            frames = std::stol(v);
        } else if (a == "--timeout-s") {
            timeout_s = std::stod(v);
        } else {
            std::fprintf(stderr, "rigd-jack-io: unknown option %s\n", a.c_str());
            return 64;
        }
    }
    if (play_path.empty() || to.empty() || record_path.empty() || from.empty()) {
        std::fprintf(stderr, "usage: rigd-jack-io [--server NAME] --play IN.f32 --to PORT --record OUT.f32 "
                             "--from PORT [--frames N] [--timeout-s S]\n");
        return 64;
    }
    State s;
    s.play = read_f32(play_path);
    if (s.play.empty()) {
        std::fprintf(stderr, "rigd-jack-io: cannot read %s\n", play_path.c_str());
        return 66;
    }
    s.recorded.assign(frames > 0 ? static_cast<std::size_t>(frames) : s.play.size(), 0.0f);
    jack_status_t status{};
    jack_client_t* client =
        server.empty() ? jack_client_open("rigd-jack-io", JackNoStartServer, &status)
                       : jack_client_open("rigd-jack-io", static_cast<jack_options_t>(JackNoStartServer | JackServerName),
                                          &status, server.c_str());
    if (client == nullptr) {
        std::fprintf(stderr, "rigd-jack-io: cannot open a JACK client (status 0x%x)\n", static_cast<unsigned>(status));
        return 69;
    }
    s.out = jack_port_register(client, "play", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    s.in = jack_port_register(client, "record", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    jack_set_process_callback(client, process, &s);
    jack_set_xrun_callback(client, on_xrun, &s);
    if (jack_activate(client) != 0 || jack_connect(client, jack_port_name(s.out), to.c_str()) != 0 ||
        jack_connect(client, from.c_str(), jack_port_name(s.in)) != 0) {
        std::fprintf(stderr, "rigd-jack-io: cannot activate or connect %s / %s\n", to.c_str(), from.c_str());
        jack_client_close(client);
        return 69;
    }
    const auto rate = jack_get_sample_rate(client);
    s.started.store(true, std::memory_order_release);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    int rc = 0;
    while (s.pos.load(std::memory_order_acquire) < s.recorded.size()) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "rigd-jack-io: timed out after %.1f s\n", timeout_s);
            rc = 70;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    jack_deactivate(client);
    jack_client_close(client);
    if (is_wav(record_path)) {
        if (!write_wav(record_path, s.recorded, rate)) {
            std::fprintf(stderr, "rigd-jack-io: cannot write %s\n", record_path.c_str());
            return 73;
        }
    } else {
        std::ofstream out(record_path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(s.recorded.data()),
                  static_cast<std::streamsize>(s.recorded.size() * sizeof(float)));
    }
    std::printf("rigd-jack-io: played %zu and recorded %zu frames at %u Hz\n", s.play.size(), s.recorded.size(), rate);
    std::printf("rigd-jack-io: xruns during recording: %d\n", s.xruns.load());
    print_level("played  ", s.play);
    print_level("recorded", s.recorded);
    return rc;
}
