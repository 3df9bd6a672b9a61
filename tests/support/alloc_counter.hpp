#pragma once

#include <cstddef>

namespace rigd::test {

// Counts heap allocations and frees made by the calling thread while a
// ScopedAllocationCounter is alive. Linked into every test binary: it
// replaces malloc/calloc/realloc/free/aligned_alloc/posix_memalign and the
// C++ operators new/delete, so Eigen, libstdc++ and C libraries are all seen.
class ScopedAllocationCounter {
public:
    ScopedAllocationCounter() noexcept;
    ~ScopedAllocationCounter();
    ScopedAllocationCounter(const ScopedAllocationCounter&) = delete;
    ScopedAllocationCounter& operator=(const ScopedAllocationCounter&) = delete;

    [[nodiscard]] std::size_t allocations() const noexcept;
    [[nodiscard]] std::size_t frees() const noexcept;
    [[nodiscard]] std::size_t total() const noexcept { return allocations() + frees(); }

private:
    std::size_t start_allocs_;
    std::size_t start_frees_;
    mutable bool was_counting_; // RTSan variant: the real-time context is still open
};

// False in a RealtimeSanitizer build (-Drtsan=true): there a counted scope
// is an RTSan real-time context from construction to the first read of a
// count (what that read would have covered), so any allocation, free, lock or
// blocking call inside it stops the test with a report; the counts stay 0.
#if defined(RIGD_RTSAN_COUNTER)
inline constexpr bool kCountsAllocations = false;
#else
inline constexpr bool kCountsAllocations = true;
#endif

// Sanity hook for the counter's own test.
[[nodiscard]] bool allocation_counter_active() noexcept;

} // namespace rigd::test
