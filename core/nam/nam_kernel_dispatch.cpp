#include "core/nam/nam_kernels.hpp"

#include <cstdlib>
#include <string_view>

namespace rigd::core::nam {

// One nam_kernels.cpp per instruction set (see core/nam/meson.build).
namespace isa_default {
const NamKernelTable& kernels_for_this_isa();
}
#if defined(RIGD_NAM_DISPATCH)
namespace isa_avx2 {
const NamKernelTable& kernels_for_this_isa();
}
namespace isa_avx512 {
const NamKernelTable& kernels_for_this_isa();
}
#endif
#if defined(RIGD_NAM_NEON)
namespace isa_neon {
const NamKernelTable& kernels_for_this_isa();
}
#endif

const NamKernelTable& kernel_table() {
    static const NamKernelTable& table = []() -> const NamKernelTable& {
#if defined(RIGD_NAM_DISPATCH)
        const char* env = std::getenv("RIGD_NAM_ISA");
        const std::string_view force = env != nullptr ? env : "";
        __builtin_cpu_init();
        const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
        if (force == "baseline") {
            return isa_default::kernels_for_this_isa();
        }
        if (avx512 && (force.empty() || force == "avx512")) {
            return isa_avx512::kernels_for_this_isa();
        }
        if (avx2) {
            return isa_avx2::kernels_for_this_isa();
        }
#endif
#if defined(RIGD_NAM_NEON)
        // aarch64: the NEON kernels; RIGD_NAM_ISA=baseline keeps the generic
        // ones (for comparisons).
        const char* neon_env = std::getenv("RIGD_NAM_ISA");
        if (neon_env == nullptr || std::string_view(neon_env) != "baseline") {
            return isa_neon::kernels_for_this_isa();
        }
#endif
        return isa_default::kernels_for_this_isa();
    }();
    return table;
}

} // namespace rigd::core::nam
