#pragma once

#include "core/record_tap.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace rigd::control {

// What /rig/record reports.
struct RecordState {
    bool recording = false;
    double seconds = 0.0;
    std::string file; // the take's base path ("<folder>/<name>"), "" before the first take
    std::uint64_t dropped_blocks = 0;
};

// Takes: the DI (mono) and the wet output (stereo), both 32-bit float WAV,
// plus a sidecar TOML of the preset at the start, side by side as
// <name>.di.wav, <name>.wet.wav and <name>.toml. start()/stop() run on the
// control loop and only queue a request; the writer thread opens, writes
// and closes the files and arms the RecordTap, and reports back through
// `post` (which must hand the function to the control loop). The WAV
// headers are rewritten and the files fsynced every kSyncInterval, so a
// crash or power cut leaves a valid WAV up to the last sync.
class Recorder {
public:
    using Post = std::function<void(std::function<void()>)>;
    struct Events {
        std::function<void(const RecordState&)> changed; // on the control loop
        std::function<void(const std::string&)> error;   // on the control loop: the take stopped or never began
    };
    static constexpr std::chrono::milliseconds kDrainInterval{20};
    static constexpr std::chrono::seconds kSyncInterval{1};
    static constexpr std::chrono::milliseconds kStopPatience{500}; // for the audio thread to finish its period
    static constexpr std::size_t kMaxNameLength = 100;

    Recorder(core::RecordTap& tap, Post post, Events events);
    ~Recorder(); // ends a take in progress (files closed and valid), joins the thread
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Control loop. Throws ControlError: a bad name, already recording.
    // An empty name means "take-YYYYMMDD-HHMMSS" (UTC).
    void start(const std::filesystem::path& folder, std::string name, std::string preset_toml, int sample_rate_hz);
    // Control loop. Throws ControlError when not recording.
    void stop();
    [[nodiscard]] bool recording() const noexcept { return wanted_; }
    // Any thread.
    [[nodiscard]] RecordState state() const;

    // Letters, digits, '-', '_', '.', not starting with '.', 1..kMaxNameLength
    // bytes: no path can escape the folder. Throws ControlError naming the rule.
    static void check_name(std::string_view name);

private:
    struct Take;
    struct Request {
        bool start = false;
        std::filesystem::path folder;
        std::string name;
        std::string preset_toml;
        int sample_rate_hz = 0;
    };
    void run();
    void begin(const Request& r);
    void drain(bool final);
    void end(const std::string& error);
    void report(const std::string& error);

    core::RecordTap& tap_;
    Post post_;
    Events events_;
    bool wanted_ = false; // control loop's view: a take was asked for and not stopped

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::optional<Request> pending_start_;
    bool pending_stop_ = false;
    bool quit_ = false;
    std::string file_;

    // Writer thread only.
    std::unique_ptr<Take> take_;
    std::atomic<bool> active_{false};
    std::atomic<bool> quitting_{false};
    std::atomic<std::uint64_t> frames_{0};
    std::atomic<std::uint64_t> dropped_at_start_{0};
    std::atomic<int> rate_{0};
    std::thread thread_;
};

} // namespace rigd::control
