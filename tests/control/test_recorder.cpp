// The recorder: the RT side's ring (whole periods or a counted drop, no
// allocation), and the writer thread's takes against a simulated audio
// thread: DI mono and wet stereo 32-bit float WAV with every frame in
// order, the sidecar preset, safe names never overwritten, an unusable
// folder and a failing write reported with the part written a valid WAV.
#include "control/errors.hpp"
#include "control/recorder.hpp"
#include "core/record_tap.hpp"

#include "alloc_counter.hpp"

#include <doctest/doctest.h>

#include <sndfile.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using rigd::control::ControlError;
using rigd::control::Recorder;
using rigd::control::RecordState;
using rigd::core::RecordTap;

namespace {

namespace fs = std::filesystem;

struct TempFolder {
    fs::path path;
    TempFolder() {
        path = fs::temp_directory_path() / ("rigd-rec-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
        fs::create_directories(path);
    }
    ~TempFolder() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// Stands in for the control loop: posted work runs when the test pumps.
struct Loop {
    std::mutex mutex;
    std::deque<std::function<void()>> tasks;
    void post(std::function<void()> f) {
        const std::lock_guard lock(mutex);
        tasks.push_back(std::move(f));
    }
    void pump() {
        for (;;) {
            std::function<void()> f;
            {
                const std::lock_guard lock(mutex);
                if (tasks.empty()) {
                    return;
                }
                f = std::move(tasks.front());
                tasks.pop_front();
            }
            f();
        }
    }
};

// Periods of 64 frames every ~1 ms; frame k carries DI k, wet (-k, 2k)
// (scaled to stay exact in float).
struct FakeAudio {
    RecordTap& tap;
    std::atomic<bool> run{true};
    std::uint64_t next = 0;
    std::thread thread;
    explicit FakeAudio(RecordTap& t) : tap(t), thread([this] { loop(); }) {}
    ~FakeAudio() {
        run = false;
        thread.join();
    }
    void loop() {
        std::vector<float> di(64), l(64), r(64);
        while (run) {
            for (std::size_t i = 0; i < 64; ++i) {
                const auto v = static_cast<float>((next + i) % 1000000);
                di[i] = v;
                l[i] = -v;
                r[i] = 2.0f * v;
            }
            next += 64;
            tap.write(di, l, r);
            std::this_thread::sleep_for(std::chrono::microseconds(1000));
        }
    }
};

struct Wav {
    int channels = 0;
    int rate = 0;
    int format = 0;
    std::vector<float> data;
};

Wav read_wav(const fs::path& p) {
    SF_INFO info{};
    SNDFILE* f = sf_open(p.c_str(), SFM_READ, &info);
    REQUIRE_MESSAGE(f != nullptr, p.string() << ": " << sf_strerror(nullptr));
    Wav w{info.channels, info.samplerate, info.format, std::vector<float>(static_cast<std::size_t>(info.frames * info.channels))};
    CHECK(sf_readf_float(f, w.data.data(), info.frames) == info.frames);
    sf_close(f);
    return w;
}

template <typename Pred>
bool wait_for(Loop& loop, Pred pred, double seconds = 5.0) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        loop.pump();
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

// Every frame of a take, in order, aligned across DI and wet.
void check_take(const fs::path& base) {
    const Wav di = read_wav(base.string() + ".di.wav");
    const Wav wet = read_wav(base.string() + ".wet.wav");
    CHECK(di.channels == 1);
    CHECK(wet.channels == 2);
    CHECK(di.rate == 48000);
    CHECK(di.format == (SF_FORMAT_WAV | SF_FORMAT_FLOAT));
    CHECK(wet.format == (SF_FORMAT_WAV | SF_FORMAT_FLOAT));
    REQUIRE(di.data.size() > 1000);
    REQUIRE(wet.data.size() == 2 * di.data.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < di.data.size(); ++i) {
        if ((i > 0 && di.data[i] != std::fmod(di.data[i - 1] + 1.0f, 1000000.0f)) || wet.data[2 * i] != -di.data[i] ||
            wet.data[2 * i + 1] != 2.0f * di.data[i]) {
            ++bad;
        }
    }
    CHECK(bad == 0);
}

} // namespace

TEST_CASE("record tap: whole periods while armed, a full ring drops and counts, acknowledges generations") {
    RecordTap tap(256);
    std::vector<float> a(100, 1.0f), b(100, 2.0f), c(100, 3.0f);
    tap.write(a, b, c); // disarmed: nothing kept
    std::vector<float> di(512), l(512), r(512);
    CHECK(tap.read(di, l, r) == 0);
    const auto gen = tap.arm();
    CHECK(gen % 2 == 1);
    {
        rigd::test::ScopedAllocationCounter counter;
        tap.write(a, b, c);
        tap.write(a, b, c);
        tap.write(a, b, c); // 300 > 256: this period is dropped whole
        CHECK(counter.total() == 0);
    }
    CHECK(tap.acknowledged() == gen);
    CHECK(tap.dropped_blocks() == 1);
    REQUIRE(tap.read(di, l, r) == 200);
    CHECK(di[199] == 1.0f);
    CHECK(l[0] == 2.0f);
    CHECK(r[150] == 3.0f);
    const auto off = tap.disarm();
    CHECK(off % 2 == 0);
    tap.write(a, b, c);
    CHECK(tap.acknowledged() == off);
    CHECK(tap.read(di, l, r) == 0);
}

TEST_CASE("recorder: a take writes DI and wet WAVs with every frame, the sidecar preset, and a new name each time") {
    TempFolder dir;
    RecordTap tap(1 << 16);
    Loop loop;
    std::vector<RecordState> states;
    std::vector<std::string> errors;
    FakeAudio audio(tap);
    {
        Recorder rec(tap, [&](std::function<void()> f) { loop.post(std::move(f)); },
                     {[&](const RecordState& s) { states.push_back(s); }, [&](const std::string& e) { errors.push_back(e); }});
        for (int take = 1; take <= 2; ++take) {
            CAPTURE(take);
            rec.start(dir.path / "takes", "riff", "name = \"p\"\n", 48000);
            CHECK_THROWS_WITH_AS(rec.start(dir.path, "again", "", 48000), doctest::Contains("already recording"),
                                 ControlError);
            REQUIRE(wait_for(loop, [&] { return rec.state().recording; }));
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            rec.stop();
            REQUIRE(wait_for(loop, [&] { return !rec.state().recording; }));
            const RecordState s = rec.state();
            const fs::path base = dir.path / "takes" / (take == 1 ? "riff" : "riff-2");
            CHECK(s.file == base.string());
            CHECK(s.seconds > 0.05);
            CHECK(s.dropped_blocks == 0);
            check_take(base);
            std::ifstream toml(base.string() + ".toml");
            std::stringstream text;
            text << toml.rdbuf();
            CHECK(text.str() == "name = \"p\"\n");
        }
        CHECK_THROWS_WITH_AS(rec.stop(), "not recording", ControlError);
    }
    CHECK(errors.empty());
    CHECK(!states.empty());
}

TEST_CASE("recorder: names cannot leave the folder") {
    for (const char* bad : {"../x", "a/b", ".hidden", "", "x\ny", "semi;colon", "/abs"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(Recorder::check_name(bad), ControlError);
    }
    CHECK_NOTHROW(Recorder::check_name("take_01.v2-final"));
    CHECK_THROWS_AS(Recorder::check_name(std::string(101, 'a')), ControlError);
}

TEST_CASE("recorder: an unusable folder is an error and no take") {
    TempFolder dir;
    std::ofstream(dir.path / "file") << "x";
    RecordTap tap(4096);
    Loop loop;
    std::vector<std::string> errors;
    Recorder rec(tap, [&](std::function<void()> f) { loop.post(std::move(f)); },
                 {{}, [&](const std::string& e) { errors.push_back(e); }});
    rec.start(dir.path / "file" / "sub", "t", "", 48000);
    REQUIRE(wait_for(loop, [&] { return !errors.empty(); }));
    CHECK(errors[0].find("cannot record in") != std::string::npos);
    CHECK(!rec.recording());
    CHECK(!rec.state().recording);
}

TEST_CASE("recorder: a failing write (file size limit, as a full disk) stops the take; the part written is a valid WAV") {
    TempFolder dir;
    RecordTap tap(1 << 16);
    Loop loop;
    std::vector<std::string> errors;
    FakeAudio audio(tap);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit old{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
    rlimit small = old;
    small.rlim_cur = 64 * 1024; // about 0.3 s of wet at 48 kHz
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    {
        Recorder rec(tap, [&](std::function<void()> f) { loop.post(std::move(f)); },
                     {{}, [&](const std::string& e) { errors.push_back(e); }});
        rec.start(dir.path, "full", "", 48000);
        REQUIRE(wait_for(loop, [&] { return !errors.empty(); }));
        CHECK(errors[0].find("recording stopped") != std::string::npos);
        CHECK(!rec.recording());
        CHECK(!rec.state().recording);
    }
    REQUIRE(setrlimit(RLIMIT_FSIZE, &old) == 0);
    std::signal(SIGXFSZ, SIG_DFL);
    const Wav wet = read_wav(dir.path / "full.wet.wav");
    CHECK(wet.channels == 2);
    CHECK(wet.data.size() > 1000);
    CHECK(fs::file_size(dir.path / "full.wet.wav") <= 64 * 1024);
}
