#include "core/amplifier_chain.hpp"
#include "core/stages/level_stage.hpp"

#include "alloc_counter.hpp"
#include "test_stages.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <array>
#include <memory>
#include <vector>

using rigd::core::AmplifierChain;
using rigd::core::ProcessSpec;
using rigd::core::Stage;
using rigd::core::StageHandle;
using Edit = rigd::core::AmplifierChain::Edit;
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
    chain->append(std::move(drive), false, StageHandle{1});
    chain->append(std::move(level), false, StageHandle{2});
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
                CHECK(chain->set_bypass(StageHandle{1}, true));
            }
            if (i == 2880) {
                CHECK(chain->set_bypass(StageHandle{1}, false));
            }
            if (i == 4032) {
                std::unique_ptr<Stage> fresh = std::make_unique<DriveLowpassStage>();
                fresh->set_param(0, 9.0f);
                fresh->prepare(ProcessSpec{kRate, 4096, 1});
                CHECK(chain->replace(StageHandle{1}, fresh, StageHandle{3}) == Edit::applied);
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
    REQUIRE(chain->set_bypass(StageHandle{1}, true));
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
        REQUIRE(chain->insert(extra, StageHandle{10}, StageHandle{1}) == Edit::applied); // before drive
        CHECK(extra == nullptr);
        run_ms(15);
        CHECK(chain->stage_at(0) == extra_ptr);
        REQUIRE(chain->move(StageHandle{10}, rigd::core::kNoStage) == Edit::applied); // to the end
        run_ms(15);
        CHECK(chain->stage_at(2) == extra_ptr);
        CHECK(chain->stage_at(0) == drive);
        REQUIRE(chain->replace(StageHandle{1}, fresh, StageHandle{11}) == Edit::applied);
        run_ms(15);
        CHECK(chain->stage_at(0) == fresh_ptr);
        CHECK(chain->handle_at(0) == StageHandle{11});
        REQUIRE(chain->remove(StageHandle{2}) == Edit::applied);
        run_ms(15);
        CHECK(chain->size() == 2);
        REQUIRE(chain->set_bypass(StageHandle{11}, true));
        REQUIRE(chain->set_param(StageHandle{10}, 0, -3.0f));
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

TEST_CASE("chain: refuses edits naming what is not there, defers what it cannot do yet, keeps ownership") {
    const ProcessSpec spec{kRate, 64, 1};
    AmplifierChain chain;
    chain.prepare(spec);
    for (std::size_t i = 0; i < AmplifierChain::kCapacity; ++i) {
        auto s = std::make_unique<LevelStage>();
        s->prepare(spec);
        chain.append(std::move(s));
    }
    std::unique_ptr<Stage> one_more = std::make_unique<LevelStage>();
    // 64 visible stages: the 65th is refused (the control side never sends it).
    CHECK(chain.insert(one_more, StageHandle{100}, rigd::core::kNoStage) == Edit::rejected);
    CHECK(one_more != nullptr);
    const StageHandle stranger{999};
    CHECK(chain.remove(stranger) == Edit::rejected);
    CHECK_FALSE(chain.set_bypass(stranger, true));
    CHECK_FALSE(chain.set_param(stranger, 0, 1.0f));
    CHECK(chain.replace(stranger, one_more, StageHandle{101}) == Edit::rejected);
    CHECK(chain.move(StageHandle{1}, stranger) == Edit::rejected);
    CHECK(one_more != nullptr);
    // Removing one frees a visible place at once, while its slot ramps out.
    std::vector<float> block(64, 0.1f);
    chain.process_block(block);
    REQUIRE(chain.remove(StageHandle{5}) == Edit::applied);
    CHECK(chain.insert(one_more, StageHandle{100}, StageHandle{6}) == Edit::applied);
    CHECK(one_more == nullptr);
    // With every slot busy (64 visible, 64 ramping out) an insert waits.
    for (std::uint64_t h = 1; h <= 64; ++h) {
        if (h != 5) {
            REQUIRE(chain.remove(StageHandle{h}) == Edit::applied);
        }
    }
    REQUIRE(chain.remove(StageHandle{100}) == Edit::applied);
    for (std::uint64_t h = 300; h < 363; ++h) { // 65 ramping out + 63 = every slot
        std::unique_ptr<Stage> s = std::make_unique<LevelStage>();
        s->prepare(spec);
        REQUIRE(chain.insert(s, StageHandle{h}, rigd::core::kNoStage) == Edit::applied);
    }
    one_more = std::make_unique<LevelStage>();
    REQUIRE(chain.remove(StageHandle{300}) == Edit::applied);
    CHECK(chain.insert(one_more, StageHandle{400}, rigd::core::kNoStage) == Edit::deferred);
    CHECK(one_more != nullptr);
    for (int i = 0; i < 10; ++i) {
        chain.process_block(block);
    }
    CHECK(chain.insert(one_more, StageHandle{400}, rigd::core::kNoStage) == Edit::applied);
    while (Stage* s = chain.pop_retired()) {
        delete s;
    }
    // A second replace while the first still fades waits (the engine defers it).
    std::unique_ptr<Stage> a = std::make_unique<LevelStage>();
    std::unique_ptr<Stage> b = std::make_unique<LevelStage>();
    CHECK(chain.replace(StageHandle{301}, a, StageHandle{200}) == Edit::applied);
    CHECK(chain.replace(StageHandle{200}, b, StageHandle{201}) == Edit::deferred);
    CHECK(b != nullptr);
    while (Stage* s = chain.pop_retired()) {
        delete s;
    }
}

TEST_CASE("chain: a handle is never confused with a later stage") {
    // Raw pointers as identities failed here: a freed stage's address came
    // back for a new stage and a stale command hit it.
    const ProcessSpec spec{kRate, 64, 1};
    AmplifierChain chain;
    chain.prepare(spec);
    auto first = std::make_unique<LevelStage>();
    first->prepare(spec);
    chain.append(std::move(first), false, StageHandle{1});
    std::vector<float> block(64, 0.1f);
    REQUIRE(chain.remove(StageHandle{1}) == Edit::applied);
    CHECK_FALSE(chain.set_param(StageHandle{1}, 0, 6.0f)); // on its way out: not addressable
    for (int i = 0; i < 10; ++i) {
        chain.process_block(block);
    }
    while (Stage* s = chain.pop_retired()) {
        delete s;
    }
    std::unique_ptr<Stage> second = std::make_unique<LevelStage>();
    second->prepare(spec);
    REQUIRE(chain.insert(second, StageHandle{2}, rigd::core::kNoStage) == Edit::applied);
    CHECK_FALSE(chain.set_param(StageHandle{1}, 0, 6.0f));
    CHECK(chain.find_stage(StageHandle{2})->param(0) == doctest::Approx(0.0f));
}

TEST_CASE("chain: quick moves and inserts end in the order they were sent") {
    // The order of visible stages follows each edit at once; the audio
    // reaches the same order once the ramps end, whatever overlapped.
    const ProcessSpec spec{kRate, 64, 1};
    std::uint32_t seed = 12345;
    auto next = [&seed](std::uint32_t n) {
        seed = seed * 1664525u + 1013904223u;
        return (seed >> 8) % n;
    };
    for (int trial = 0; trial < 40; ++trial) {
        AmplifierChain chain;
        chain.prepare(spec);
        std::vector<StageHandle> model;
        for (std::uint64_t h = 1; h <= 8; ++h) {
            auto s = std::make_unique<LevelStage>();
            s->prepare(spec);
            chain.append(std::move(s), h % 3 == 0, StageHandle{h}); // some bypassed (moved at once)
            model.push_back(StageHandle{h});
        }
        std::uint64_t fresh_handle = 100;
        std::vector<float> block(64, 0.1f);
        for (int edit = 0; edit < 30; ++edit) {
            const auto anchor_after = [&](std::size_t k) {
                return k + 1 < model.size() ? model[k + 1] : rigd::core::kNoStage;
            };
            const auto op = next(4);
            if (op <= 1 && model.size() > 1) { // move
                const std::size_t from = next(static_cast<std::uint32_t>(model.size()));
                const std::size_t to = next(static_cast<std::uint32_t>(model.size()));
                const StageHandle h = model[from];
                model.erase(model.begin() + static_cast<std::ptrdiff_t>(from));
                model.insert(model.begin() + static_cast<std::ptrdiff_t>(to), h);
                REQUIRE(chain.move(h, anchor_after(to)) == Edit::applied);
            } else if (op == 2 && model.size() < 20) { // insert
                const std::size_t at = next(static_cast<std::uint32_t>(model.size() + 1));
                std::unique_ptr<Stage> s = std::make_unique<LevelStage>();
                s->prepare(spec);
                const StageHandle h{fresh_handle++};
                model.insert(model.begin() + static_cast<std::ptrdiff_t>(at), h);
                REQUIRE(chain.insert(s, h, anchor_after(at)) == Edit::applied);
            } else if (model.size() > 2) { // remove
                const std::size_t at = next(static_cast<std::uint32_t>(model.size()));
                REQUIRE(chain.remove(model[at]) == Edit::applied);
                model.erase(model.begin() + static_cast<std::ptrdiff_t>(at));
            }
            if (next(3) == 0) {
                chain.process_block(block); // some edits overlap ramps, some do not
            }
        }
        for (int i = 0; i < 40; ++i) {
            chain.process_block(block);
        }
        CHECK(chain.is_idle());
        std::array<StageHandle, AmplifierChain::kCapacity> order{};
        const std::size_t n = chain.running_order(order);
        REQUIRE(n == model.size());
        for (std::size_t i = 0; i < n; ++i) {
            INFO("trial " << trial << " position " << i);
            CHECK(order[i].value == model[i].value);
        }
        while (Stage* s = chain.pop_retired()) {
            delete s;
        }
    }
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
