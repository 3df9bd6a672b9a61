// rigd-jack-midi: sends MIDI messages to a JACK MIDI port, one per period,
// then exits. For the integration tests (a footswitch board stand-in).
//
//   rigd-jack-midi [--server NAME] --to PORT HEX...   e.g. B0 40 7F C0 01
#include <jack/jack.h>
#include <jack/midiport.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

struct State {
    jack_port_t* port = nullptr;
    std::vector<std::vector<unsigned char>> messages;
    std::atomic<std::size_t> next{0};
};

int process(jack_nframes_t frames, void* arg) {
    auto* s = static_cast<State*>(arg);
    void* buf = jack_port_get_buffer(s->port, frames);
    jack_midi_clear_buffer(buf);
    const std::size_t i = s->next.load();
    if (i < s->messages.size()) {
        const auto& m = s->messages[i];
        jack_midi_event_write(buf, 0, m.data(), m.size());
        s->next.store(i + 1);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::string server;
    std::string to;
    std::vector<unsigned char> bytes;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--server" && i + 1 < argc) {
            server = argv[++i];
        } else if (a == "--to" && i + 1 < argc) {
            to = argv[++i];
        } else {
            bytes.push_back(static_cast<unsigned char>(std::strtoul(a.c_str(), nullptr, 16)));
        }
    }
    State s;
    for (std::size_t i = 0; i < bytes.size();) {
        const unsigned char kind = bytes[i] & 0xF0;
        const std::size_t len = (kind == 0xC0 || kind == 0xD0) ? 2 : 3;
        if (i + len > bytes.size()) {
            break;
        }
        s.messages.emplace_back(bytes.begin() + static_cast<long>(i), bytes.begin() + static_cast<long>(i + len));
        i += len;
    }
    if (to.empty() || s.messages.empty()) {
        std::fprintf(stderr, "usage: rigd-jack-midi [--server NAME] --to PORT HEX...\n");
        return 64;
    }
    jack_status_t status{};
    jack_client_t* client =
        server.empty() ? jack_client_open("rigd-jack-midi", JackNoStartServer, &status)
                       : jack_client_open("rigd-jack-midi", static_cast<jack_options_t>(JackNoStartServer | JackServerName),
                                          &status, server.c_str());
    if (client == nullptr) {
        std::fprintf(stderr, "rigd-jack-midi: cannot open a JACK client\n");
        return 69;
    }
    s.port = jack_port_register(client, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    jack_set_process_callback(client, process, &s);
    s.next.store(s.messages.size()); // hold until connected
    if (jack_activate(client) != 0 || jack_connect(client, jack_port_name(s.port), to.c_str()) != 0) {
        std::fprintf(stderr, "rigd-jack-midi: cannot connect to %s\n", to.c_str());
        jack_client_close(client);
        return 69;
    }
    s.next.store(0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (s.next.load() < s.messages.size() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    jack_deactivate(client);
    jack_client_close(client);
    return s.next.load() >= s.messages.size() ? 0 : 70;
}
