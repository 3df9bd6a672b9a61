// ScopedAllocationCounter for RealtimeSanitizer builds (-Drtsan=true).
//
// alloc_counter.cpp replaces malloc & co. and calls glibc directly, which
// would hide every allocation from RTSan's interceptors. Here nothing is
// replaced: a counted scope enters RTSan's real-time context instead, so an
// allocation, free, lock or blocking system call anywhere inside it (ours,
// libstdc++'s, FFTW's) is reported and stops the test (halt_on_error). That
// is stricter than the count it stands in for, which stays 0.
#include "alloc_counter.hpp"

// RTSan's runtime entry points, the ones the compiler calls around every
// [[clang::nonblocking]] function (not in <sanitizer/rtsan_interface.h>).
extern "C" {
void __rtsan_realtime_enter();
void __rtsan_realtime_exit();
}

namespace rigd::test {

// The real-time context runs from construction to the first read of a
// count: exactly what `work; CHECK(counter.total() == 0);` covers with the
// counting allocator (what a test does after the read, e.g. draining the
// retire queue, is not real-time work). Nothing is counted: start_allocs_ and
// start_frees_ stay 0, and a scope that allocated never gets to read them.
namespace {
void leave(bool& open) noexcept {
    if (open) {
        open = false;
        __rtsan_realtime_exit();
    }
}
} // namespace

ScopedAllocationCounter::ScopedAllocationCounter() noexcept
    : start_allocs_(0), start_frees_(0), was_counting_(true) {
    __rtsan_realtime_enter();
}

ScopedAllocationCounter::~ScopedAllocationCounter() { leave(was_counting_); }

std::size_t ScopedAllocationCounter::allocations() const noexcept {
    leave(was_counting_);
    return start_allocs_;
}
std::size_t ScopedAllocationCounter::frees() const noexcept {
    leave(was_counting_);
    return start_frees_;
}

bool allocation_counter_active() noexcept { return false; }

} // namespace rigd::test
