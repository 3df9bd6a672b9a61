#include "core/tuner/input_tap.hpp"

#include "alloc_counter.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

using rigd::core::tuner::InputTap;

namespace {

// Sample i of the test stream: exact in float for i < 2^24.
float sample_at(std::size_t i) { return static_cast<float>(i % (std::size_t{1} << 24)); }

std::vector<float> stream(std::size_t from, std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = sample_at(from + i);
    }
    return v;
}

} // namespace

TEST_CASE("capacity rounds up to a power of two; zero is refused") {
    CHECK(InputTap(1000).capacity() == 1024);
    CHECK(InputTap(4096).capacity() == 4096);
    CHECK_THROWS_AS(InputTap(0), std::invalid_argument);
}

TEST_CASE("read_latest returns the newest samples, oldest first") {
    InputTap tap(16);
    std::vector<float> out(8, -1.0f);
    CHECK(tap.read_latest(out) == 0); // nothing written yet

    tap.write(stream(0, 5));
    CHECK(tap.read_latest(out) == 5); // fewer than asked: at the front
    CHECK(out[0] == 0.0f);
    CHECK(out[4] == 4.0f);
    CHECK(out[5] == -1.0f);

    tap.write(stream(5, 7)); // 12 written
    CHECK(tap.read_latest(out) == 8);
    CHECK(out == stream(4, 8));
    CHECK(tap.samples_written() == 12);
}

TEST_CASE("the writer overwrites the oldest when the reader lags") {
    InputTap tap(16);
    std::size_t written = 0;
    for (int period = 0; period < 10; ++period) {
        tap.write(stream(written, 6));
        written += 6;
    }
    std::vector<float> out(32);
    REQUIRE(tap.read_latest(out) == 16); // at most capacity
    out.resize(16);
    CHECK(out == stream(written - 16, 16));
}

TEST_CASE("a block longer than the ring keeps its tail") {
    InputTap tap(8);
    tap.write(stream(0, 3));
    tap.write(stream(3, 21));
    std::vector<float> out(8);
    REQUIRE(tap.read_latest(out) == 8);
    CHECK(out == stream(16, 8));
    CHECK(tap.samples_written() == 24);
}

TEST_CASE("write and read_latest do not allocate") {
    InputTap tap(4096);
    const auto block = stream(0, 128);
    std::vector<float> out(2048);
    rigd::test::ScopedAllocationCounter counter;
    for (int i = 0; i < 100; ++i) {
        tap.write(block);
        (void)tap.read_latest(out);
    }
    CHECK(counter.total() == 0);
}

TEST_CASE("concurrent writer and reader: every read is a contiguous run of the stream") {
    // The producer writes a counting stream in periods of 64; every read must
    // be consecutive values ending at or before what was written. A torn read
    // (slots overwritten mid-copy) would break the run.
    InputTap tap(4096);
    constexpr std::size_t kTotal = 1 << 22;
    std::atomic<bool> done{false};
    std::thread producer([&] {
        std::vector<float> block(64);
        for (std::size_t pos = 0; pos < kTotal; pos += block.size()) {
            for (std::size_t i = 0; i < block.size(); ++i) {
                block[i] = sample_at(pos + i);
            }
            tap.write(block);
            std::this_thread::yield(); // a period boundary, roughly
        }
        done.store(true, std::memory_order_release);
    });
    std::vector<float> out(2048);
    std::size_t reads = 0;
    std::size_t broken = 0;
    while (!done.load(std::memory_order_acquire)) {
        const std::size_t got = tap.read_latest(out);
        for (std::size_t i = 1; i < got; ++i) {
            broken += out[i] == out[i - 1] + 1.0f ? 0 : 1;
        }
        reads += got > 0 ? 1 : 0;
    }
    producer.join();
    CHECK(broken == 0);
    CHECK(reads > 0);
    REQUIRE(tap.read_latest(out) == out.size());
    CHECK(out.back() == sample_at(kTotal - 1));
}
