// Built with -fsanitize=thread: a data race in InputTap fails the run
// (TSAN_OPTIONS exitcode=66). Every successful read must also be a
// contiguous run of the producer's counting stream, so an undetected torn
// read fails too.
#include "core/tuner/input_tap.hpp"

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

int main() {
    constexpr std::size_t kTotal = std::size_t{1} << 22;
    constexpr std::size_t kPeriod = 128;
    constexpr std::size_t kWrap = std::size_t{1} << 24; // floats count exactly below 2^24
    rigd::core::tuner::InputTap tap(2048);
    std::atomic<bool> done{false};
    std::thread producer([&] {
        std::vector<float> block(kPeriod);
        for (std::size_t pos = 0; pos < kTotal; pos += kPeriod) {
            for (std::size_t i = 0; i < kPeriod; ++i) {
                block[i] = static_cast<float>((pos + i) % kWrap);
            }
            tap.write(block);
        }
        done.store(true, std::memory_order_release);
    });
    std::vector<float> out(2000); // close to capacity: overwrites mid-copy are frequent
    unsigned long long reads = 0;
    unsigned long long empty = 0;
    unsigned long long errors = 0;
    while (!done.load(std::memory_order_acquire)) {
        const std::size_t got = tap.read_latest(out);
        if (got == 0) {
            ++empty;
            continue;
        }
        ++reads;
        for (std::size_t i = 1; i < got; ++i) {
            errors += out[i] == out[i - 1] + 1.0f ? 0 : 1;
        }
    }
    producer.join();
    // After the producer stops, the newest samples are exactly the end of the stream.
    if (tap.read_latest(out) != out.size() || out.back() != static_cast<float>((kTotal - 1) % kWrap)) {
        ++errors;
    }
    std::printf("input tap stress: %llu reads, %llu empty, %llu errors\n", reads, empty, errors);
    return errors == 0 ? 0 : 1;
}
