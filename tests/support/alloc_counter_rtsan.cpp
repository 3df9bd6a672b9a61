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

// Nothing is counted: start_allocs_ and start_frees_ stay 0, and a scope
// that allocated never gets as far as reading them.
ScopedAllocationCounter::ScopedAllocationCounter() noexcept
    : start_allocs_(0), start_frees_(0), was_counting_(true) {
    __rtsan_realtime_enter();
}

ScopedAllocationCounter::~ScopedAllocationCounter() {
    if (was_counting_) {
        __rtsan_realtime_exit();
    }
}

std::size_t ScopedAllocationCounter::allocations() const noexcept { return start_allocs_; }
std::size_t ScopedAllocationCounter::frees() const noexcept { return start_frees_; }

bool allocation_counter_active() noexcept { return false; }

} // namespace rigd::test
