#pragma once

#include "core/conv/aligned_buffer.hpp"
#include "core/conv/real_fft.hpp"
#include "core/rt.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace rigd::core::conv {

// Zero-latency, non-uniformly partitioned FIR convolution of one mono
// channel.
//
// The first `head` taps run as a direct-form FIR, so every output sample
// depends on the input sample of the same call. The rest of the response is
// cut into levels of uniform partitions whose size grows with the offset
// (128, 256 ... max_partition by default); each level runs overlap-save
// with a frequency-domain delay line. A level of partition size Q starts at a
// tap offset D that is a multiple of Q and at least Q, so the FFT work for an
// input block is done in the call in which that block completes and is first
// needed one sample later; offsets D > Q are served by reading older spectra
// from the delay line instead of delaying anything in time.
//
// Levels that start at D >= 2Q are time-distributed: the spectra they need
// for the next output block are all known one block early, so their forward
// FFT and multiply-accumulate passes are spread over the head-size steps of
// that block, and only the inverse FFT stays on the block boundary. This
// keeps the worst single call near the mean instead of doing a 5 s IR's
// whole tail in one period.
//
// Blocks of any length (and lengths that change between calls) give the same
// result: the work is cut at absolute sample positions, not at call edges.
class PartitionedConvolver {
public:
    struct Options {
        // Defaults measured in bench/conv (see RESULTS.md) for 20 ms..5 s IRs
        // at 32..256-frame periods.
        std::size_t head_size = 128;       // direct taps and first partition (power of two >= 16)
        std::size_t max_partition = 8192;  // largest partition (power of two >= head_size)
        std::size_t min_partitions = 1;    // partitions per level before the size may grow
        // Grow to the next size only while more than grow_after * Q taps
        // remain: a new level costs an FFT pair per block, staying costs one
        // multiply-accumulate pass per partition.
        std::size_t grow_after = 32;
        // Levels with partitions of at least this size start at an offset of
        // 2Q or more, which lets their work be spread over the preceding
        // block instead of landing in one call (0: never).
        std::size_t spread_from = 1024;
        RealFft::Effort effort = RealFft::Effort::measure;
    };

    struct Level {
        std::size_t size = 0;   // partition length Q
        std::size_t offset = 0; // first tap D (multiple of Q, >= Q)
        std::size_t count = 0;  // partitions in this level
    };

    PartitionedConvolver();
    ~PartitionedConvolver();
    PartitionedConvolver(const PartitionedConvolver&) = delete;
    PartitionedConvolver& operator=(const PartitionedConvolver&) = delete;
    PartitionedConvolver(PartitionedConvolver&&) noexcept;
    PartitionedConvolver& operator=(PartitionedConvolver&&) noexcept;

    // How `ir_length` taps are split with `options` (head taps, then levels).
    [[nodiscard]] static std::vector<Level> plan(std::size_t ir_length, const Options& options);

    // Off the RT thread: partitions the response, plans FFTs, transforms the
    // partitions and allocates all state. An empty response gives silence.
    void prepare(std::span<const float> ir, const Options& options);
    void prepare(std::span<const float> ir) { prepare(ir, Options{}); }

    // Forgets all history without allocating, in O(levels + head size) work
    // whatever the IR's length (the stale buffers are never read again).
    void reset() noexcept RIGD_RT;

    // RT-safe, any length; `in` and `out` may be the same memory.
    void process(std::span<const float> in, std::span<float> out) noexcept RIGD_RT;
    void process(std::span<float> inout) noexcept RIGD_RT { process(inout, inout); }
    [[nodiscard]] float process_sample(float x) noexcept RIGD_RT;

    [[nodiscard]] std::size_t ir_length() const noexcept { return ir_length_; }
    [[nodiscard]] std::size_t head_length() const noexcept { return head_length_; }
    [[nodiscard]] const std::vector<Level>& levels() const noexcept { return layout_; }

private:
    struct LevelState;

    void run_chunk(const float* in, float* out, std::size_t n) noexcept RIGD_RT;
    void run_level(LevelState& level) noexcept RIGD_RT;
    void run_level_step(LevelState& level, std::size_t offset_in_block) noexcept RIGD_RT;
    void accumulate(LevelState& level, std::size_t first, std::size_t last) noexcept RIGD_RT;
    // Zeroes history_[first, clean_) so that reads from `first` on see no
    // sample from before the last reset.
    void clear_history_from(std::size_t first) noexcept RIGD_RT;

    std::vector<Level> layout_;
    std::vector<LevelState> levels_;
    AlignedBuffer head_reversed_; // head taps, last tap first
    AlignedBuffer history_;       // input samples, shifted down when full
    std::size_t head_length_ = 0;
    std::size_t ir_length_ = 0;
    std::size_t block_ = 64;      // chunk quantum = head size = smallest partition
    std::size_t keep_ = 0;        // history kept on a shift (2 * largest partition)
    std::size_t position_ = 0;    // next write index into history_
    std::size_t clean_ = 0;       // history_[clean_, position_) holds nothing from before reset()
    std::size_t phase_ = 0;       // samples since the last largest-partition boundary
    std::size_t cycle_ = 1;       // largest partition size
};

} // namespace rigd::core::conv
