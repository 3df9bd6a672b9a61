#pragma once

// RIGD_RT marks a real-time entry point: the JACK process callback and
// everything it calls. Under clang it is [[clang::nonblocking]], so a build
// with -fsanitize=realtime (scripts/check rtsan) reports any allocation,
// lock, syscall or other blocking call made inside it at run time, and
// -Wfunction-effects can flag calls to unannotated functions at compile time.
// Elsewhere it expands to nothing. It goes after the parameter list and
// noexcept, before override: `void process_block(std::span<float> b) noexcept
// RIGD_RT override;`.
#if defined(__clang__) && defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::nonblocking)
#define RIGD_RT [[clang::nonblocking]]
#endif
#endif
#ifndef RIGD_RT
#define RIGD_RT
#endif
