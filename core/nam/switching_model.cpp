#include "core/nam/switching_model.hpp"

#include "core/nam/nam_load_error.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace rigd::core::nam {

namespace {

class Slicer {
public:
    Slicer(const std::vector<float>& src, std::vector<float>& dst) : src_(src), dst_(dst) {}

    // Leading slim_out rows and slim_in columns of an out x in (x taps) matrix, then bias rows.
    void matrix(int full_in, int full_out, int slim_in, int slim_out, int taps, bool bias) {
        for (int o = 0; o < full_out; ++o) {
            for (int i = 0; i < full_in; ++i) {
                for (int t = 0; t < taps; ++t) {
                    const float w = next();
                    if (o < slim_out && i < slim_in) {
                        dst_.push_back(w);
                    }
                }
            }
        }
        if (bias) {
            for (int o = 0; o < full_out; ++o) {
                const float b = next();
                if (o < slim_out) {
                    dst_.push_back(b);
                }
            }
        }
    }
    void copy(long long n) {
        for (long long i = 0; i < n; ++i) {
            dst_.push_back(next());
        }
    }
    [[nodiscard]] bool done() const noexcept { return pos_ == src_.size(); }

private:
    float next() {
        if (pos_ >= src_.size()) {
            throw NamLoadError("(slimmable WaveNet)", "too few weights while slicing");
        }
        return src_[pos_++];
    }
    const std::vector<float>& src_;
    std::vector<float>& dst_;
    std::size_t pos_ = 0;
};

std::string sub_name(std::size_t i, const NamModel& m) {
    std::string s = "[" + std::to_string(i) + "] ";
    s += m.kernel_name();
    return s;
}

} // namespace

NamFile slim_wavenet_file(const NamFile& full, const std::vector<int>& channels) {
    const auto& wn = std::get<WaveNetConfig>(full.config);
    NamFile out;
    out.path = full.path;
    out.version = full.version;
    out.sample_rate_hz = full.sample_rate_hz;
    out.sample_rate_given = full.sample_rate_given;
    out.metadata = full.metadata;
    WaveNetConfig cfg = wn;
    cfg.a1 = false;
    Slicer s(full.weights, out.weights);
    const std::size_t arrays = wn.layer_arrays.size();
    for (std::size_t a = 0; a < arrays; ++a) {
        const WaveNetLayerArrayConfig& p = wn.layer_arrays[a];
        WaveNetLayerArrayConfig& q = cfg.layer_arrays[a];
        const int full_ch = p.channels;
        const int full_bn = p.bottleneck;
        const int ch = channels[a];
        const int bn = p.layer1x1_active ? std::max(1, full_bn * ch / full_ch) : ch;
        const int in = a == 0 ? p.input_size : channels[a - 1];
        const int head = a + 1 < arrays ? channels[a + 1] : p.head_size;
        const int full_head_in = p.head1x1_active ? p.head1x1_out_channels : full_bn;
        const int head_in = p.head1x1_active ? p.head1x1_out_channels : bn;
        q.channels = ch;
        q.bottleneck = bn;
        q.input_size = in;
        q.head_size = head;
        q.slimmable_channels.clear();
        const int cond = p.condition_size;
        s.matrix(p.input_size, full_ch, in, ch, 1, false);
        for (std::size_t l = 0; l < p.dilations.size(); ++l) {
            const int g = p.gating[l] == GatingMode::none ? 1 : 2;
            const int full_bg = g * full_bn;
            const int bg = g * bn;
            s.matrix(full_ch, full_bg, ch, bg, p.kernel_sizes[l], true);
            s.matrix(cond, full_bg, cond, bg, 1, false);
            if (p.layer1x1_active) {
                s.matrix(full_bn, full_ch, bn, ch, 1, true);
            }
            if (p.head1x1_active) {
                s.matrix(full_bn, p.head1x1_out_channels, bn, p.head1x1_out_channels, 1, true);
            }
            const std::array<std::pair<int, int>, kFilmSlots> dims{{{full_ch, ch},
                                                                    {full_bg, bg},
                                                                    {cond, cond},
                                                                    {full_bg, bg},
                                                                    {full_bg, bg},
                                                                    {full_bn, bn},
                                                                    {full_ch, ch},
                                                                    {p.head1x1_out_channels, p.head1x1_out_channels}}};
            for (std::size_t f = 0; f < kFilmSlots; ++f) {
                const FilmConfig& fc = p.films[f];
                if (!fc.active) {
                    continue;
                }
                const int k = fc.shift ? 2 : 1;
                s.matrix(cond, k * dims[f].first, cond, k * dims[f].second, 1, true);
            }
        }
        s.matrix(full_head_in, p.head_size, head_in, head, 1, p.head_bias);
    }
    s.copy(1); // head scale
    if (!s.done()) {
        throw NamLoadError(full.path, "slimmable WaveNet: more weights than the config uses");
    }
    out.config = std::move(cfg);
    return out;
}

std::unique_ptr<SwitchingModel> SwitchingModel::container(const NamFile& file, const NamBuildOptions& options) {
    const auto& c = std::get<ContainerConfig>(file.config);
    std::unique_ptr<SwitchingModel> m(new SwitchingModel(file.sample_rate_hz, file.metadata));
    for (const auto& sub : c.submodels) {
        m->subs_.push_back(build_nam_model(*sub.model, options));
        m->max_values_.push_back(sub.max_value);
    }
    m->active_ = m->subs_.size() - 1; // the reference's default: the last (largest)
    m->from_ = m->active_;
    m->pending_ = m->active_;
    return m;
}

std::unique_ptr<SwitchingModel> SwitchingModel::slimmable_wavenet(const NamFile& file,
                                                                  const NamBuildOptions& options) {
    const auto& wn = std::get<WaveNetConfig>(file.config);
    std::unique_ptr<SwitchingModel> m(new SwitchingModel(file.sample_rate_hz, file.metadata));
    for (const auto& a : wn.layer_arrays) {
        m->allowed_.push_back(a.slimmable_channels);
        m->full_channels_.push_back(a.channels);
    }
    // One submodel per distinct selection, in order of the breakpoints.
    std::vector<double> points{0.0};
    for (const auto& allowed : m->allowed_) {
        for (std::size_t i = 1; i < allowed.size(); ++i) {
            points.push_back(static_cast<double>(i) / static_cast<double>(allowed.size()));
        }
    }
    std::sort(points.begin(), points.end());
    std::map<std::vector<int>, std::size_t> seen;
    for (const double v : points) {
        std::vector<int> ch = m->full_channels_;
        for (std::size_t a = 0; a < m->allowed_.size(); ++a) {
            const auto& allowed = m->allowed_[a];
            if (!allowed.empty()) {
                const int n = static_cast<int>(allowed.size());
                ch[a] = allowed[static_cast<std::size_t>(std::min(static_cast<int>(std::floor(v * n)), n - 1))];
            }
        }
        if (seen.count(ch) != 0) {
            continue;
        }
        seen[ch] = m->subs_.size();
        m->subs_.push_back(build_nam_model(slim_wavenet_file(file, ch), options));
        m->sub_channels_.push_back(ch);
    }
    m->active_ = m->index_for(1.0f); // full size by default, as the reference
    m->from_ = m->active_;
    m->pending_ = m->active_;
    return m;
}

std::size_t SwitchingModel::index_for(float size) const noexcept {
    const double v = static_cast<double>(size);
    if (!max_values_.empty()) {
        for (std::size_t i = 0; i < max_values_.size(); ++i) {
            if (v < max_values_[i]) {
                return i;
            }
        }
        return max_values_.size() - 1;
    }
    // Slimmable: idx = min(floor(v * n), n - 1) per array, as the reference.
    for (std::size_t s = 0; s < sub_channels_.size(); ++s) {
        bool match = true;
        for (std::size_t a = 0; a < allowed_.size() && match; ++a) {
            const auto& allowed = allowed_[a];
            int ch = full_channels_[a];
            if (!allowed.empty()) {
                const int n = static_cast<int>(allowed.size());
                const int idx = std::clamp(static_cast<int>(std::floor(v * n)), 0, n - 1);
                ch = allowed[static_cast<std::size_t>(idx)];
            }
            match = ch == sub_channels_[s][a];
        }
        if (match) {
            return s;
        }
    }
    return sub_channels_.size() - 1;
}

void SwitchingModel::prepare(std::size_t max_block) {
    max_block_ = std::max<std::size_t>(1, max_block);
    for (auto& s : subs_) {
        s->prepare(max_block_);
    }
    fade_buf_.assign(max_block_, 0.0f);
    active_ = pending_; // the latest request, without a fade: nothing plays yet
    fade_len_ = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(kFadeMs * 1e-3 * sample_rate_hz())));
    fade_left_ = 0;
    from_ = active_;
    name_ = "switching:";
    for (std::size_t i = 0; i < subs_.size(); ++i) {
        name_ += ' ';
        name_ += sub_name(i, *subs_[i]);
    }
}

void SwitchingModel::prewarm() {
    for (auto& s : subs_) {
        s->prewarm();
    }
    fade_left_ = 0;
    active_ = pending_;
    from_ = active_;
}

void SwitchingModel::save_reset_state() {
    for (auto& s : subs_) {
        s->mark_reset_point();
    }
}

std::size_t SwitchingModel::prewarm_samples() const noexcept { return subs_[active_]->prewarm_samples(); }

std::string_view SwitchingModel::kernel_name() const noexcept { return name_; }

void SwitchingModel::reset() noexcept {
    if (pending_ != active_) {
        active_ = pending_; // a reset jumps anyway: take the latest request now
    }
    subs_[active_]->reset();
    fade_left_ = 0;
    from_ = active_;
    pending_ = active_;
}

void SwitchingModel::select_size(float size) noexcept {
    const std::size_t idx = index_for(size);
    if (idx != active_) {
        active_ = idx;
        subs_[active_]->reset();
    }
    fade_left_ = 0;
    from_ = active_;
    pending_ = active_;
}

void SwitchingModel::set_size(float size) noexcept {
    pending_ = index_for(size);
    if (fade_left_ == 0) {
        start_fade();
    }
}

void SwitchingModel::start_fade() noexcept {
    if (pending_ == active_) {
        return;
    }
    from_ = active_;
    active_ = pending_;
    subs_[active_]->reset();
    fade_left_ = fade_len_;
}

void SwitchingModel::process_buffer(const float* in, float* out, std::size_t n) noexcept {
    if (max_block_ == 0) {
        std::fill(out, out + n, 0.0f);
        return;
    }
    while (n > 0) {
        if (fade_left_ == 0) {
            subs_[active_]->process_buffer(in, out, n);
            return;
        }
        const std::size_t len = std::min({n, max_block_, fade_left_});
        subs_[from_]->process_buffer(in, fade_buf_.data(), len);
        subs_[active_]->process_buffer(in, out, len);
        const float step = 1.0f / static_cast<float>(fade_len_);
        for (std::size_t i = 0; i < len; ++i) {
            const float g = static_cast<float>(fade_len_ - fade_left_ + i + 1) * step; // new model's gain
            out[i] = fade_buf_[i] + g * (out[i] - fade_buf_[i]);
        }
        fade_left_ -= len;
        in += len;
        out += len;
        n -= len;
        if (fade_left_ == 0) {
            start_fade(); // a request that came during the fade
        }
    }
}

} // namespace rigd::core::nam
