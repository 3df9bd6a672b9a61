#pragma once

#include <cstdint>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace rigd::core {

// Flush denormals to zero on the calling thread (FTZ+DAZ on x86, FZ on
// AArch64). Register writes only: safe to call at the top of every period.
inline void flush_denormals_on_this_thread() noexcept {
#if defined(__x86_64__) || defined(__SSE__)
    _mm_setcsr(_mm_getcsr() | 0x8040u); // FTZ (bit 15) | DAZ (bit 6)
#elif defined(__aarch64__)
    std::uint64_t fpcr = 0;
    asm volatile("mrs %0, fpcr" : "=r"(fpcr));
    asm volatile("msr fpcr, %0" : : "r"(fpcr | (std::uint64_t{1} << 24)));
#elif defined(__arm__) && defined(__ARM_FP)
    std::uint32_t fpscr = 0;
    asm volatile("vmrs %0, fpscr" : "=r"(fpscr));
    asm volatile("vmsr fpscr, %0" : : "r"(fpscr | (std::uint32_t{1} << 24)));
#endif
}

[[nodiscard]] inline bool denormals_are_flushed() noexcept {
#if defined(__x86_64__) || defined(__SSE__)
    return (_mm_getcsr() & 0x8040u) == 0x8040u;
#elif defined(__aarch64__)
    std::uint64_t fpcr = 0;
    asm volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr & (std::uint64_t{1} << 24)) != 0;
#else
    return true;
#endif
}

} // namespace rigd::core
