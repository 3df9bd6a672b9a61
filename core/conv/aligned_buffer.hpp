#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace rigd::core::conv {

// A fixed-size float array aligned for SIMD and for FFTW's new-array execute
// (every buffer handed to one plan must share the planning alignment).
// Sized off the RT thread; element access and clear() never allocate.
class AlignedBuffer {
public:
    static constexpr std::size_t kAlignment = 64;

    AlignedBuffer() = default;
    explicit AlignedBuffer(std::size_t size) { resize(size); }
    ~AlignedBuffer() { std::free(data_); }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    AlignedBuffer(AlignedBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
        other.data_ = nullptr;
        other.size_ = 0;
    }
    AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
        if (this != &other) {
            std::free(data_);
            data_ = other.data_;
            size_ = other.size_;
            other.data_ = nullptr;
            other.size_ = 0;
        }
        return *this;
    }

    // Reallocates and zeroes (off the RT thread).
    void resize(std::size_t size) {
        std::free(data_);
        data_ = nullptr;
        size_ = 0;
        if (size == 0) {
            return;
        }
        const std::size_t bytes = (size * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
        data_ = static_cast<float*>(std::aligned_alloc(kAlignment, bytes));
        if (data_ == nullptr) {
            throw std::bad_alloc();
        }
        size_ = size;
        clear();
    }

    void clear() noexcept {
        if (size_ > 0) {
            std::memset(data_, 0, size_ * sizeof(float));
        }
    }

    [[nodiscard]] float* data() noexcept { return data_; }
    [[nodiscard]] const float* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] float& operator[](std::size_t i) noexcept { return data_[i]; }
    [[nodiscard]] const float& operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    float* data_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace rigd::core::conv
