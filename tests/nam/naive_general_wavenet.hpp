#pragma once

// A straightforward double-precision forward pass of the format 0.6/0.7
// WaveNet (every layer-array feature, the post-stack head and a WaveNet
// condition_dsp), written from ../shared/NAM-FORMAT.md and the reference's
// documented layer order independently of core/nam: one sample at a time,
// plain loops, std::tanh / std::exp, weights read in file order into dense
// per-group matrices. Slow and obviously correct; the fast paths are
// compared against it.

#include "core/nam/nam_file.hpp"

#include <cmath>
#include <cstddef>
#include <deque>
#include <memory>
#include <stdexcept>
#include <variant>
#include <vector>

namespace rigd::test {

class NaiveGeneralWaveNet {
public:
    explicit NaiveGeneralWaveNet(const core::nam::NamFile& file) {
        const auto& cfg = std::get<core::nam::WaveNetConfig>(file.config);
        if (cfg.condition_dsp) {
            condition_ = std::make_unique<NaiveGeneralWaveNet>(*cfg.condition_dsp);
        }
        std::size_t p = 0;
        auto next = [&] { return static_cast<double>(file.weights.at(p++)); };
        for (const auto& c : cfg.layer_arrays) {
            Array a;
            a.c = c;
            a.rechannel = Conv(c.input_size, c.channels, 1, 1, 1, false, next);
            for (std::size_t i = 0; i < c.dilations.size(); ++i) {
                Layer l;
                const int gb = (c.gating[i] == core::nam::GatingMode::none ? 1 : 2) * c.bottleneck;
                l.gating = c.gating[i];
                l.act = c.activations[i];
                l.secondary = c.secondary[i];
                l.conv = Conv(c.channels, gb, c.kernel_sizes[i], c.dilations[i], c.groups_input, true, next);
                l.mixin = Conv(c.condition_size, gb, 1, 1, c.groups_input_mixin, false, next);
                if (c.layer1x1_active) {
                    l.w1 = Conv(c.bottleneck, c.channels, 1, 1, c.layer1x1_groups, true, next);
                }
                if (c.head1x1_active) {
                    l.h1 = Conv(c.bottleneck, c.head1x1_out_channels, 1, 1, c.head1x1_groups, true, next);
                }
                const int dims[] = {c.channels, gb, c.condition_size, gb, gb, c.bottleneck, c.channels,
                                    c.head1x1_out_channels};
                for (std::size_t f = 0; f < core::nam::kFilmSlots; ++f) {
                    const auto& fc = c.films[f];
                    if (fc.active) {
                        l.film[f] = Conv(c.condition_size, (fc.shift ? 2 : 1) * dims[f], 1, 1, fc.groups, true, next);
                        l.film_on[f] = true;
                        l.film_shift[f] = fc.shift;
                    }
                }
                a.layers.push_back(std::move(l));
            }
            a.head = Conv(c.head_input_size(), c.head_size, c.head_kernel_size, c.head_dilation, 1, c.head_bias, next);
            arrays_.push_back(std::move(a));
        }
        if (cfg.post_head) {
            int cin = cfg.post_head->in_channels;
            post_act_ = cfg.post_head->activation;
            for (std::size_t i = 0; i < cfg.post_head->kernel_sizes.size(); ++i) {
                const int cout = i + 1 == cfg.post_head->kernel_sizes.size() ? cfg.post_head->out_channels
                                                                             : cfg.post_head->channels;
                post_.push_back(Conv(cin, cout, cfg.post_head->kernel_sizes[i], 1, 1, true, next));
                cin = cout;
            }
        }
        head_scale_ = next();
        if (p != file.weights.size()) {
            throw std::logic_error("naive general WaveNet: weight count");
        }
    }

    // Every output channel for one input sample.
    std::vector<double> process_all(double x) {
        const std::vector<double> cond = condition_ ? condition_->process_all(x) : std::vector<double>{x};
        std::vector<double> input{x};
        std::vector<double> head_prev;
        for (std::size_t ai = 0; ai < arrays_.size(); ++ai) {
            Array& a = arrays_[ai];
            std::vector<double> h = a.rechannel.run(input);
            std::vector<double> skip =
                ai == 0 ? std::vector<double>(static_cast<std::size_t>(a.c.head_input_size()), 0.0) : head_prev;
            for (Layer& l : a.layers) {
                using core::nam::GatingMode;
                const std::vector<double> conv_in = l.film_on[0] ? film(l, 0, h, cond) : h;
                std::vector<double> z = l.conv.run(conv_in);
                if (l.film_on[1]) {
                    z = film(l, 1, z, cond);
                }
                std::vector<double> mix = l.mixin.run(l.film_on[2] ? film(l, 2, cond, cond) : cond);
                if (l.film_on[3]) {
                    mix = film(l, 3, mix, cond);
                }
                for (std::size_t i = 0; i < z.size(); ++i) {
                    z[i] += mix[i];
                }
                if (l.film_on[4]) {
                    z = film(l, 4, z, cond);
                }
                const std::size_t b = static_cast<std::size_t>(a.c.bottleneck);
                std::vector<double> act(b);
                for (std::size_t i = 0; i < b; ++i) {
                    const double primary = activation(l.act, z[i], i);
                    if (l.gating == GatingMode::none) {
                        act[i] = primary;
                    } else if (l.gating == GatingMode::gated) {
                        act[i] = primary * activation(l.secondary, z[i + b], i);
                    } else {
                        const double alpha = activation(l.secondary, z[i + b], i);
                        act[i] = alpha * primary + (1.0 - alpha) * z[i];
                    }
                }
                if (l.film_on[5]) {
                    act = film(l, 5, act, cond);
                }
                std::vector<double> res(h.size(), 0.0);
                if (a.c.layer1x1_active) {
                    res = l.w1.run(act);
                    // The reference applies this FiLM in blended layers only.
                    if (l.film_on[6] && l.gating == GatingMode::blended) {
                        res = film(l, 6, res, cond);
                    }
                }
                std::vector<double> to_head = act;
                if (a.c.head1x1_active) {
                    to_head = l.h1.run(act);
                    if (l.film_on[7]) {
                        to_head = film(l, 7, to_head, cond);
                    }
                }
                for (std::size_t i = 0; i < skip.size(); ++i) {
                    skip[i] += to_head[i];
                }
                for (std::size_t i = 0; i < h.size(); ++i) {
                    h[i] += res[i];
                }
            }
            head_prev = a.head.run(skip);
            input = h;
        }
        std::vector<double> out = head_prev;
        for (double& v : out) {
            v *= head_scale_;
        }
        for (Conv& c : post_) {
            for (std::size_t i = 0; i < out.size(); ++i) {
                out[i] = activation(post_act_, out[i], i);
            }
            out = c.run(out);
        }
        return out;
    }

    double process(double x) { return process_all(x)[0]; }

private:
    using Matrix = std::vector<std::vector<double>>;
    struct Conv {
        Conv() = default;
        template <class F>
        Conv(int in, int out, int k, int d, int groups, bool bias, F& next) : dilation(d) {
            w.assign(static_cast<std::size_t>(k), Matrix(static_cast<std::size_t>(out),
                                                         std::vector<double>(static_cast<std::size_t>(in), 0.0)));
            const int ig = in / groups;
            const int og = out / groups;
            for (int g = 0; g < groups; ++g) {
                for (int o = 0; o < og; ++o) {
                    for (int i = 0; i < ig; ++i) {
                        for (int t = 0; t < k; ++t) {
                            w[static_cast<std::size_t>(t)][static_cast<std::size_t>(g * og + o)]
                             [static_cast<std::size_t>(g * ig + i)] = next();
                        }
                    }
                }
            }
            b.assign(static_cast<std::size_t>(out), 0.0);
            if (bias) {
                for (double& v : b) {
                    v = next();
                }
            }
            history.assign(static_cast<std::size_t>((k - 1) * d + 1),
                           std::vector<double>(static_cast<std::size_t>(in), 0.0));
        }
        std::vector<double> run(const std::vector<double>& x) {
            history.pop_front();
            history.push_back(x);
            std::vector<double> y = b;
            const std::size_t k = w.size();
            for (std::size_t t = 0; t < k; ++t) {
                // Tap 0 is the oldest input, (K-1)*d frames back.
                const auto& in = history[history.size() - 1 - (k - 1 - t) * static_cast<std::size_t>(dilation)];
                for (std::size_t o = 0; o < y.size(); ++o) {
                    for (std::size_t i = 0; i < in.size(); ++i) {
                        y[o] += w[t][o][i] * in[i];
                    }
                }
            }
            return y;
        }
        int dilation = 1;
        std::vector<Matrix> w; // [tap][out][in]
        std::vector<double> b;
        std::deque<std::vector<double>> history;
    };
    struct Layer {
        core::nam::GatingMode gating = core::nam::GatingMode::none;
        core::nam::ActivationSpec act, secondary;
        Conv conv, mixin, w1, h1;
        Conv film[core::nam::kFilmSlots];
        bool film_on[core::nam::kFilmSlots] = {};
        bool film_shift[core::nam::kFilmSlots] = {};
    };
    struct Array {
        core::nam::WaveNetLayerArrayConfig c;
        Conv rechannel, head;
        std::vector<Layer> layers;
    };

    static std::vector<double> film(Layer& l, std::size_t slot, const std::vector<double>& x,
                                    const std::vector<double>& cond) {
        const std::vector<double> ss = l.film[slot].run(cond);
        std::vector<double> y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            y[i] = x[i] * ss[i] + (l.film_shift[slot] ? ss[i + x.size()] : 0.0);
        }
        return y;
    }

    static double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }
    static double activation(const core::nam::ActivationSpec& a, double z, std::size_t channel) {
        using core::nam::Activation;
        switch (a.type) {
        case Activation::tanh: return std::tanh(z);
        case Activation::fast_tanh: {
            const double ax = std::fabs(z);
            const double x2 = z * z;
            return z * (2.45550750702956 + 2.45550750702956 * ax + (0.893229853513558 + 0.821226666969744 * ax) * x2) /
                   (2.44506634652299 + (2.44506634652299 + x2) * std::fabs(z + 0.814642734961073 * z * ax));
        }
        case Activation::relu: return z > 0 ? z : 0.0;
        case Activation::hardtanh: return z < -1 ? -1.0 : (z > 1 ? 1.0 : z);
        case Activation::leaky_hardtanh:
            if (z < a.min_val) {
                return (z - a.min_val) * a.min_slope + a.min_val;
            }
            return z > a.max_val ? (z - a.max_val) * a.max_slope + a.max_val : z;
        case Activation::leaky_relu: return z > 0 ? z : z * a.negative_slope;
        case Activation::prelu: {
            const double s = a.negative_slopes.size() == 1 ? a.negative_slopes[0] : a.negative_slopes.at(channel);
            return z > 0 ? z : z * s;
        }
        case Activation::sigmoid: return sigmoid(z);
        case Activation::silu: return z * sigmoid(z);
        case Activation::hardswish: return z <= -3 ? 0.0 : (z >= 3 ? z : z * (z + 3) / 6);
        case Activation::softsign: return z / (1 + std::fabs(z));
        }
        return z;
    }

    std::unique_ptr<NaiveGeneralWaveNet> condition_;
    std::vector<Array> arrays_;
    std::vector<Conv> post_;
    core::nam::ActivationSpec post_act_;
    double head_scale_ = 1.0;
};

} // namespace rigd::test
