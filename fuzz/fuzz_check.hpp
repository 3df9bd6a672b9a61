#pragma once

// Invariant checks for the libFuzzer targets: a broken invariant prints what
// was expected and aborts, which libFuzzer records as a crash with the input.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace rigd::fuzz {

[[noreturn]] inline void fail(std::string_view what) {
    std::fprintf(stderr, "\nrigd fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

inline void require(bool ok, std::string_view what) {
    if (!ok) {
        fail(what);
    }
}

// A refusal must say which file it is about: "<file>: <problem>".
inline void require_names(std::string_view message, std::string_view file, std::string_view what) {
    if (message.substr(0, file.size()) != file || message.size() <= file.size() + 2 ||
        message.substr(file.size(), 2) != ": ") {
        fail(std::string(what) + ": error does not start with '" + std::string(file) + ": ': " + std::string(message));
    }
}

} // namespace rigd::fuzz
