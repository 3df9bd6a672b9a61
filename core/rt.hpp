#pragma once

// RIGD_RT marks a real-time entry point: the JACK process callback and
// everything it calls. Under clang it is [[clang::nonblocking]], so a build
// with -fsanitize=realtime (scripts/check rtsan) reports any allocation,
// lock, syscall or other blocking call made inside it at run time, and
// -Wfunction-effects can flag calls to unannotated functions at compile time.
// Elsewhere it expands to nothing.
#if defined(__clang__) && defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::nonblocking)
#define RIGD_RT [[clang::nonblocking]]
#endif
#endif
#ifndef RIGD_RT
#define RIGD_RT
#endif
