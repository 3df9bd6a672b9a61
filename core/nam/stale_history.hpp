#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace rigd::core::nam {

// O(1) reset of a dilated convolution's input history. The state a WaveNet
// resets to (after prepare, or after a prewarm of at least its receptive
// field with zeros) is constant in time: every history row holds one value.
// reset() only records that; before each block, fill() writes that value
// into exactly the frames the taps are about to read that are still stale,
// so a block costs at most taps x block frames x rows extra, never the whole
// history. Positions are frames in the row buffer: at reset the block write
// position is `live`; frames from there on are written live.
class StaleHistory {
public:
    void prepare(int taps, int dilation) {
        taps_ = taps;
        dilation_ = dilation;
        next_.assign(static_cast<std::size_t>(taps), 0);
        active_ = false;
    }
    void reset(std::ptrdiff_t write) noexcept {
        live_ = write;
        for (int k = 0; k < taps_; ++k) {
            next_[static_cast<std::size_t>(k)] = write - static_cast<std::ptrdiff_t>(taps_ - 1 - k) * dilation_;
        }
        active_ = taps_ > 1;
    }
    void clear() noexcept { active_ = false; }
    // The row buffer moved its last frames `shift` positions to the front.
    void rewind(std::ptrdiff_t shift) noexcept {
        live_ -= shift;
        for (auto& n : next_) {
            n -= shift;
        }
    }
    // Before a block of `np` frames written at `write`: give the taps' windows
    // the reset value where still stale.
    void fill(float* rows, std::size_t stride, int row_count, const float* values, std::ptrdiff_t write,
              std::size_t np) noexcept {
        if (!active_) {
            return;
        }
        bool pending = false;
        for (int k = 0; k < taps_; ++k) {
            std::ptrdiff_t& next = next_[static_cast<std::size_t>(k)];
            const std::ptrdiff_t start = write - static_cast<std::ptrdiff_t>(taps_ - 1 - k) * dilation_;
            const std::ptrdiff_t to = std::min(start + static_cast<std::ptrdiff_t>(np), live_);
            const std::ptrdiff_t from = std::max(next, start);
            if (from < to) {
                for (int r = 0; r < row_count; ++r) {
                    float* row = rows + static_cast<std::size_t>(r) * stride;
                    std::fill(row + from, row + to, values[r]);
                }
            }
            next = std::max(next, to);
            pending = pending || next < live_;
        }
        active_ = pending;
    }
    [[nodiscard]] bool active() const noexcept { return active_; }

private:
    int taps_ = 1;
    int dilation_ = 1;
    std::ptrdiff_t live_ = 0;
    std::vector<std::ptrdiff_t> next_;
    bool active_ = false;
};

// The per-row reset values of a history region [write - history, write) of
// `rows` rows, if every row is constant there (else false).
inline bool constant_rows(const float* rows, std::size_t stride, int row_count, std::size_t write,
                          std::size_t history, std::vector<float>& values) {
    values.assign(static_cast<std::size_t>(row_count), 0.0f);
    for (int r = 0; r < row_count; ++r) {
        const float* row = rows + static_cast<std::size_t>(r) * stride;
        if (history == 0) {
            continue;
        }
        const float v = row[write - 1];
        for (std::size_t i = write - history; i < write; ++i) {
            if (!(row[i] == v) && !(row[i] != row[i] && v != v)) {
                return false;
            }
        }
        values[static_cast<std::size_t>(r)] = v;
    }
    return true;
}

} // namespace rigd::core::nam
