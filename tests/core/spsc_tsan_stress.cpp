// Built with -fsanitize=thread: any data race in the queue fails the run
// (TSAN_OPTIONS exitcode=66). Also checks order and payload integrity.
#include "core/spsc_queue.hpp"

#include <cstdint>
#include <cstdio>
#include <thread>

namespace {

struct Payload {
    std::uint64_t seq = 0;
    std::uint64_t check = 0; // seq * constant: catches torn reads
};

} // namespace

int main() {
    constexpr std::uint64_t kCount = 2'000'000;
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
    rigd::core::SpscQueue<Payload> q(128);
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kCount;) {
            if (q.try_push(Payload{i, i * kMul})) {
                ++i;
            }
        }
    });
    std::uint64_t expected = 0;
    std::uint64_t errors = 0;
    while (expected < kCount) {
        if (auto p = q.try_pop()) {
            errors += (p->seq != expected || p->check != expected * kMul) ? 1 : 0;
            ++expected;
        }
    }
    producer.join();
    std::printf("spsc stress: %llu items, %llu errors\n", static_cast<unsigned long long>(kCount),
                static_cast<unsigned long long>(errors));
    return errors == 0 ? 0 : 1;
}
