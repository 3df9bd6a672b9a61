#include "control/recorder.hpp"

#include "control/errors.hpp"

#include <sndfile.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace rigd::control {

namespace {

constexpr std::size_t kChunkFrames = 4096;
constexpr int kMaxSuffix = 9999;

std::string errno_text(int e) { return std::strerror(e); }

std::string default_name() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "take-%Y%m%d-%H%M%S", &utc);
    return buf;
}

// A file we created (O_EXCL) and write through libsndfile or directly.
struct OutFile {
    std::filesystem::path path;
    int fd = -1;
    SNDFILE* snd = nullptr;
};

} // namespace

struct Recorder::Take {
    OutFile di;
    OutFile wet;
    std::vector<float> di_buf = std::vector<float>(kChunkFrames);
    std::vector<float> left = std::vector<float>(kChunkFrames);
    std::vector<float> right = std::vector<float>(kChunkFrames);
    std::vector<float> stereo = std::vector<float>(2 * kChunkFrames);
    std::chrono::steady_clock::time_point next_sync;

    ~Take() {
        for (OutFile* f : {&di, &wet}) {
            if (f->snd != nullptr) {
                sf_close(f->snd); // rewrites the header for what was written; closes fd
            } else if (f->fd >= 0) {
                ::close(f->fd);
            }
        }
    }
};

void Recorder::check_name(std::string_view name) {
    const bool ok_chars = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.';
    });
    if (name.empty() || name.size() > kMaxNameLength || !ok_chars || name.front() == '.') {
        throw ControlError("a take name is 1-" + std::to_string(kMaxNameLength) +
                           " letters, digits, '-', '_' or '.', not starting with '.'");
    }
}

Recorder::Recorder(core::RecordTap& tap, Post post, Events events)
    : tap_(tap), post_(std::move(post)), events_(std::move(events)), thread_([this] { run(); }) {}

Recorder::~Recorder() {
    quitting_.store(true, std::memory_order_release);
    {
        const std::lock_guard lock(mutex_);
        quit_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void Recorder::start(const std::filesystem::path& folder, std::string name, std::string preset_toml,
                     int sample_rate_hz) {
    if (name.empty()) {
        name = default_name();
    }
    check_name(name);
    if (wanted_) {
        throw ControlError("already recording to '" + state().file + "'");
    }
    if (sample_rate_hz <= 0) {
        throw ControlError("cannot record: the audio is not running");
    }
    {
        const std::lock_guard lock(mutex_);
        pending_start_ = Request{true, folder, std::move(name), std::move(preset_toml), sample_rate_hz};
    }
    wanted_ = true;
    wake_.notify_all();
}

void Recorder::stop() {
    if (!wanted_) {
        throw ControlError("not recording");
    }
    {
        const std::lock_guard lock(mutex_);
        if (pending_start_) {
            pending_start_.reset(); // never began: nothing to stop
        } else {
            pending_stop_ = true;
        }
    }
    wanted_ = false;
    wake_.notify_all();
}

RecordState Recorder::state() const {
    RecordState s;
    s.recording = active_.load(std::memory_order_acquire);
    const int rate = rate_.load(std::memory_order_relaxed);
    s.seconds = rate > 0 ? static_cast<double>(frames_.load(std::memory_order_relaxed)) / rate : 0.0;
    s.dropped_blocks = tap_.dropped_blocks() - dropped_at_start_.load(std::memory_order_relaxed);
    const std::lock_guard lock(mutex_);
    s.file = file_;
    return s;
}

void Recorder::report(const std::string& error) {
    if (quitting_.load(std::memory_order_acquire)) {
        return; // the control loop may be gone by the time it would run
    }
    const RecordState s = state();
    post_([this, s, error] {
        if (!error.empty()) {
            wanted_ = false; // the take is over whatever was asked
            if (events_.error) {
                events_.error(error);
            }
        }
        if (events_.changed) {
            events_.changed(s);
        }
    });
}

void Recorder::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, kDrainInterval,
                       [this] { return quit_ || pending_start_.has_value() || pending_stop_; });
        const bool quit = quit_;
        const bool stop = pending_stop_ || quit;
        std::optional<Request> start = std::move(pending_start_);
        pending_start_.reset();
        pending_stop_ = false;
        lock.unlock();
        if (take_) {
            if (stop) {
                end("");
            } else {
                drain(false);
            }
        }
        if (start && !quit) {
            begin(*start);
        }
        lock.lock();
        if (quit) {
            return;
        }
    }
}

void Recorder::begin(const Request& r) {
    auto take = std::make_unique<Take>();
    std::error_code ec;
    std::filesystem::create_directories(r.folder, ec);
    if (ec) {
        report("cannot record in '" + r.folder.string() + "': " + ec.message());
        return;
    }
    // The first free "<name>[-N]" for all three files; O_EXCL so nothing is
    // ever overwritten, even by a take started elsewhere meanwhile.
    std::string base;
    int toml_fd = -1;
    for (int k = 1; k <= kMaxSuffix && base.empty(); ++k) {
        const std::string candidate = k == 1 ? r.name : r.name + "-" + std::to_string(k);
        const auto dir = r.folder;
        OutFile di{dir / (candidate + ".di.wav")};
        OutFile wet{dir / (candidate + ".wet.wav")};
        const auto toml_path = dir / (candidate + ".toml");
        const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
        di.fd = ::open(di.path.c_str(), flags, 0644);
        const int e1 = errno;
        wet.fd = di.fd >= 0 ? ::open(wet.path.c_str(), flags, 0644) : -1;
        const int e2 = errno;
        toml_fd = wet.fd >= 0 ? ::open(toml_path.c_str(), flags, 0644) : -1;
        const int e3 = errno;
        if (toml_fd >= 0) {
            take->di = di;
            take->wet = wet;
            base = (dir / candidate).string();
            break;
        }
        const int err = di.fd < 0 ? e1 : wet.fd < 0 ? e2 : e3;
        if (wet.fd >= 0) {
            ::close(wet.fd);
            std::filesystem::remove(wet.path, ec);
        }
        if (di.fd >= 0) {
            ::close(di.fd);
            std::filesystem::remove(di.path, ec);
        }
        if (err != EEXIST) {
            report("cannot record in '" + r.folder.string() + "': " + errno_text(err));
            return;
        }
    }
    if (base.empty()) {
        report("cannot record: every name from '" + r.name + "' to '" + r.name + "-" + std::to_string(kMaxSuffix) +
               "' is taken");
        return;
    }
    // The sidecar preset first: it is what makes the take re-ampable.
    const std::string& text = r.preset_toml;
    const bool toml_ok = ::write(toml_fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                         ::fsync(toml_fd) == 0;
    const int toml_err = errno;
    ::close(toml_fd);
    if (!toml_ok) {
        take.reset();
        report("cannot record: '" + base + ".toml': " + errno_text(toml_err));
        return;
    }
    for (auto [file, channels] : {std::pair{&take->di, 1}, std::pair{&take->wet, 2}}) {
        SF_INFO info{};
        info.samplerate = r.sample_rate_hz;
        info.channels = channels;
        info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
        file->snd = sf_open_fd(file->fd, SFM_WRITE, &info, SF_TRUE);
        if (file->snd == nullptr) {
            const std::string why = sf_strerror(nullptr);
            take.reset();
            report("cannot record: '" + file->path.string() + "': " + why);
            return;
        }
        file->fd = -1; // libsndfile closes it
    }
    // Leftovers of an earlier take that stopped on an error: not ours.
    while (tap_.read(take->di_buf, take->left, take->right) > 0) {
    }
    take->next_sync = std::chrono::steady_clock::now() + kSyncInterval;
    {
        const std::lock_guard lock(mutex_);
        file_ = base;
    }
    frames_.store(0, std::memory_order_relaxed);
    rate_.store(r.sample_rate_hz, std::memory_order_relaxed);
    dropped_at_start_.store(tap_.dropped_blocks(), std::memory_order_relaxed);
    take_ = std::move(take);
    active_.store(true, std::memory_order_release);
    (void)tap_.arm();
    report("");
}

void Recorder::drain(bool final) {
    Take& t = *take_;
    for (;;) {
        const std::size_t n = tap_.read(t.di_buf, t.left, t.right);
        if (n == 0) {
            break;
        }
        for (std::size_t i = 0; i < n; ++i) {
            t.stereo[2 * i] = t.left[i];
            t.stereo[2 * i + 1] = t.right[i];
        }
        const auto frames = static_cast<sf_count_t>(n);
        if (sf_writef_float(t.di.snd, t.di_buf.data(), frames) != frames) {
            end("recording stopped: '" + t.di.path.string() + "': " + sf_strerror(t.di.snd));
            return;
        }
        if (sf_writef_float(t.wet.snd, t.stereo.data(), frames) != frames) {
            end("recording stopped: '" + t.wet.path.string() + "': " + sf_strerror(t.wet.snd));
            return;
        }
        frames_.fetch_add(n, std::memory_order_relaxed);
    }
    const auto now = std::chrono::steady_clock::now();
    if (!final && now >= t.next_sync) {
        // Crash safety: the headers describe everything written so far.
        t.next_sync = now + kSyncInterval;
        for (SNDFILE* f : {t.di.snd, t.wet.snd}) {
            sf_command(f, SFC_UPDATE_HEADER_NOW, nullptr, 0);
            sf_write_sync(f);
        }
        report("");
    }
}

void Recorder::end(const std::string& error) {
    // Stop the audio thread writing, wait until it finished the period it
    // may be in, keep everything it wrote, close.
    const std::uint64_t gen = tap_.disarm();
    const auto deadline = std::chrono::steady_clock::now() + kStopPatience;
    while (tap_.acknowledged() != gen && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (error.empty()) {
        drain(true);
        if (!take_) {
            return; // drain hit a write error and ended the take itself
        }
    }
    for (SNDFILE* f : {take_->di.snd, take_->wet.snd}) {
        sf_write_sync(f);
    }
    take_.reset(); // sf_close: final headers
    active_.store(false, std::memory_order_release);
    report(error);
}

} // namespace rigd::control
