#pragma once

// Straightforward double-precision WaveNet (A1) and LSTM forward passes,
// written from ../shared/NAM-FORMAT.md independently of core/nam: one sample
// at a time, plain loops, std::tanh, weights read in file order. Slow and
// obviously correct; the fast kernels are compared against it.

#include "core/nam/nam_file.hpp"

#include <cmath>
#include <cstddef>
#include <deque>
#include <stdexcept>
#include <variant>
#include <vector>

namespace rigd::test {

class NaiveWaveNet {
public:
    explicit NaiveWaveNet(const core::nam::NamFile& file) : cfg_(std::get<core::nam::WaveNetConfig>(file.config)) {
        std::size_t p = 0;
        auto next = [&] { return static_cast<double>(file.weights.at(p++)); };
        for (const auto& c : cfg_.layer_arrays) {
            Array a;
            const int ch = c.channels;
            const int g = c.gated ? 2 : 1;
            a.rechannel = matrix(ch, c.input_size, next);
            for (const int d : c.dilations) {
                Layer l;
                l.dilation = d;
                l.conv.assign(static_cast<std::size_t>(g * ch),
                              std::vector<std::vector<double>>(static_cast<std::size_t>(ch),
                                                               std::vector<double>(static_cast<std::size_t>(c.kernel_size))));
                for (auto& out : l.conv) {
                    for (auto& in : out) {
                        for (double& w : in) {
                            w = next();
                        }
                    }
                }
                l.conv_b = vec(g * ch, next);
                l.mixin = vec(g * ch, next);
                l.w1 = matrix(ch, ch, next);
                l.b1 = vec(ch, next);
                l.history.assign(static_cast<std::size_t>((c.kernel_size - 1) * d + 1),
                                 std::vector<double>(static_cast<std::size_t>(ch), 0.0));
                a.layers.push_back(std::move(l));
            }
            a.head = matrix(c.head_size, ch, next);
            a.head_b.assign(static_cast<std::size_t>(c.head_size), 0.0);
            if (c.head_bias) {
                a.head_b = vec(c.head_size, next);
            }
            arrays_.push_back(std::move(a));
        }
        head_scale_ = next();
        if (p != file.weights.size()) {
            throw std::logic_error("naive WaveNet: weight count");
        }
    }

    double process(double x) {
        std::vector<double> input{x};
        std::vector<double> head_prev;
        for (std::size_t ai = 0; ai < arrays_.size(); ++ai) {
            const auto& c = cfg_.layer_arrays[ai];
            Array& a = arrays_[ai];
            std::vector<double> h = apply(a.rechannel, input);
            std::vector<double> skip =
                ai == 0 ? std::vector<double>(static_cast<std::size_t>(c.channels), 0.0) : head_prev;
            for (Layer& l : a.layers) {
                l.history.pop_front();
                l.history.push_back(h);
                const std::size_t rows = l.conv.size();
                std::vector<double> z(rows);
                for (std::size_t o = 0; o < rows; ++o) {
                    double s = l.conv_b[o] + l.mixin[o] * x;
                    for (std::size_t i = 0; i < static_cast<std::size_t>(c.channels); ++i) {
                        for (int k = 0; k < c.kernel_size; ++k) {
                            // Tap 0 is the oldest: (K-1-k)*d frames back.
                            const std::size_t back = static_cast<std::size_t>((c.kernel_size - 1 - k) * l.dilation);
                            s += l.conv[o][i][static_cast<std::size_t>(k)] * l.history[l.history.size() - 1 - back][i];
                        }
                    }
                    z[o] = s;
                }
                std::vector<double> act(static_cast<std::size_t>(c.channels));
                for (std::size_t o = 0; o < act.size(); ++o) {
                    act[o] = activation(c, z[o]);
                    if (c.gated) {
                        act[o] *= 1.0 / (1.0 + std::exp(-z[o + act.size()]));
                    }
                    skip[o] += act[o];
                }
                const std::vector<double> mixed = apply(l.w1, act);
                for (std::size_t o = 0; o < h.size(); ++o) {
                    h[o] += mixed[o] + l.b1[o];
                }
            }
            head_prev = apply(a.head, skip);
            for (std::size_t o = 0; o < head_prev.size(); ++o) {
                head_prev[o] += a.head_b[o];
            }
            input = h;
        }
        return head_scale_ * head_prev[0];
    }

private:
    using Matrix = std::vector<std::vector<double>>;
    struct Layer {
        int dilation = 1;
        std::vector<Matrix> conv; // [out][in][k]
        std::vector<double> conv_b, mixin, b1;
        Matrix w1;
        std::deque<std::vector<double>> history; // oldest first, newest last
    };
    struct Array {
        Matrix rechannel, head;
        std::vector<double> head_b;
        std::vector<Layer> layers;
    };
    template <class F>
    static std::vector<double> vec(int n, F& next) {
        std::vector<double> v(static_cast<std::size_t>(n));
        for (double& x : v) {
            x = next();
        }
        return v;
    }
    template <class F>
    static Matrix matrix(int rows, int cols, F& next) {
        Matrix m(static_cast<std::size_t>(rows));
        for (auto& row : m) {
            row = vec(cols, next);
        }
        return m;
    }
    static std::vector<double> apply(const Matrix& m, const std::vector<double>& v) {
        std::vector<double> out(m.size(), 0.0);
        for (std::size_t o = 0; o < m.size(); ++o) {
            for (std::size_t i = 0; i < v.size(); ++i) {
                out[o] += m[o][i] * v[i];
            }
        }
        return out;
    }
    static double activation(const core::nam::WaveNetLayerArrayConfig& c, double z) {
        using core::nam::Activation;
        switch (c.activation) {
        case Activation::tanh: return std::tanh(z);
        case Activation::relu: return z > 0 ? z : 0.0;
        case Activation::hardtanh: return z < -1 ? -1.0 : (z > 1 ? 1.0 : z);
        case Activation::sigmoid: return 1.0 / (1.0 + std::exp(-z));
        case Activation::leaky_relu: return z > 0 ? z : z * c.negative_slope;
        default: throw std::logic_error("naive A1 WaveNet: not an A1 activation");
        }
    }

    core::nam::WaveNetConfig cfg_;
    std::vector<Array> arrays_;
    double head_scale_ = 1.0;
};

class NaiveLstm {
public:
    explicit NaiveLstm(const core::nam::NamFile& file) {
        const auto& c = std::get<core::nam::LstmConfig>(file.config);
        std::size_t p = 0;
        auto next = [&] { return static_cast<double>(file.weights.at(p++)); };
        h_size_ = static_cast<std::size_t>(c.hidden_size);
        for (int l = 0; l < c.num_layers; ++l) {
            Layer L;
            const std::size_t in = l == 0 ? 1 : h_size_;
            L.w.assign(4 * h_size_, std::vector<double>(in + h_size_));
            for (auto& row : L.w) {
                for (double& w : row) {
                    w = next();
                }
            }
            for (auto* v : {&L.b, &L.h, &L.c}) {
                v->resize(v == &L.b ? 4 * h_size_ : h_size_);
                for (double& w : *v) {
                    w = next();
                }
            }
            layers_.push_back(std::move(L));
        }
        head_.resize(h_size_);
        for (double& w : head_) {
            w = next();
        }
        head_b_ = next();
        if (p != file.weights.size()) {
            throw std::logic_error("naive LSTM: weight count");
        }
    }

    double process(double x) {
        std::vector<double> in{x};
        auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
        for (Layer& L : layers_) {
            std::vector<double> xh = in;
            xh.insert(xh.end(), L.h.begin(), L.h.end());
            std::vector<double> g(4 * h_size_);
            for (std::size_t r = 0; r < g.size(); ++r) {
                double s = L.b[r];
                for (std::size_t j = 0; j < xh.size(); ++j) {
                    s += L.w[r][j] * xh[j];
                }
                g[r] = s;
            }
            for (std::size_t i = 0; i < h_size_; ++i) { // gates i, f, g, o
                L.c[i] = sigmoid(g[h_size_ + i]) * L.c[i] + sigmoid(g[i]) * std::tanh(g[2 * h_size_ + i]);
                L.h[i] = sigmoid(g[3 * h_size_ + i]) * std::tanh(L.c[i]);
            }
            in = L.h;
        }
        double y = head_b_;
        for (std::size_t i = 0; i < h_size_; ++i) {
            y += head_[i] * in[i];
        }
        return y;
    }

private:
    struct Layer {
        std::vector<std::vector<double>> w;
        std::vector<double> b, h, c;
    };
    std::size_t h_size_ = 0;
    std::vector<Layer> layers_;
    std::vector<double> head_;
    double head_b_ = 0.0;
};

} // namespace rigd::test
