#include "core/amplifier_chain.hpp"
#include "core/stages/level_stage.hpp"

#include "alloc_counter.hpp"
#include "test_stages.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

using rigd::core::AmplifierChain;
using rigd::core::ProcessSpec;
using rigd::core::Stage;
using rigd::core::stages::LevelStage;
using rigd::test::DriveLowpassStage;
using rigd::test::ScopedAllocationCounter;

namespace {

constexpr double kRate = 48000.0;

std::vector<float> test_signal(std::size_t n) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / kRate;
        x[i] = static_cast<float>(0.5 * std::sin(2.0 * M_PI * 220.0 * t) + 0.2 * std::sin(2.0 * M_PI * 3100.0 * t));
    }
    return x;
}

std::unique_ptr<AmplifierChain> make_chain(std::size_t max_block, Stage** drive_out = nullptr,
                                           Stage** level_out = nullptr) {
    auto chain = std::make_unique<AmplifierChain>();
    const ProcessSpec spec{kRate, max_block, 1};
    chain->prepare(spec);
    auto drive = std::make_unique<DriveLowpassStage>();
    auto level = std::make_unique<LevelStage>();
    level->set_param(0, -6.0f);
    drive->prepare(spec);
    level->prepare(spec);
    if (drive_out != nullptr) {
        *drive_out = drive.get();
    }
    if (level_out != nullptr) {
        *level_out = level.get();
    }
    chain->append(std::move(drive));
    chain->append(std::move(level));
    return chain;
}

std::vector<float> run_blocks(AmplifierChain& chain, std::vector<float> x, std::size_t block) {
    for (std::size_t i = 0; i < x.size(); i += block) {
        const std::size_t n = std::min(block, x.size() - i);
        chain.process_block(std::span<float>(x.data() + i, n));
    }
    return x;
}

std::vector<float> run_samples(AmplifierChain& chain, std::vector<float> x) {
    for (float& s : x) {
        s = chain.process_sample(s);
    }
    return x;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
    }
    return m;
}

double max_step(const std::vector<float>& y, std::size_t from, std::size_t to) {
    double m = 0.0;
    for (std::size_t i = from + 1; i < to; ++i) {
        m = std::max(m, std::fabs(static_cast<double>(y[i]) - y[i - 1]));
    }
    return m;
}

} // namespace

TEST_CASE("chain: block path equals per-sample path for every block size") {
    const auto x = test_signal(9000);
    auto reference_chain = make_chain(4096);
    const auto reference = run_samples(*reference_chain, x);
    for (std::size_t block : {1u, 7u, 64u, 128u, 4096u}) {
        auto chain = make_chain(4096);
        const auto y = run_blocks(*chain, x, block);
        INFO("block " << block);
        CHECK(max_abs_diff(reference, y) <= 1e-7); // same float ops in the same order
    }
}

TEST_CASE("chain: block path equals per-sample path while ramps run") {
    // Bypass, un-bypass and a replace happen mid-run at the same sample in
    // both paths: the ramped code must agree too.
    const auto x = test_signal(6000);
    auto run = [&](std::size_t block) {
        Stage* drive = nullptr;
        auto chain = make_chain(4096, &drive);
        std::vector<float> y = x;
        for (std::size_t i = 0; i < y.size(); i += block) {
            if (i == 960) {
                CHECK(chain->try_set_bypass(drive, true));
            }
            if (i == 2880) {
                CHECK(chain->try_set_bypass(drive, false));
            }
            if (i == 4032) {
                std::unique_ptr<Stage> fresh = std::make_unique<DriveLowpassStage>();
                fresh->set_param(0, 9.0f);
                fresh->prepare(ProcessSpec{kRate, 4096, 1});
                CHECK(chain->try_replace(drive, fresh));
            }
            const std::size_t n = std::min(block, y.size() - i);
            if (block == 1) {
                y[i] = chain->process_sample(y[i]);
            } else {
                chain->process_block(std::span<float>(y.data() + i, n));
            }
            while (Stage* s = chain->pop_retired()) {
                delete s;
            }
        }
        return y;
    };
    const auto per_sample = run(1);
    for (std::size_t block : {64u, 192u}) {
        INFO("block " << block);
        CHECK(max_abs_diff(per_sample, run(block)) <= 1e-6);
    }
}

TEST_CASE("chain: bypass ramps instead of stepping") {
    Stage* drive = nullptr;
    auto chain = make_chain(128, &drive);
    auto x = test_signal(4800);
    std::vector<float> y = x;
    chain->process_block(std::span<float>(y.data(), 1200));
    const double steady = max_step(y, 0, 1200);
    REQUIRE(chain->try_set_bypass(drive, true));
    for (std::size_t i = 1200; i < y.size(); i += 128) {
        chain->process_block(std::span<float>(y.data() + i, std::min<std::size_t>(128, y.size() - i)));
    }
    // 10 ms ramp: no sample-to-sample jump larger than the steady signal has
    // on either side of it (an unramped switch jumps by up to ~0.5 here).
    const double after = max_step(y, 2400, 4800);
    CHECK(max_step(y, 1100, 2400) <= std::max(steady, after) * 1.05);
    // Afterwards the drive stage is out: output is the level stage only (-6 dB).
    const float g = std::pow(10.0f, -6.0f / 20.0f);
    CHECK(y[4000] == doctest::Approx(x[4000] * g).epsilon(1e-4));
    CHECK(chain->is_idle());
}

TEST_CASE("chain: insert, move, remove and replace land where asked and never allocate") {
    const ProcessSpec spec{kRate, 128, 1};
    Stage* drive = nullptr;
    Stage* level = nullptr;
    auto chain = make_chain(128, &drive, &level);
    std::unique_ptr<Stage> extra = std::make_unique<LevelStage>();
    extra->prepare(spec);
    Stage* extra_ptr = extra.get();
    std::unique_ptr<Stage> fresh = std::make_unique<DriveLowpassStage>();
    fresh->prepare(spec);
    Stage* fresh_ptr = fresh.get();
    std::vector<float> block(128, 0.1f);
    auto run_ms = [&](int ms) {
        for (int i = 0; i < ms * 48 / 128 + 1; ++i) {
            chain->process_block(block);
        }
    };
    std::vector<Stage*> retired;
    {
        ScopedAllocationCounter counter;
        REQUIRE(chain->try_insert(0, extra));
        CHECK(extra == nullptr);
        run_ms(15);
        CHECK(chain->stage_at(0) == extra_ptr);
        REQUIRE(chain->try_move(extra_ptr, 2));
        run_ms(15);
        CHECK(chain->stage_at(2) == extra_ptr);
        CHECK(chain->stage_at(0) == drive);
        REQUIRE(chain->try_replace(drive, fresh));
        run_ms(15);
        CHECK(chain->stage_at(0) == fresh_ptr);
        REQUIRE(chain->try_remove(level));
        run_ms(15);
        CHECK(chain->size() == 2);
        REQUIRE(chain->try_set_bypass(fresh_ptr, true));
        REQUIRE(chain->try_set_param(extra_ptr, 0, -3.0f));
        run_ms(15);
        CHECK(extra_ptr->param(0) == doctest::Approx(-3.0f));
        CHECK(counter.total() == 0);
    }
    while (Stage* s = chain->pop_retired()) {
        retired.push_back(s);
    }
    CHECK(retired.size() == 2); // the replaced drive and the removed level
    for (Stage* s : retired) {
        CHECK((s == drive || s == level));
        delete s;
    }
}

TEST_CASE("chain: refuses edits it cannot make, keeping ownership with the caller") {
    const ProcessSpec spec{kRate, 64, 1};
    AmplifierChain chain;
    chain.prepare(spec);
    for (std::size_t i = 0; i < AmplifierChain::kCapacity; ++i) {
        auto s = std::make_unique<LevelStage>();
        s->prepare(spec);
        chain.append(std::move(s));
    }
    std::unique_ptr<Stage> one_more = std::make_unique<LevelStage>();
    CHECK_FALSE(chain.try_insert(0, one_more));
    CHECK(one_more != nullptr);
    LevelStage stranger;
    CHECK_FALSE(chain.try_remove(&stranger));
    CHECK_FALSE(chain.try_set_bypass(&stranger, true));
    CHECK_FALSE(chain.try_set_param(&stranger, 0, 1.0f));
    CHECK_FALSE(chain.try_replace(&stranger, one_more));
    CHECK(one_more != nullptr);
    // A second replace while the first still fades is refused (the engine defers it).
    std::unique_ptr<Stage> a = std::make_unique<LevelStage>();
    std::unique_ptr<Stage> b = std::make_unique<LevelStage>();
    Stage* first = chain.stage_at(0);
    CHECK(chain.try_replace(first, a));
    CHECK_FALSE(chain.try_replace(first, b));
    CHECK(b != nullptr);
}

TEST_CASE("chain: a stage producing NaN is reset and the block is silenced, later blocks recover") {
    const ProcessSpec spec{kRate, 64, 1};
    AmplifierChain chain;
    chain.prepare(spec);
    auto poison = std::make_unique<rigd::test::PoisonStage>();
    auto* p = poison.get();
    chain.append(std::move(poison));
    std::vector<float> block(64, 0.25f);
    p->armed = true;
    const int resets_before = p->resets;
    chain.process_block(block);
    CHECK(block[10] == 0.0f);
    CHECK(p->resets == resets_before + 1);
    CHECK(chain.take_nonfinite_resets() == 1);
    std::fill(block.begin(), block.end(), 0.25f);
    chain.process_block(block);
    CHECK(block[10] == doctest::Approx(0.25f));
    CHECK(chain.take_nonfinite_resets() == 0);
}

TEST_CASE("chain: blocks longer than prepared are processed in chunks") {
    const auto x = test_signal(1000);
    auto small = make_chain(64);
    auto large = make_chain(1000);
    auto a = x;
    auto b = x;
    small->process_block(a);
    large->process_block(b);
    CHECK(max_abs_diff(a, b) <= 1e-7);
}
