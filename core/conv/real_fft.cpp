#include "core/conv/real_fft.hpp"

#include "core/conv/aligned_buffer.hpp"

#include <fftw3.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace rigd::core::conv {

namespace {

// FFTW's planner is not thread-safe; execute is. Stages may be built on
// several non-RT threads at once, so planning and destroying are serialised.
std::mutex& planner_mutex() {
    static std::mutex m;
    return m;
}

} // namespace

RealFft::~RealFft() { release(); }

RealFft::RealFft(RealFft&& other) noexcept
    : forward_plan_(std::exchange(other.forward_plan_, nullptr)),
      inverse_plan_(std::exchange(other.inverse_plan_, nullptr)), size_(std::exchange(other.size_, 0)) {}

RealFft& RealFft::operator=(RealFft&& other) noexcept {
    if (this != &other) {
        release();
        forward_plan_ = std::exchange(other.forward_plan_, nullptr);
        inverse_plan_ = std::exchange(other.inverse_plan_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void RealFft::release() noexcept {
    if (forward_plan_ == nullptr && inverse_plan_ == nullptr) {
        return;
    }
    const std::lock_guard lock(planner_mutex());
    if (forward_plan_ != nullptr) {
        fftwf_destroy_plan(static_cast<fftwf_plan>(forward_plan_));
    }
    if (inverse_plan_ != nullptr) {
        fftwf_destroy_plan(static_cast<fftwf_plan>(inverse_plan_));
    }
    forward_plan_ = nullptr;
    inverse_plan_ = nullptr;
    size_ = 0;
}

namespace {
std::atomic<RealFft::Effort>& effort_limit() {
    static std::atomic<RealFft::Effort> limit{RealFft::Effort::measure};
    return limit;
}
} // namespace

void RealFft::limit_effort(Effort max) noexcept { effort_limit().store(max, std::memory_order_relaxed); }

void RealFft::prepare(std::size_t size, Effort effort) {
    if (size < 2 || (size & (size - 1)) != 0) {
        throw std::invalid_argument("RealFft: size " + std::to_string(size) + " is not a power of two >= 2");
    }
    release();
    // Planning with MEASURE scribbles over its arrays: use private ones with
    // the same alignment every caller's buffers have.
    AlignedBuffer time(size);
    AlignedBuffer spectrum(2 * stride_for(size));
    float* re = spectrum.data();
    float* im = re + stride_for(size);
    if (effort_limit().load(std::memory_order_relaxed) == Effort::estimate) {
        effort = Effort::estimate;
    }
    const unsigned flags = effort == Effort::measure ? FFTW_MEASURE : FFTW_ESTIMATE;
    fftw_iodim dim{static_cast<int>(size), 1, 1};

    const std::lock_guard lock(planner_mutex());
    fftwf_plan fwd = fftwf_plan_guru_split_dft_r2c(1, &dim, 0, nullptr, time.data(), re, im,
                                                   flags | FFTW_PRESERVE_INPUT);
    fftwf_plan inv = fftwf_plan_guru_split_dft_c2r(1, &dim, 0, nullptr, re, im, time.data(),
                                                   flags | FFTW_DESTROY_INPUT);
    if (fwd == nullptr || inv == nullptr) {
        if (fwd != nullptr) {
            fftwf_destroy_plan(fwd);
        }
        if (inv != nullptr) {
            fftwf_destroy_plan(inv);
        }
        throw std::runtime_error("RealFft: FFTW could not plan size " + std::to_string(size));
    }
    forward_plan_ = fwd;
    inverse_plan_ = inv;
    size_ = size;
}

void RealFft::prewarm(std::size_t max_size) {
    for (std::size_t n = 256; n <= max_size; n *= 2) {
        RealFft fft;
        fft.prepare(n);
    }
}

bool RealFft::load_wisdom(const std::filesystem::path& file) {
    const std::lock_guard lock(planner_mutex());
    return fftwf_import_wisdom_from_filename(file.c_str()) != 0;
}

bool RealFft::save_wisdom(const std::filesystem::path& file) {
    const std::lock_guard lock(planner_mutex());
    return fftwf_export_wisdom_to_filename(file.c_str()) != 0;
}

// FFTW's new-array execute on a planned size allocates nothing and takes no
// lock (FFTW's thread-safety notes: only planning needs the lock); clang
// cannot see that through the C declaration, RTSan checks it at run time.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
void RealFft::forward(const float* in, float* spectrum) const noexcept RIGD_RT {
    // PRESERVE_INPUT was requested at planning, so the cast is honest.
    fftwf_execute_split_dft_r2c(static_cast<fftwf_plan>(forward_plan_), const_cast<float*>(in), spectrum,
                                spectrum + stride());
}

void RealFft::inverse(float* spectrum, float* out) const noexcept RIGD_RT {
    fftwf_execute_split_dft_c2r(static_cast<fftwf_plan>(inverse_plan_), spectrum, spectrum + stride(), out);
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

} // namespace rigd::core::conv
