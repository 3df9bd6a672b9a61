#pragma once

#include <cstdint>

namespace rigd::core {

// The identity of a stage in engine commands. The control side hands out
// handles from a 64-bit counter and never reuses one, so a command that
// names a stage which has since left the chain can only miss, never hit
// another stage that happens to live at the same address (the use-after-free
// of raw Stage* identities; guarded by "chain: a handle is never confused
// with a later stage" in tests/core/test_chain.cpp).
struct StageHandle {
    std::uint64_t value = 0;

    [[nodiscard]] constexpr bool valid() const noexcept { return value != 0; }
    friend constexpr bool operator==(StageHandle, StageHandle) noexcept = default;
};

inline constexpr StageHandle kNoStage{};

} // namespace rigd::core
