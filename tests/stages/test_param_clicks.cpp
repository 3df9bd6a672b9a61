// Parameter changes do not click: for every stage type and every continuous
// parameter, a steady 217.3 Hz sine runs while the parameter jumps from its
// minimum to its maximum and back. The largest sample-to-sample step while
// the change settles must stay within kStepRatio times the largest steady
// step seen at either extreme (plus kStepFloor for stages whose steady
// output is near silent). An unsmoothed jump of e.g. level -60 -> +24 dB
// gives ~35x; smoothed changes stay near 1x.
#include "core/stage_factory.hpp"

#include "signal_util.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using rigd::core::ParamKind;
using rigd::core::ProcessSpec;
using rigd::core::Stage;

namespace {

constexpr double kFs = 48000.0;
constexpr double kStepRatio = 3.0; // stated bound (+9.5 dB over the steady step)
constexpr double kStepFloor = 1e-3;
constexpr std::size_t kBlock = 64;

struct Runner {
    Stage& stage;
    double phase = 0.0;
    double last = 0.0; // previous run's final output
    // Processes `seconds` of a 0.3 amplitude 217.3 Hz sine (not a whole number of cycles per second, so
    // the jumps do not all land on zero crossings); returns the largest
    // |y[n] - y[n-1]| over the last `window_s` seconds.
    double run(double seconds, double window_s) {
        const auto n = static_cast<std::size_t>(seconds * kFs);
        const auto from = n - static_cast<std::size_t>(window_s * kFs);
        std::vector<float> y(n);
        for (auto& v : y) {
            v = static_cast<float>(0.3 * std::sin(phase));
            phase += 2.0 * M_PI * 217.3 / kFs;
        }
        for (std::size_t i = 0; i < n; i += kBlock) {
            stage.process_block(std::span<float>(y.data() + i, std::min(kBlock, n - i)));
        }
        // The step into this run's first sample counts: a change applied
        // between runs shows there.
        double worst = from == 0 ? std::fabs(static_cast<double>(y[0]) - last) : 0.0;
        for (std::size_t i = std::max<std::size_t>(from, 1); i < n; ++i) {
            worst = std::max(worst, static_cast<double>(std::fabs(y[i] - y[i - 1])));
        }
        last = y[n - 1];
        return worst;
    }
};

} // namespace

TEST_CASE("parameter changes: min <-> max jumps of every continuous parameter do not click") {
    rigd::core::StageFactory factory;
    rigd::core::register_basic_stages(factory);
    for (const char* type :
         {"filter", "gate", "comp", "pre", "tone", "eq", "sat", "power", "level", "delay", "reverb", "trem", "pitch"}) {
        const auto infos = factory.create(type)->params();
        for (std::size_t p = 0; p < infos.size(); ++p) {
            if (infos[p].kind != ParamKind::continuous) {
                continue;
            }
            const std::string type_name = type;
            const std::string param_name(infos[p].name);
            CAPTURE(type_name);
            CAPTURE(param_name);
            auto s = factory.create(type);
            s->set_param(p, infos[p].min);
            s->prepare(ProcessSpec{kFs, kBlock, 1});
            Runner r{*s};
            const double steady_lo = r.run(1.0, 0.2);
            s->set_param(p, infos[p].max);
            // 4.5 s: long enough for every glide to end (delay time: up to 4 s).
            const double change_up = r.run(4.5, 4.5);
            const double steady_hi = r.run(1.0, 0.2);
            s->set_param(p, infos[p].min);
            const double change_down = r.run(4.5, 4.5);
            const double bound = kStepRatio * std::max(steady_lo, steady_hi) + kStepFloor;
            CAPTURE(steady_lo);
            CAPTURE(steady_hi);
            CAPTURE(change_up);
            CAPTURE(change_down);
            CHECK(change_up <= bound);
            CHECK(change_down <= bound);
        }
    }
}
