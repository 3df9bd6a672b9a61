#include "core/nam/general_wavenet_model.hpp"

#include "core/nam/lstm_model.hpp"
#include "core/nam/nam_kernels.hpp"
#include "core/nam/nam_load_error.hpp"
#include "core/nam/simd.hpp"
#include "core/nam/stale_history.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace rigd::core::nam {

namespace {

using simd::kLanes;
using simd::VecF;

constexpr std::size_t kMaxChunk = 512;
constexpr std::size_t kRewindChunks = 4;
constexpr std::size_t kAlign = 16; // floats
constexpr std::size_t kMaxLanes = 16; // the widest kernel set (AVX-512)

[[nodiscard]] constexpr std::size_t round_up(std::size_t n, std::size_t m) noexcept { return (n + m - 1) / m * m; }

class WeightReader {
public:
    explicit WeightReader(const std::vector<float>& w) : w_(w) {}
    float next() {
        if (pos_ >= w_.size()) {
            throw NamLoadError("(WaveNet)", "too few weights for the config");
        }
        return w_[pos_++];
    }
    [[nodiscard]] std::size_t pos() const noexcept { return pos_; }

private:
    const std::vector<float>& w_;
    std::size_t pos_ = 0;
};

// Dense out x in matrix (zero blocks outside the groups), row-major, per tap.
struct Dense {
    int in = 0;
    int out = 0;
    int taps = 1;
    int dilation = 1;
    std::vector<float> w; // [tap][out][in]
    std::vector<float> b; // empty: no bias

    // File order: group, out, in, tap (tap fastest); then the biases.
    void read(WeightReader& r, int in_ch, int out_ch, int k, int groups, bool bias, int d = 1) {
        in = in_ch;
        out = out_ch;
        taps = k;
        dilation = d;
        w.assign(static_cast<std::size_t>(k * in * out), 0.0f);
        const int ig = in / groups;
        const int og = out / groups;
        for (int g = 0; g < groups; ++g) {
            for (int o = 0; o < og; ++o) {
                for (int i = 0; i < ig; ++i) {
                    for (int t = 0; t < k; ++t) {
                        w[static_cast<std::size_t>((t * out + g * og + o) * in + g * ig + i)] = r.next();
                    }
                }
            }
        }
        b.clear();
        if (bias) {
            for (int o = 0; o < out; ++o) {
                b.push_back(r.next());
            }
        }
    }
};

[[nodiscard]] DenseView dv(const Dense& d) noexcept {
    return DenseView{d.in, d.out, d.taps, d.dilation, d.w.data(), d.b.empty() ? nullptr : d.b.data()};
}

[[nodiscard]] ActivationView av(const ActivationSpec& a) noexcept {
    return ActivationView{a.type,
                          a.negative_slope,
                          a.negative_slopes.empty() ? nullptr : a.negative_slopes.data(),
                          static_cast<int>(a.negative_slopes.size()),
                          a.min_val,
                          a.max_val,
                          a.min_slope,
                          a.max_slope};
}

// Per-frame scale (and shift) of `dim` rows from a biased 1x1 of the condition.
struct Film {
    bool active = false;
    bool shift = false;
    int dim = 0;
    Dense conv;

    void read(WeightReader& r, const FilmConfig& c, int cond, int d) {
        active = c.active;
        if (!active) {
            return;
        }
        shift = c.shift;
        dim = d;
        conv.read(r, cond, (shift ? 2 : 1) * d, 1, c.groups, true);
    }
    // x = x * scale + shift, in place; `tmp` holds (shift ? 2 : 1) * dim rows.
    void apply(const GeneralWaveNetKernels& k, float* x, std::size_t x_stride, const float* cond, float* tmp,
               std::size_t stride, std::size_t np) const noexcept {
        k.dense(dv(conv), cond, stride, tmp, stride, np);
        for (int r = 0; r < dim; ++r) {
            float* xr = x + static_cast<std::size_t>(r) * x_stride;
            const float* sc = tmp + static_cast<std::size_t>(r) * stride;
            const float* sh = tmp + static_cast<std::size_t>(r + dim) * stride;
            for (std::size_t f = 0; f < np; f += kLanes) {
                VecF v = simd::load(xr + f) * simd::load(sc + f);
                if (shift) {
                    v += simd::load(sh + f);
                }
                simd::store(xr + f, v);
            }
        }
    }
};

// Input rows with (K-1)*d frames of history before the block; rewound
// (history copied to the front) every few chunks. reset() is O(1) when the
// saved state is constant per row (always, after prepare or a full prewarm):
// see StaleHistory.
struct History {
    int rows = 0;
    std::size_t history = 0;
    std::size_t length = 0;
    std::size_t write = 0;
    std::vector<float> data;
    StaleHistory stale;
    bool lazy = false;
    std::vector<float> values;     // per row, when lazy
    std::vector<float> reset_data; // otherwise
    std::size_t reset_write = 0;

    void prepare(int r, int taps, int dilation, std::size_t chunk_padded) {
        rows = r;
        history = static_cast<std::size_t>(taps - 1) * static_cast<std::size_t>(dilation);
        length = round_up(history + kRewindChunks * chunk_padded + kMaxLanes, kAlign);
        write = history;
        data.assign(static_cast<std::size_t>(rows) * length, 0.0f);
        stale.prepare(taps, dilation);
        save();
    }
    // Room for np frames at the write position; the taps' windows valid.
    float* block(std::size_t np) noexcept {
        if (write + np > length) {
            for (int r = 0; r < rows; ++r) {
                float* row = data.data() + static_cast<std::size_t>(r) * length;
                std::memmove(row, row + (write - history), history * sizeof(float));
            }
            stale.rewind(static_cast<std::ptrdiff_t>(write - history));
            write = history;
        }
        stale.fill(data.data(), length, rows, values.data(), static_cast<std::ptrdiff_t>(write), np);
        return data.data() + write;
    }
    void advance(std::size_t n) noexcept { write += n; }
    void save() {
        lazy = constant_rows(data.data(), length, rows, write, history, values);
        reset_data.clear();
        if (!lazy) {
            reset_data = data;
        }
        reset_write = write;
        stale.clear();
    }
    void restore() noexcept {
        if (lazy) {
            write = history;
            stale.reset(static_cast<std::ptrdiff_t>(write));
        } else {
            std::copy(reset_data.begin(), reset_data.end(), data.begin());
            write = reset_write;
        }
    }
};

struct Layer {
    int channels = 0;
    int bottleneck = 0;
    GatingMode gating = GatingMode::none;
    ActivationSpec act;
    ActivationSpec secondary;
    Dense conv;  // C -> gB, K taps, dilation
    Dense mixin; // cond -> gB
    bool layer1x1 = false;
    Dense w1x1; // B -> C
    bool head1x1 = false;
    Dense h1x1; // B -> H1
    std::array<Film, kFilmSlots> films;
    History hist;
    // No FiLM, no gating, no head1x1: conv + mixin + activation + skip in one
    // pass, 1x1 + residual in another.
    bool plain = false;
};

struct Array {
    int input_size = 0;
    int channels = 0;
    int head_in = 0; // skip rows
    int head_size = 0;
    Dense rechannel;
    std::vector<Layer> layers;
    Dense head; // head_in -> head_size, K taps
    History head_hist;
    std::vector<float> head_out; // head_size rows
};

} // namespace

struct GeneralWaveNetModel::Impl {
    std::vector<Array> arrays;
    float head_scale = 1.0f;
    // Post-stack head.
    bool post_head = false;
    ActivationSpec post_act;
    std::vector<Dense> post_convs;
    std::vector<History> post_hist;
    std::vector<std::vector<float>> post_out;
    int out_channels = 1;
    int cond_rows = 1;

    std::unique_ptr<NamModel> condition; // condition_dsp
    GeneralWaveNetModel* condition_wavenet = nullptr;
    std::vector<float> condition_mono;

    const GeneralWaveNetKernels* K = nullptr; // this CPU's kernel set
    std::size_t lanes = 4;
    std::size_t stride = 0;
    std::vector<float> cond;      // cond_rows
    std::vector<float> cond_film; // cond_rows (input mixin pre-FiLM)
    std::vector<float> x0, x1;    // layer input / output
    std::vector<float> z;         // gB rows
    std::vector<float> m;         // gB rows
    std::vector<float> pre;       // B rows (blended pre-activation)
    std::vector<float> l;         // C rows
    std::vector<float> h;         // H1 rows
    std::vector<float> film_tmp;  // 2 * max dim rows
    std::vector<float> skip;      // per array head_in rows (max)
    std::vector<float> out;       // scaled head output rows
    std::size_t max_rows = 1;
    std::size_t max_film = 1;

    void run(const float* in, std::size_t n) noexcept;
};

namespace {
float* row(std::vector<float>& v, std::size_t stride, int r) { return v.data() + static_cast<std::size_t>(r) * stride; }
} // namespace

GeneralWaveNetModel::GeneralWaveNetModel(const WaveNetConfig& config, const std::vector<float>& weights,
                                         double sample_rate_hz, NamMetadata metadata, const NamBuildOptions& options)
    : NamModel(sample_rate_hz, std::move(metadata)), impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    const NamKernelTable& table = kernel_table();
    m.K = &table.general;
    m.lanes = static_cast<std::size_t>(table.lanes);
    kernel_name_ = "wavenet general ";
    kernel_name_ += table.isa; // (+= : g++ 12 warns falsely on string + const char*)
    if (config.condition_dsp) {
        NamBuildOptions nested = options;
        nested.general_wavenet = true; // its output rows are read directly
        m.condition = build_nam_model(*config.condition_dsp, nested);
        m.condition_wavenet = dynamic_cast<GeneralWaveNetModel*>(m.condition.get());
        if (m.condition_wavenet == nullptr && config.condition_dsp->is_wavenet()) {
            throw NamLoadError("(WaveNet)", "condition_dsp: internal error, not a general WaveNet");
        }
        m.cond_rows = m.condition_wavenet != nullptr ? m.condition_wavenet->output_channels() : 1;
        kernel_name_ += " +condition";
    }
    WeightReader r(weights);
    for (const WaveNetLayerArrayConfig& c : config.layer_arrays) {
        Array a;
        a.input_size = c.input_size;
        a.channels = c.channels;
        a.head_in = c.head_input_size();
        a.head_size = c.head_size;
        a.rechannel.read(r, c.input_size, c.channels, 1, 1, false);
        for (std::size_t li = 0; li < c.dilations.size(); ++li) {
            Layer l;
            l.channels = c.channels;
            l.bottleneck = c.bottleneck;
            l.gating = c.gating[li];
            l.act = c.activations[li];
            l.secondary = c.secondary[li];
            const int gb = (l.gating == GatingMode::none ? 1 : 2) * c.bottleneck;
            l.conv.read(r, c.channels, gb, c.kernel_sizes[li], c.groups_input, true, c.dilations[li]);
            l.mixin.read(r, c.condition_size, gb, 1, c.groups_input_mixin, false);
            l.layer1x1 = c.layer1x1_active;
            if (l.layer1x1) {
                l.w1x1.read(r, c.bottleneck, c.channels, 1, c.layer1x1_groups, true);
            }
            l.head1x1 = c.head1x1_active;
            if (l.head1x1) {
                l.h1x1.read(r, c.bottleneck, c.head1x1_out_channels, 1, c.head1x1_groups, true);
            }
            const std::array<int, kFilmSlots> dims{c.channels, gb, c.condition_size, gb, gb, c.bottleneck,
                                                   c.channels, c.head1x1_out_channels};
            for (std::size_t f = 0; f < kFilmSlots; ++f) {
                l.films[f].read(r, c.films[f], c.condition_size, dims[f]);
                if (c.films[f].active) {
                    m.max_film = std::max(m.max_film, static_cast<std::size_t>((c.films[f].shift ? 2 : 1) * dims[f]));
                }
            }
            m.max_rows = std::max({m.max_rows, static_cast<std::size_t>(gb), static_cast<std::size_t>(c.channels),
                                   static_cast<std::size_t>(c.head1x1_out_channels),
                                   static_cast<std::size_t>(c.condition_size)});
            l.plain = l.gating == GatingMode::none && !l.head1x1 && l.layer1x1;
            for (const Film& f : l.films) {
                l.plain = l.plain && !f.active;
            }
            a.layers.push_back(std::move(l));
        }
        a.head.read(r, a.head_in, c.head_size, c.head_kernel_size, 1, c.head_bias, c.head_dilation);
        m.max_rows = std::max({m.max_rows, static_cast<std::size_t>(a.head_in), static_cast<std::size_t>(a.head_size),
                               static_cast<std::size_t>(a.input_size)});
        m.arrays.push_back(std::move(a));
    }
    m.out_channels = config.layer_arrays.back().head_size;
    if (config.post_head) {
        const WaveNetPostHead& ph = *config.post_head;
        m.post_head = true;
        m.post_act = ph.activation;
        int cin = ph.in_channels;
        for (std::size_t i = 0; i < ph.kernel_sizes.size(); ++i) {
            const int cout = i + 1 == ph.kernel_sizes.size() ? ph.out_channels : ph.channels;
            Dense d;
            d.read(r, cin, cout, ph.kernel_sizes[i], 1, true);
            m.post_convs.push_back(std::move(d));
            m.max_rows = std::max({m.max_rows, static_cast<std::size_t>(cin), static_cast<std::size_t>(cout)});
            cin = cout;
        }
        m.out_channels = ph.out_channels;
    }
    m.head_scale = r.next();
    if (r.pos() != weights.size()) {
        throw NamLoadError("(WaveNet)", "more weights than the config uses");
    }
    out_channels_ = m.out_channels;
}

GeneralWaveNetModel::~GeneralWaveNetModel() = default;

std::size_t GeneralWaveNetModel::prewarm_samples() const noexcept {
    const Impl& m = *impl_;
    std::size_t n = m.condition ? m.condition->prewarm_samples() : 1;
    for (const Array& a : m.arrays) {
        for (const Layer& l : a.layers) {
            n += static_cast<std::size_t>(l.conv.taps - 1) * static_cast<std::size_t>(l.conv.dilation);
        }
        n += static_cast<std::size_t>(a.head.taps - 1) * static_cast<std::size_t>(a.head.dilation);
    }
    for (const Dense& d : m.post_convs) {
        n += static_cast<std::size_t>(d.taps - 1);
    }
    return n;
}

void GeneralWaveNetModel::prepare(std::size_t max_block) {
    Impl& m = *impl_;
    max_block_ = std::max<std::size_t>(1, max_block);
    chunk_ = std::min(max_block_, kMaxChunk);
    const std::size_t padded = round_up(chunk_, m.lanes);
    stride_ = round_up(padded, kAlign);
    m.stride = stride_;
    if (m.condition) {
        m.condition->prepare(chunk_);
        m.condition_mono.assign(stride_, 0.0f);
    }
    const std::size_t s = stride_;
    const std::size_t rows = m.max_rows;
    m.cond.assign(static_cast<std::size_t>(std::max(m.cond_rows, 1)) * s, 0.0f);
    m.cond_film.assign(m.cond.size(), 0.0f);
    m.x0.assign(rows * s, 0.0f);
    m.x1.assign(rows * s, 0.0f);
    m.z.assign(rows * s, 0.0f);
    m.m.assign(rows * s, 0.0f);
    m.pre.assign(rows * s, 0.0f);
    m.l.assign(rows * s, 0.0f);
    m.h.assign(rows * s, 0.0f);
    m.film_tmp.assign(m.max_film * s, 0.0f);
    m.skip.assign(rows * s, 0.0f);
    m.out.assign(rows * s, 0.0f);
    for (Array& a : m.arrays) {
        for (Layer& l : a.layers) {
            l.hist.prepare(l.channels, l.conv.taps, l.conv.dilation, padded);
        }
        a.head_hist.prepare(a.head_in, a.head.taps, a.head.dilation, padded);
        a.head_out.assign(static_cast<std::size_t>(a.head_size) * s, 0.0f);
    }
    m.post_hist.clear();
    m.post_out.clear();
    for (const Dense& d : m.post_convs) {
        History h;
        h.prepare(d.in, d.taps, 1, padded);
        m.post_hist.push_back(std::move(h));
        m.post_out.emplace_back(static_cast<std::size_t>(d.out) * s, 0.0f);
    }
    output_ = m.post_head ? m.post_out.back().data() : m.out.data();
    save_reset_state();
}

void GeneralWaveNetModel::save_reset_state() {
    Impl& m = *impl_;
    for (Array& a : m.arrays) {
        for (Layer& l : a.layers) {
            l.hist.save();
        }
        a.head_hist.save();
    }
    for (History& h : m.post_hist) {
        h.save();
    }
    if (m.condition) {
        m.condition->mark_reset_point(); // warmed by this model's prewarm, as in the reference
    }
}

void GeneralWaveNetModel::reset() noexcept {
    Impl& m = *impl_;
    for (Array& a : m.arrays) {
        for (Layer& l : a.layers) {
            l.hist.restore();
        }
        a.head_hist.restore();
    }
    for (History& h : m.post_hist) {
        h.restore();
    }
    if (m.condition) {
        m.condition->reset();
    }
}

void GeneralWaveNetModel::process_buffer(const float* in, float* out, std::size_t n) noexcept {
    if (chunk_ == 0) {
        std::fill(out, out + n, 0.0f);
        return;
    }
    while (n > 0) {
        const std::size_t len = std::min(n, chunk_);
        run_chunk(in, len);
        std::copy(output_, output_ + len, out);
        in += len;
        out += len;
        n -= len;
    }
}

void GeneralWaveNetModel::run_chunk(const float* in, std::size_t n) noexcept { impl_->run(in, n); }

void GeneralWaveNetModel::Impl::run(const float* in, std::size_t n) noexcept {
    const std::size_t s = stride;
    const std::size_t np = round_up(n, lanes);
    // The condition: the raw input, or the condition_dsp output.
    if (condition_wavenet != nullptr) {
        condition_wavenet->run_chunk(in, n);
        const float* rows = condition_wavenet->output_rows();
        const std::size_t cs = condition_wavenet->output_stride();
        for (int r = 0; r < cond_rows; ++r) {
            std::copy(rows + static_cast<std::size_t>(r) * cs, rows + static_cast<std::size_t>(r) * cs + n,
                      row(cond, s, r));
            std::fill(row(cond, s, r) + n, row(cond, s, r) + np, 0.0f);
        }
    } else if (condition) {
        condition->process_buffer(in, cond.data(), n);
        std::fill(cond.data() + n, cond.data() + np, 0.0f);
    } else {
        std::copy(in, in + n, cond.data());
        std::fill(cond.data() + n, cond.data() + np, 0.0f);
    }
    // The first array's input is the raw input (not the condition_dsp output).
    std::copy(in, in + n, x1.data());
    std::fill(x1.data() + n, x1.data() + np, 0.0f);

    const float* array_in = x1.data();
    for (std::size_t ai = 0; ai < arrays.size(); ++ai) {
        Array& a = arrays[ai];
        // Skip sum: zero, or the previous array's head output.
        if (ai == 0) {
            std::fill(skip.begin(), skip.begin() + static_cast<std::ptrdiff_t>(a.head_in * s), 0.0f);
        } else {
            std::copy(arrays[ai - 1].head_out.begin(),
                      arrays[ai - 1].head_out.begin() + static_cast<std::ptrdiff_t>(a.head_in * s), skip.begin());
        }
        K->dense(dv(a.rechannel), array_in, s, x0.data(), s, np);
        float* x = x0.data();
        float* next = x1.data();
        for (Layer& l : a.layers) {
            const int b = l.bottleneck;
            const int gb = l.conv.out;
            // Conv input (FiLMed if conv_pre_film) into the history.
            float* hb = l.hist.block(np);
            for (int r = 0; r < l.channels; ++r) {
                std::copy(x + static_cast<std::size_t>(r) * s, x + static_cast<std::size_t>(r) * s + np,
                          hb + static_cast<std::size_t>(r) * l.hist.length);
            }
            if (l.plain) {
                K->plain_conv(dv(l.conv), hb, l.hist.length, dv(l.mixin), cond.data(), av(l.act), z.data(),
                              skip.data(), s, np);
                l.hist.advance(n);
                K->residual(dv(l.w1x1), z.data(), x, next, s, np);
                std::swap(x, next);
                continue;
            }
            if (l.films[kConvPreFilm].active) {
                l.films[kConvPreFilm].apply(*K, hb, l.hist.length, cond.data(), film_tmp.data(), s, np);
            }
            K->dense(dv(l.conv), hb, l.hist.length, z.data(), s, np);
            l.hist.advance(n);
            if (l.films[kConvPostFilm].active) {
                l.films[kConvPostFilm].apply(*K, z.data(), s, cond.data(), film_tmp.data(), s, np);
            }
            const float* mix_in = cond.data();
            if (l.films[kInputMixinPreFilm].active) {
                std::copy(cond.begin(), cond.end(), cond_film.begin());
                l.films[kInputMixinPreFilm].apply(*K, cond_film.data(), s, cond.data(), film_tmp.data(), s, np);
                mix_in = cond_film.data();
            }
            K->dense(dv(l.mixin), mix_in, s, m.data(), s, np);
            if (l.films[kInputMixinPostFilm].active) {
                l.films[kInputMixinPostFilm].apply(*K, m.data(), s, cond.data(), film_tmp.data(), s, np);
            }
            for (std::size_t f = 0; f < static_cast<std::size_t>(gb) * s; f += kLanes) {
                simd::store(z.data() + f, simd::load(z.data() + f) + simd::load(m.data() + f));
            }
            if (l.films[kActivationPreFilm].active) {
                l.films[kActivationPreFilm].apply(*K, z.data(), s, cond.data(), film_tmp.data(), s, np);
            }
            if (l.gating == GatingMode::none) {
                K->activate(z.data(), s, b, av(l.act), np);
            } else {
                if (l.gating == GatingMode::blended) {
                    std::copy(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(b) * s),
                              pre.begin());
                }
                K->activate(z.data(), s, b, av(l.act), np);
                K->activate(row(z, s, b), s, b, av(l.secondary), np);
                for (int r = 0; r < b; ++r) {
                    float* top = row(z, s, r);
                    const float* bot = row(z, s, r + b);
                    const float* p = row(pre, s, r);
                    for (std::size_t f = 0; f < np; f += kLanes) {
                        const VecF a2 = simd::load(top + f);
                        const VecF g = simd::load(bot + f);
                        if (l.gating == GatingMode::gated) {
                            simd::store(top + f, a2 * g);
                        } else {
                            simd::store(top + f, g * a2 + (1.0f - g) * simd::load(p + f));
                        }
                    }
                }
            }
            if (l.films[kActivationPostFilm].active) {
                l.films[kActivationPostFilm].apply(*K, z.data(), s, cond.data(), film_tmp.data(), s, np);
            }
            if (l.layer1x1) {
                K->dense(dv(l.w1x1), z.data(), s, this->l.data(), s, np);
                if (l.films[kLayer1x1PostFilm].active && l.gating == GatingMode::blended) {
                    l.films[kLayer1x1PostFilm].apply(*K, this->l.data(), s, cond.data(), film_tmp.data(), s, np);
                }
            }
            const float* head_rows = z.data();
            if (l.head1x1) {
                K->dense(dv(l.h1x1), z.data(), s, h.data(), s, np);
                if (l.films[kHead1x1PostFilm].active) {
                    l.films[kHead1x1PostFilm].apply(*K, h.data(), s, cond.data(), film_tmp.data(), s, np);
                }
                head_rows = h.data();
            }
            for (std::size_t f = 0; f < static_cast<std::size_t>(a.head_in) * s; f += kLanes) {
                simd::store(skip.data() + f, simd::load(skip.data() + f) + simd::load(head_rows + f));
            }
            // Residual.
            for (std::size_t f = 0; f < static_cast<std::size_t>(l.channels) * s; f += kLanes) {
                VecF v = simd::load(x + f);
                if (l.layer1x1) {
                    v += simd::load(this->l.data() + f);
                }
                simd::store(next + f, v);
            }
            std::swap(x, next);
        }
        // Head rechannel (a causal conv in 0.7).
        float* hb = a.head_hist.block(np);
        for (int r = 0; r < a.head_in; ++r) {
            std::copy(row(skip, s, r), row(skip, s, r) + np, hb + static_cast<std::size_t>(r) * a.head_hist.length);
        }
        K->dense(dv(a.head), hb, a.head_hist.length, a.head_out.data(), s, np);
        a.head_hist.advance(n);
        // Next array's input: the last layer's output. x is x0 or x1; keep it in x1.
        if (x != x1.data()) {
            std::copy(x, x + static_cast<std::size_t>(a.channels) * s, x1.data());
        }
        array_in = x1.data();
    }
    const Array& last = arrays.back();
    for (std::size_t f = 0; f < static_cast<std::size_t>(last.head_size) * s; f += kLanes) {
        simd::store(out.data() + f, simd::load(last.head_out.data() + f) * head_scale);
    }
    if (post_head) {
        const float* src = out.data();
        for (std::size_t i = 0; i < post_convs.size(); ++i) {
            History& hh = post_hist[i];
            float* hb = hh.block(np);
            for (int r = 0; r < post_convs[i].in; ++r) {
                std::copy(src + static_cast<std::size_t>(r) * s, src + static_cast<std::size_t>(r) * s + np,
                          hb + static_cast<std::size_t>(r) * hh.length);
            }
            K->activate(hb, hh.length, post_convs[i].in, av(post_act), np);
            K->dense(dv(post_convs[i]), hb, hh.length, post_out[i].data(), s, np);
            hh.advance(n);
            src = post_out[i].data();
        }
    }
}

} // namespace rigd::core::nam
