#include "core/conv/partitioned_convolver.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace rigd::core::conv {

namespace {

// Floats past the end of the history that the head FIR may read (and
// discard) when its last vector runs past a chunk.
constexpr std::size_t kHistorySlack = 16;

[[nodiscard]] bool is_pow2(std::size_t n) noexcept { return n != 0 && (n & (n - 1)) == 0; }

using Vec8 = float __attribute__((vector_size(32)));

// Unaligned vector load / store as macros: a function taking or returning a
// 32-byte vector trips -Wpsabi in builds without -march=native.
#define RIGD_LOAD8(v, p) std::memcpy(&(v), (p), sizeof(Vec8))
#define RIGD_STORE8(p, v) std::memcpy((p), &(v), sizeof(Vec8))

// out[i] = sum_j taps[j] * x[i + j] for i < n: the direct-form head, taps in
// reverse order so both operands run forwards. Every output accumulates in
// the same j order whatever n is, so chunking never changes a result.
void direct_fir(const float* __restrict taps, std::size_t tap_count, const float* __restrict x,
                float* __restrict out, std::size_t n) noexcept RIGD_RT {
    // 32 outputs at a time (four independent FMA chains hide the latency),
    // then 8-wide groups; the last group may read up to 7 samples past the
    // chunk (the history keeps that slack) and stores only what is due.
    // Lanes in different loop shapes may round differently (the compiler
    // contracts them into FMAs differently), so block and per-sample paths
    // agree to float rounding, not bit for bit: "block path matches the
    // per-sample path" in tests/conv/test_partitioned_convolver.cpp.
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        Vec8 a0{};
        Vec8 a1{};
        Vec8 a2{};
        Vec8 a3{};
        for (std::size_t j = 0; j < tap_count; ++j) {
            const float t = taps[j];
            Vec8 x0;
            Vec8 x1;
            Vec8 x2;
            Vec8 x3;
            RIGD_LOAD8(x0, x + i + j);
            RIGD_LOAD8(x1, x + i + j + 8);
            RIGD_LOAD8(x2, x + i + j + 16);
            RIGD_LOAD8(x3, x + i + j + 24);
            a0 += t * x0;
            a1 += t * x1;
            a2 += t * x2;
            a3 += t * x3;
        }
        RIGD_STORE8(out + i, a0);
        RIGD_STORE8(out + i + 8, a1);
        RIGD_STORE8(out + i + 16, a2);
        RIGD_STORE8(out + i + 24, a3);
    }
    for (; i < n; i += 8) {
        Vec8 a0{};
        for (std::size_t j = 0; j < tap_count; ++j) {
            Vec8 x0;
            RIGD_LOAD8(x0, x + i + j);
            a0 += taps[j] * x0;
        }
        if (i + 8 <= n) {
            RIGD_STORE8(out + i, a0);
        } else {
            std::memcpy(out + i, &a0, (n - i) * sizeof(float));
        }
    }
}
#undef RIGD_LOAD8
#undef RIGD_STORE8

// acc += x * h over split complex arrays of n (padded) bins.
void complex_mac(float* __restrict acc_re, float* __restrict acc_im, const float* __restrict x_re,
                 const float* __restrict x_im, const float* __restrict h_re, const float* __restrict h_im,
                 std::size_t n) noexcept RIGD_RT {
    for (std::size_t k = 0; k < n; ++k) {
        acc_re[k] += x_re[k] * h_re[k] - x_im[k] * h_im[k];
        acc_im[k] += x_re[k] * h_im[k] + x_im[k] * h_re[k];
    }
}

} // namespace

struct PartitionedConvolver::LevelState {
    RealFft fft;
    std::size_t size = 0;   // Q
    std::size_t bins = 0;   // padded bin count per spectrum
    std::size_t delay = 0;  // offset / Q - 1: spectra skipped in the delay line
    std::size_t count = 0;  // partitions
    std::size_t slots = 0;  // delay + count
    std::size_t newest = 0; // slot of the latest input spectrum
    std::size_t read = 0;   // next output index into out (Q..2Q)
    // Time distribution (delay >= 1 and Q >= spread_from): steps = Q / head
    // sub-steps per block; the forward FFT runs at sub-step fft_step, the
    // partitions are accumulated over fft_step..steps-1.
    bool spread = false;
    std::size_t steps = 1;
    std::size_t fft_step = 1;
    std::size_t accumulated = 0; // partitions already in acc for the next boundary
    bool fft_pending = false;
    // Since the last reset(): spectra written (saturates at slots; older
    // slots hold stale history and are treated as zero), whether out holds an
    // inverse transform, and whether acc may still hold pre-reset sums. This
    // lets reset() leave the big buffers alone.
    std::size_t filled = 0;
    bool primed = false;
    bool acc_stale = false;
    AlignedBuffer filter;   // count x (re, im), scaled by 1 / (2Q)
    AlignedBuffer spectra;  // slots x (re, im): frequency-domain delay line
    AlignedBuffer acc;      // (re, im)
    AlignedBuffer out;      // 2Q time samples; [Q, 2Q) is this block's output
};

PartitionedConvolver::PartitionedConvolver() = default;
PartitionedConvolver::~PartitionedConvolver() = default;
PartitionedConvolver::PartitionedConvolver(PartitionedConvolver&&) noexcept = default;
PartitionedConvolver& PartitionedConvolver::operator=(PartitionedConvolver&&) noexcept = default;

std::vector<PartitionedConvolver::Level> PartitionedConvolver::plan(std::size_t ir_length,
                                                                    const Options& options) {
    if (!is_pow2(options.head_size) || options.head_size < 16) {
        throw std::invalid_argument("PartitionedConvolver: head_size must be a power of two >= 16");
    }
    if (!is_pow2(options.max_partition) || options.max_partition < options.head_size) {
        throw std::invalid_argument("PartitionedConvolver: max_partition must be a power of two >= head_size");
    }
    std::vector<Level> levels;
    std::size_t offset = options.head_size;
    std::size_t size = options.head_size;
    const std::size_t min_count = std::max<std::size_t>(1, options.min_partitions);
    while (offset < ir_length) {
        const std::size_t remaining = ir_length - offset;
        const std::size_t needed = (remaining + size - 1) / size;
        std::size_t count = needed;
        if (size < options.max_partition && remaining > options.grow_after * size) {
            // Grow after min_count partitions, once the next size's
            // alignment (offset a multiple of 2Q) allows it, and late enough
            // (offset >= 2 * next) when the next level is time-distributed.
            const std::size_t next = size * 2;
            const bool next_spread = options.spread_from != 0 && next >= options.spread_from;
            std::size_t grow = min_count;
            while ((offset + grow * size) % next != 0 || (next_spread && offset + grow * size < 2 * next)) {
                ++grow;
            }
            count = std::min(needed, grow);
        }
        levels.push_back(Level{size, offset, count});
        offset += count * size;
        if (size < options.max_partition && offset % (size * 2) == 0) {
            size *= 2;
        }
    }
    return levels;
}

void PartitionedConvolver::prepare(std::span<const float> ir, const Options& options) {
    // Trailing zeros cost work and change nothing.
    std::size_t length = ir.size();
    while (length > 0 && ir[length - 1] == 0.0f) {
        --length;
    }
    std::vector<Level> layout = plan(length, options);
    std::vector<LevelState> states(layout.size());

    const std::size_t block = options.head_size;
    std::size_t largest = block;
    for (std::size_t l = 0; l < layout.size(); ++l) {
        const Level& lv = layout[l];
        LevelState& st = states[l];
        const std::size_t q = lv.size;
        largest = std::max(largest, q);
        st.size = q;
        st.bins = RealFft::stride_for(2 * q); // padding stays zero: no MAC tail
        st.delay = lv.offset / q - 1;
        st.count = lv.count;
        st.slots = st.delay + st.count;
        st.spread = st.delay >= 1 && q > options.head_size && options.spread_from != 0 && q >= options.spread_from;
        st.steps = q / options.head_size;
        // Stagger the forward FFTs of different levels over sub-steps.
        st.fft_step = std::min(st.steps - 1, 1 + l);
        st.fft.prepare(2 * q, options.effort);
        st.filter.resize(st.count * 2 * st.bins);
        st.spectra.resize(st.slots * 2 * st.bins);
        st.acc.resize(2 * st.bins);
        st.out.resize(2 * q);

        // Partition j holds taps [offset + jQ, offset + (j+1)Q), zero-padded
        // to 2Q, transformed once, with the inverse FFT's 1/(2Q) folded in.
        AlignedBuffer time(2 * q);
        const float scale = 1.0f / static_cast<float>(2 * q);
        for (std::size_t j = 0; j < st.count; ++j) {
            time.clear();
            const std::size_t first = lv.offset + j * q;
            const std::size_t n = std::min(q, length - first);
            for (std::size_t k = 0; k < n; ++k) {
                time[k] = ir[first + k] * scale;
            }
            float* re = st.filter.data() + j * 2 * st.bins;
            st.fft.forward(time.data(), re);
        }
    }

    const std::size_t head = std::min(length, block);
    AlignedBuffer head_reversed(block);
    for (std::size_t k = 0; k < head; ++k) {
        head_reversed[head - 1 - k] = ir[k];
    }

    // History: keep the largest overlap-save window (2 * largest) plus one
    // more block (a time-distributed level transforms its window up to a
    // block late) behind the write position; shift down when the end is
    // reached.
    // Both lengths are multiples of the head size, so every FFT window
    // starts on a 64-byte boundary.
    const std::size_t keep = 3 * largest;
    const std::size_t span = std::max(3 * largest, std::size_t{4096});
    AlignedBuffer history(keep + span + kHistorySlack);

    layout_ = std::move(layout);
    levels_ = std::move(states);
    head_reversed_ = std::move(head_reversed);
    history_ = std::move(history);
    head_length_ = head;
    ir_length_ = length;
    block_ = block;
    keep_ = keep;
    cycle_ = largest;
    reset();
}

// O(levels + head size), whatever the IR's length: nothing proportional to
// the spectra, the history or the overlap buffers is touched (issue 9). What
// went before reads as zero instead: the head's reach behind the write
// position is zeroed here, the FFT windows' reach lazily (clear_history_from),
// spectra older than the reset are skipped (filled), a level adds nothing
// until its first inverse transform (primed), and a time-distributed level's
// accumulator is zeroed before its first use (acc_stale).
void PartitionedConvolver::reset() noexcept RIGD_RT {
    position_ = keep_;
    phase_ = 0;
    clean_ = keep_;
    if (history_.size() != 0) {
        clear_history_from(keep_ - block_); // keep_ >= 3 * block_
    }
    for (LevelState& st : levels_) {
        st.newest = 0;
        st.read = st.size;
        st.accumulated = 0;
        st.fft_pending = false;
        st.filled = 0;
        st.primed = false;
        st.acc_stale = st.spread; // a synchronous level zeroes acc at every boundary
    }
}

void PartitionedConvolver::clear_history_from(std::size_t first) noexcept RIGD_RT {
    if (first < clean_) {
        std::memset(history_.data() + first, 0, (clean_ - first) * sizeof(float));
        clean_ = first;
    }
}

void PartitionedConvolver::accumulate(LevelState& st, std::size_t first, std::size_t last) noexcept RIGD_RT {
    const std::size_t bins = st.bins;
    float* acc_re = st.acc.data();
    float* acc_im = acc_re + bins;
    if (st.acc_stale) {
        std::memset(acc_re, 0, 2 * bins * sizeof(float));
        st.acc_stale = false;
    }
    // Partition j meets the spectrum of the window `back + j` blocks older
    // than the newest: `delay` for the synchronous path (the newest window
    // was just transformed for this boundary), `delay - 1` for a spread
    // level (its newest window is one block old by the boundary).
    const std::size_t back = st.spread ? st.delay - 1 : st.delay;
    // Spectra `filled` or more blocks old predate the last reset: their
    // input was zero, so those partitions would add exactly nothing.
    last = std::min(last, st.filled > back ? st.filled - back : 0);
    std::size_t slot = (st.newest + st.slots * 2 - back - first) % st.slots;
    for (std::size_t j = first; j < last; ++j) {
        const float* xs = st.spectra.data() + slot * 2 * bins;
        const float* hs = st.filter.data() + j * 2 * bins;
        complex_mac(acc_re, acc_im, xs, xs + bins, hs, hs + bins, bins);
        slot = slot == 0 ? st.slots - 1 : slot - 1;
    }
}

// Block boundary: the window ending at the write position is complete.
void PartitionedConvolver::run_level(LevelState& st) noexcept RIGD_RT {
    const std::size_t bins = st.bins;
    st.primed = true;
    if (!st.spread) {
        st.newest = st.newest + 1 == st.slots ? 0 : st.newest + 1;
        st.filled += st.filled < st.slots ? 1 : 0;
        clear_history_from(position_ - 2 * st.size);
        st.fft.forward(history_.data() + position_ - 2 * st.size, st.spectra.data() + st.newest * 2 * bins);
        std::memset(st.acc.data(), 0, 2 * bins * sizeof(float));
        st.acc_stale = false;
        accumulate(st, 0, st.count);
        st.fft.inverse(st.acc.data(), st.out.data());
        st.read = st.size;
        return;
    }
    accumulate(st, st.accumulated, st.count); // normally none left; zeroes a stale acc
    st.fft.inverse(st.acc.data(), st.out.data());
    st.read = st.size;
    std::memset(st.acc.data(), 0, 2 * bins * sizeof(float));
    st.accumulated = 0;
    st.fft_pending = true; // this boundary's window, transformed at fft_step
}

// Sub-step `offset` samples after a boundary of a time-distributed level.
void PartitionedConvolver::run_level_step(LevelState& st, std::size_t offset) noexcept RIGD_RT {
    const std::size_t step = offset / block_;
    if (step < st.fft_step) {
        return;
    }
    if (st.fft_pending) {
        st.newest = st.newest + 1 == st.slots ? 0 : st.newest + 1;
        st.filled += st.filled < st.slots ? 1 : 0;
        clear_history_from(position_ - offset - 2 * st.size);
        st.fft.forward(history_.data() + position_ - offset - 2 * st.size, st.spectra.data() + st.newest * 2 * st.bins);
        st.fft_pending = false;
    }
    // Partitions due by the end of this step, spread evenly so that all are
    // in by the last step before the boundary.
    const std::size_t due = st.count * (step - st.fft_step + 1) / (st.steps - st.fft_step);
    if (due > st.accumulated) {
        accumulate(st, st.accumulated, due);
        st.accumulated = due;
    }
}

void PartitionedConvolver::run_chunk(const float* in, float* out, std::size_t n) noexcept RIGD_RT {
    float* x = history_.data() + position_;
    std::memmove(x, in, n * sizeof(float)); // in may alias out
    if (head_length_ > 0) {
        direct_fir(head_reversed_.data(), head_length_, x + 1 - head_length_, out, n);
    } else {
        std::memset(out, 0, n * sizeof(float));
    }
    for (LevelState& st : levels_) {
        if (st.primed) { // before its first inverse transform a level adds zero
            const float* y = st.out.data() + st.read;
            for (std::size_t i = 0; i < n; ++i) {
                out[i] += y[i];
            }
        }
        st.read += n;
    }
    position_ += n;
    phase_ += n;
    // A level's block completes when the absolute sample count reaches a
    // multiple of its size; its output is first read by the next sample.
    for (LevelState& st : levels_) {
        const std::size_t offset = phase_ % st.size;
        if (offset == 0) {
            run_level(st);
        } else if (st.spread && offset % block_ == 0) {
            // Sub-steps only on head-size boundaries (a short call can end
            // mid-step; each step then runs once).
            run_level_step(st, offset);
        }
    }
    if (phase_ == cycle_) {
        phase_ = 0;
    }
    if (position_ + kHistorySlack == history_.size()) {
        const std::size_t shift = position_ - keep_;
        std::memmove(history_.data(), history_.data() + shift, keep_ * sizeof(float));
        position_ = keep_;
        clean_ = clean_ > shift ? clean_ - shift : 0;
    }
}

void PartitionedConvolver::process(std::span<const float> in, std::span<float> out) noexcept RIGD_RT {
    const std::size_t total = std::min(in.size(), out.size());
    if (ir_length_ == 0) {
        std::fill_n(out.data(), total, 0.0f);
        return;
    }
    std::size_t done = 0;
    while (done < total) {
        // Chunks end on head-size boundaries: every level boundary is one.
        const std::size_t n = std::min(total - done, block_ - phase_ % block_);
        run_chunk(in.data() + done, out.data() + done, n);
        done += n;
    }
}

float PartitionedConvolver::process_sample(float x) noexcept RIGD_RT {
    float y = 0.0f;
    process(std::span<const float>(&x, 1), std::span<float>(&y, 1));
    return y;
}

} // namespace rigd::core::conv
