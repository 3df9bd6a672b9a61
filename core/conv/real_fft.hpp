#pragma once

#include "core/rt.hpp"

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace rigd::core::conv {

// Real FFT of a power-of-two size n with split-complex spectra: one array of
// 2 * stride() floats, the real parts of bins 0..n/2 first, the imaginary
// parts from index stride() on (im of bins 0 and n/2 is zero). stride() is
// n/2 + 1 rounded up to whole 16-float vectors; the padding is never written,
// so zeroed padding stays zero. The only place that knows the FFT library
// (FFTW3, single precision): swapping the backend means reimplementing this
// class.
//
// Every pointer passed to forward/inverse must be AlignedBuffer-aligned
// (64 bytes) or a multiple of 16 floats into such a buffer: FFTW's new-array
// execute requires the alignment (and, for split spectra, the re/im distance)
// the plan was made with.
class RealFft {
public:
    enum class Effort { estimate, measure };
    static constexpr std::string_view kBackend = "fftw3f";

    RealFft() = default;
    ~RealFft();
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;
    RealFft(RealFft&& other) noexcept;
    RealFft& operator=(RealFft&& other) noexcept;

    // Off the RT thread (plans; may take a while the first time a size is
    // seen in this process, later plans of that size reuse FFTW's wisdom).
    void prepare(std::size_t size, Effort effort = Effort::measure);
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] static std::size_t stride_for(std::size_t size) noexcept RIGD_RT { return (size / 2 + 1 + 15) / 16 * 16; }
    [[nodiscard]] std::size_t stride() const noexcept RIGD_RT { return stride_for(size_); }

    // Unnormalised forward transform; `in` is not modified. RT-safe.
    void forward(const float* in, float* spectrum) const noexcept RIGD_RT;
    // Unnormalised inverse (a forward + inverse round trip scales by n).
    // Overwrites the spectrum. RT-safe.
    void inverse(float* spectrum, float* out) const noexcept RIGD_RT;

    // FFTW_MEASURE planning costs ~1.5-3 s the first time each size is seen
    // in a process (later plans of a size are instant). The daemon may plan
    // the convolver's sizes at start-up on a non-RT thread, and keep the
    // result across runs as FFTW wisdom. All three are off the RT thread.
    static void prewarm(std::size_t max_size = 16384);
    // Caps the effort of every later prepare() in this process. Under an
    // emulator (the arm64 test run under qemu) FFTW_MEASURE times its
    // candidates at soft-float speed, minutes per size: the tests cap it at
    // estimate there (tests/support/doctest_main.cpp). Any thread.
    static void limit_effort(Effort max) noexcept;
    [[nodiscard]] static bool load_wisdom(const std::filesystem::path& file);
    [[nodiscard]] static bool save_wisdom(const std::filesystem::path& file);

private:
    void release() noexcept;

    void* forward_plan_ = nullptr;
    void* inverse_plan_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace rigd::core::conv
