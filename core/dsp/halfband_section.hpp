#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace rigd::core::dsp {

// One 2x step of the oversampler: a linear-phase half-band FIR (Kaiser
// windowed sinc) run polyphase, so every other tap is skipped and each
// direction costs 2P multiply-adds per low-rate sample. Round-trip delay
// (up then down) is 2 * (2P - 1) samples at the high rate.
class HalfbandSection {
public:
    // transition_width: stopband edge minus passband edge in cycles per
    // high-rate sample (the band is symmetric about 0.25); attenuation_db is
    // the stopband target (passband ripple is the same linear deviation).
    void design(double transition_width, double attenuation_db);
    void prepare(std::size_t max_low_rate_block);
    void reset() noexcept;

    // in: n low-rate samples -> out: 2n high-rate samples.
    void upsample(std::span<const float> in, std::span<float> out) noexcept;
    // in: 2n high-rate samples -> out: n low-rate samples.
    void downsample(std::span<const float> in, std::span<float> out) noexcept;

    [[nodiscard]] int half_length() const noexcept { return p_; }          // P
    [[nodiscard]] int delay_high_rate() const noexcept { return 2 * p_ - 1; } // per direction
    // The 2P odd-offset taps (oldest first) as designed, in double.
    [[nodiscard]] const std::vector<double>& branch_taps() const noexcept { return taps_; }

private:
    // acc[m] = sum_j taps[j] * buf[m + j] for m < n, vectorised over m so
    // each output keeps one summation order whatever the block length.
    static void fir(const float* buf, const float* taps, std::size_t ntaps, float* acc, std::size_t n) noexcept;

    int p_ = 0;
    std::vector<double> taps_;   // h at odd offsets, oldest first
    std::vector<float> up_taps_; // 2 * taps (zero stuffing halves the level)
    std::vector<float> down_taps_;
    std::vector<float> up_buf_;   // (2P-1) history + block
    std::vector<float> even_buf_; // (2P-1) history + block
    std::vector<float> odd_buf_;  // P history + block
    std::vector<float> acc_;
    std::size_t max_block_ = 0;
};

} // namespace rigd::core::dsp
