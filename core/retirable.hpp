#pragma once

namespace rigd::core {

// Anything the RT thread hands back to be destroyed elsewhere (stages, whole
// chains, models). The retire queue carries raw Retirable pointers; the
// control side wraps them in unique_ptr and deletes them off the RT thread.
class Retirable {
public:
    Retirable() = default;
    Retirable(const Retirable&) = delete;
    Retirable& operator=(const Retirable&) = delete;
    virtual ~Retirable() = default;
};

} // namespace rigd::core
