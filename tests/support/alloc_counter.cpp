#include "alloc_counter.hpp"

#include <cerrno>
#include <cstdlib>
#include <new>

// Under AddressSanitizer or ThreadSanitizer the sanitizer owns the allocator:
// replacing malloc would hide every heap access from it. There the counter
// listens to the sanitizer's own allocation hooks instead (same counts: new,
// malloc, realloc, aligned forms and their frees all pass through them).
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RIGD_SANITIZER_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RIGD_SANITIZER_ALLOCATOR 1
#endif

#if defined(RIGD_SANITIZER_ALLOCATOR)
#include <sanitizer/allocator_interface.h>
#endif

#if !defined(RIGD_SANITIZER_ALLOCATOR)
// glibc's real allocator entry points.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
void* __libc_memalign(std::size_t, std::size_t);
}

#endif

namespace {

struct Counts {
    std::size_t allocs;
    std::size_t frees;
    bool counting;
};

// initial-exec TLS: reading it never calls the allocator (no lazy TLS setup).
__attribute__((tls_model("initial-exec"))) thread_local Counts t_counts{0, 0, false};

inline void note_alloc() noexcept {
    if (t_counts.counting) {
        ++t_counts.allocs;
    }
}
inline void note_free(void* p) noexcept {
    if (p != nullptr && t_counts.counting) {
        ++t_counts.frees;
    }
}

#if !defined(RIGD_SANITIZER_ALLOCATOR)
void* aligned(std::size_t alignment, std::size_t size) noexcept {
    note_alloc();
    return __libc_memalign(alignment, size);
}
#endif

} // namespace

#if !defined(RIGD_SANITIZER_ALLOCATOR)

extern "C" {

void* malloc(std::size_t size) {
    note_alloc();
    return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
    note_alloc();
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
    note_alloc();
    return __libc_realloc(p, size);
}
void free(void* p) {
    note_free(p);
    __libc_free(p);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) { return aligned(alignment, size); }
void* memalign(std::size_t alignment, std::size_t size) { return aligned(alignment, size); }
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    void* p = aligned(alignment, size);
    if (p == nullptr) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

} // extern "C"

void* operator new(std::size_t size) {
    void* p = malloc(size == 0 ? 1 : size);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return malloc(size == 0 ? 1 : size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return malloc(size == 0 ? 1 : size); }
void* operator new(std::size_t size, std::align_val_t al) {
    void* p = aligned(static_cast<std::size_t>(al), size == 0 ? 1 : size);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}
void* operator new[](std::size_t size, std::align_val_t al) { return operator new(size, al); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, std::size_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { free(p); }

#else

extern "C" {
// Called by the sanitizer's allocator for every allocation and free.
void rigd_counter_malloc_hook(const volatile void* /*p*/, std::size_t /*size*/) { note_alloc(); }
void rigd_counter_free_hook(const volatile void* p) { note_free(const_cast<void*>(p)); }
}

namespace {
[[maybe_unused]] const int g_hooks_installed =
    __sanitizer_install_malloc_and_free_hooks(&rigd_counter_malloc_hook, &rigd_counter_free_hook);
} // namespace

#endif

namespace rigd::test {

ScopedAllocationCounter::ScopedAllocationCounter() noexcept
    : start_allocs_(t_counts.allocs), start_frees_(t_counts.frees), was_counting_(t_counts.counting) {
    t_counts.counting = true;
}

ScopedAllocationCounter::~ScopedAllocationCounter() { t_counts.counting = was_counting_; }

std::size_t ScopedAllocationCounter::allocations() const noexcept { return t_counts.allocs - start_allocs_; }
std::size_t ScopedAllocationCounter::frees() const noexcept { return t_counts.frees - start_frees_; }

bool allocation_counter_active() noexcept { return t_counts.counting; }

} // namespace rigd::test
