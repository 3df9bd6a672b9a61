#include "core/engine.hpp"

#include "core/db.hpp"
#include "core/record_tap.hpp"
#include "core/tuner/input_tap.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace rigd::core {

Engine::Engine(std::size_t command_capacity, std::size_t retire_capacity, std::size_t report_capacity)
    : commands_(command_capacity), retired_(retire_capacity), reports_(report_capacity),
      chain_(std::make_unique<AmplifierChain>()) {
    master_gain_.snap(1.0f);
    mute_gain_.snap(1.0f);
    rig_wet_.snap(1.0f);
}

Engine::~Engine() {
    // Not on the RT thread: whatever is still in flight is ours to delete.
    while (auto c = commands_.try_pop()) {
        delete c->fresh;
        delete c->chain;
    }
    if (has_deferred_) {
        delete deferred_.fresh;
        delete deferred_.chain;
    }
    flush_retired();
    while (auto r = retired_.try_pop()) {
        delete *r;
    }
    for (std::size_t i = 0; i < retire_backlog_count_; ++i) {
        delete retire_backlog_[i];
    }
}

void Engine::prepare(const ProcessSpec& spec, std::unique_ptr<AmplifierChain> chain) {
    if (spec.max_block_size == 0 || !(spec.sample_rate_hz > 0.0)) {
        throw std::invalid_argument("Engine::prepare: sample rate and block size must be positive");
    }
    spec_ = spec;
    if (!chain) {
        chain = std::make_unique<AmplifierChain>();
    }
    // The chain keeps its own oversampling factor; rate and block size follow the device.
    if (!chain->is_prepared() || chain->spec().sample_rate_hz != spec.sample_rate_hz ||
        chain->spec().max_block_size != spec.max_block_size) {
        ProcessSpec chain_spec = spec;
        chain_spec.oversample = chain->is_prepared() ? chain->spec().oversample : spec.oversample;
        chain->prepare(chain_spec);
    }
    chain_ = std::move(chain);
    const std::size_t frames = std::max(spec.max_block_size, kMaxFrames);
    work_.assign(frames, 0.0f);
    dry_.assign(frames, 0.0f);
    alt_.assign(frames, 0.0f);
    retune(spec.sample_rate_hz);
}

void Engine::retune(double sample_rate_hz) noexcept {
    chain_fade_step_ = static_cast<float>(1.0 / std::max(1.0, kChainFadeMs * 0.001 * sample_rate_hz));
    // Keep the current master settings across a re-prepare.
    const float master = master_gain_.target();
    const float mute = mute_gain_.target();
    const float wet = rig_wet_.target();
    master_gain_.prepare(sample_rate_hz, kMasterRampMs);
    mute_gain_.prepare(sample_rate_hz, kMasterRampMs);
    rig_wet_.prepare(sample_rate_hz, AmplifierChain::kRampMs);
    master_gain_.snap(master);
    mute_gain_.snap(mute);
    rig_wet_.snap(wet);
}

void Engine::snap_master_db(float db) noexcept { master_gain_.snap(db <= -120.0f ? 0.0f : db_to_gain(db)); }

bool Engine::try_send(const Command& command) noexcept { return commands_.try_push(command); }

std::size_t Engine::free_command_slots() const noexcept {
    const std::size_t used = commands_.size_approx();
    return used >= commands_.capacity() ? 0 : commands_.capacity() - used;
}

std::optional<EngineReport> Engine::try_pop_report() noexcept { return reports_.try_pop(); }

void Engine::report(const Command& c, Outcome outcome) noexcept {
    if (!c.is_structural()) {
        return;
    }
    EngineReport r;
    r.kind = outcome == Outcome::applied ? EngineReport::Kind::applied : EngineReport::Kind::rejected;
    r.command = c.type;
    r.seq = c.seq;
    if (!reports_.try_push(r)) {
        counters_.reports_dropped.fetch_add(1, std::memory_order_relaxed);
    }
}

void Engine::report_chain(std::uint32_t seq) noexcept {
    EngineReport r;
    r.kind = EngineReport::Kind::chain;
    r.command = Command::Type::report_chain;
    r.seq = seq;
    AmplifierChain& newest = next_chain_ ? *next_chain_ : *chain_;
    r.count = static_cast<std::uint32_t>(newest.running_order(r.stages));
    r.idle = !next_chain_ && !has_deferred_ && chain_->is_idle();
    if (!reports_.try_push(r)) {
        counters_.reports_dropped.fetch_add(1, std::memory_order_relaxed);
    }
}

void Engine::follow_spec(const ProcessSpec& spec) noexcept {
    // A chain prepared for a new rate or period: fades and ramps follow it.
    // Only arithmetic (guarded by "engine: a swapped chain's spec becomes the
    // engine's" in tests/core/test_engine.cpp).
    if (spec.sample_rate_hz != spec_.sample_rate_hz) {
        retune(spec.sample_rate_hz);
    }
    spec_.sample_rate_hz = spec.sample_rate_hz;
    spec_.max_block_size = std::min(spec.max_block_size, work_.size());
}

std::unique_ptr<Retirable> Engine::try_pop_retired() noexcept {
    auto r = retired_.try_pop();
    return r ? std::unique_ptr<Retirable>(*r) : nullptr;
}

bool Engine::is_idle() const noexcept {
    return !next_chain_ && !has_deferred_ && chain_->is_idle() && !master_gain_.is_smoothing() &&
           !mute_gain_.is_smoothing() && !rig_wet_.is_smoothing() && commands_.size_approx() == 0;
}

void Engine::retire(Retirable* object) noexcept {
    if (object == nullptr) {
        return;
    }
    if (retired_.try_push(object)) {
        return;
    }
    if (retire_backlog_count_ < retire_backlog_.size()) {
        retire_backlog_[retire_backlog_count_++] = object;
        return;
    }
    // The control side stopped draining: leak rather than free here.
    counters_.retire_overflow.fetch_add(1, std::memory_order_relaxed);
}

void Engine::flush_retired() noexcept {
    while (retire_backlog_count_ > 0 && retired_.try_push(retire_backlog_[retire_backlog_count_ - 1])) {
        --retire_backlog_count_;
    }
    for (AmplifierChain* c : {chain_.get(), next_chain_.get()}) {
        if (c == nullptr) {
            continue;
        }
        while (Stage* s = c->pop_retired()) {
            retire(s);
        }
    }
}

Engine::Outcome Engine::apply(const Command& c) noexcept {
    // Structural edits go to the newest chain: the one the control side sees.
    AmplifierChain& newest = next_chain_ ? *next_chain_ : *chain_;
    auto outcome = [](AmplifierChain::Edit e) {
        switch (e) {
        case AmplifierChain::Edit::applied:
            return Outcome::applied;
        case AmplifierChain::Edit::deferred:
            return Outcome::deferred;
        case AmplifierChain::Edit::rejected:
            break;
        }
        return Outcome::rejected;
    };
    switch (c.type) {
    case Command::Type::set_param:
        if (newest.set_param(c.stage, c.index, c.value) || chain_->set_param(c.stage, c.index, c.value)) {
            return Outcome::applied;
        }
        return Outcome::stale;
    case Command::Type::set_bypass:
        return newest.set_bypass(c.stage, c.value != 0.0f) ? Outcome::applied : Outcome::stale;
    case Command::Type::insert_stage: {
        std::unique_ptr<Stage> fresh(c.fresh);
        const Outcome o = outcome(newest.insert(fresh, c.fresh_handle, c.anchor, c.value != 0.0f));
        if (o == Outcome::deferred) {
            (void)fresh.release(); // still owned by the deferred command
        } else if (o == Outcome::rejected) {
            retire(fresh.release());
        }
        return o;
    }
    case Command::Type::remove_stage:
        return outcome(newest.remove(c.stage));
    case Command::Type::move_stage:
        return outcome(newest.move(c.stage, c.anchor));
    case Command::Type::replace_stage: {
        std::unique_ptr<Stage> fresh(c.fresh);
        const Outcome o = outcome(newest.replace(c.stage, fresh, c.fresh_handle));
        if (o == Outcome::deferred) {
            (void)fresh.release();
        } else if (o == Outcome::rejected) {
            retire(fresh.release());
        }
        return o;
    }
    case Command::Type::swap_chain:
        if (next_chain_) {
            return Outcome::deferred; // one fade at a time; order is kept
        }
        next_chain_.reset(c.chain);
        chain_fade_ = 0.0f;
        follow_spec(next_chain_->spec());
        return Outcome::applied;
    case Command::Type::set_master_db: {
        const float db = std::clamp(std::isfinite(c.value) ? c.value : 0.0f, -120.0f, 24.0f);
        master_gain_.set_target(db <= -120.0f ? 0.0f : db_to_gain(db));
        return Outcome::applied;
    }
    case Command::Type::set_mute:
        muted_ = c.value != 0.0f;
        mute_gain_.set_target(muted_ || tuner_on_ ? 0.0f : 1.0f);
        return Outcome::applied;
    case Command::Type::set_tuner:
        tuner_on_ = c.value != 0.0f;
        mute_gain_.set_target(muted_ || tuner_on_ ? 0.0f : 1.0f);
        return Outcome::applied;
    case Command::Type::set_rig_bypass:
        rig_wet_.set_target(c.value != 0.0f ? 0.0f : 1.0f);
        return Outcome::applied;
    case Command::Type::report_chain:
        report_chain(c.seq);
        return Outcome::applied;
    }
    return Outcome::rejected;
}

void Engine::drain_commands() noexcept {
    for (std::size_t n = 0; n < kMaxCommandsPerPeriod; ++n) {
        Command c;
        if (has_deferred_) {
            c = deferred_;
            has_deferred_ = false;
        } else if (auto popped = commands_.try_pop()) {
            c = *popped;
        } else {
            return;
        }
        const Outcome o = apply(c);
        switch (o) {
        case Outcome::applied:
            counters_.commands_applied.fetch_add(1, std::memory_order_relaxed);
            report(c, o);
            break;
        case Outcome::rejected:
            counters_.commands_rejected.fetch_add(1, std::memory_order_relaxed);
            report(c, o);
            break;
        case Outcome::stale:
            counters_.stale_sets.fetch_add(1, std::memory_order_relaxed);
            break;
        case Outcome::deferred:
            // Keep order: nothing behind it runs before it.
            deferred_ = c;
            has_deferred_ = true;
            counters_.commands_deferred.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
}

void Engine::process(std::span<const float> in, std::span<float> out_l, std::span<float> out_r) noexcept {
    counters_.periods.fetch_add(1, std::memory_order_relaxed);
    drain_commands();
    if (counters_.meter_reset.exchange(false, std::memory_order_acq_rel)) {
        peak_in_ = 0.0f;
        peak_out_ = 0.0f;
    }
    const std::size_t n = std::min({in.size(), out_l.size(), out_r.size()});
    if (tap_ != nullptr) {
        tap_->write(in.first(n)); // wait-free; guarded by "engine: the input tap ..." test
    }
    const std::size_t max = work_.size();
    if (max == 0) { // never prepared: silence
        std::fill_n(out_l.begin(), n, 0.0f);
        std::fill_n(out_r.begin(), n, 0.0f);
        return;
    }
    for (std::size_t done = 0; done < n; done += max) {
        const std::size_t len = std::min(max, n - done);
        process_chunk(in.subspan(done, len), out_l.subspan(done, len));
    }
    if (out_r.data() != out_l.data()) {
        std::copy_n(out_l.begin(), n, out_r.begin());
    }
    if (record_tap_ != nullptr) {
        record_tap_->write(in.first(n), out_l.first(n), out_r.first(n)); // never waits: full means dropped
    }
    std::uint64_t bad = chain_->take_nonfinite_resets();
    if (next_chain_) {
        bad += next_chain_->take_nonfinite_resets();
    }
    if (bad != 0) {
        counters_.nonfinite_stage.fetch_add(bad, std::memory_order_relaxed);
    }
    counters_.peak_in.store(peak_in_, std::memory_order_relaxed);
    counters_.peak_out.store(peak_out_, std::memory_order_relaxed);
    flush_retired();
}

void Engine::process_chunk(std::span<const float> in, std::span<float> out) noexcept {
    const std::size_t n = in.size();
    const std::span<float> work(work_.data(), n);
    std::uint64_t bad_in = 0;
    float peak_in = peak_in_;
    for (std::size_t k = 0; k < n; ++k) {
        float x = in[k];
        if (!std::isfinite(x)) {
            x = 0.0f;
            ++bad_in;
        }
        peak_in = std::max(peak_in, std::fabs(x));
        work[k] = x;
        dry_[k] = x;
    }
    peak_in_ = peak_in;
    if (bad_in != 0) {
        counters_.nonfinite_input.fetch_add(bad_in, std::memory_order_relaxed);
    }

    chain_->process_block(work);
    if (next_chain_) {
        const std::span<float> alt(alt_.data(), n);
        std::copy_n(dry_.begin(), n, alt.begin());
        next_chain_->process_block(alt);
        // Equal-power fade: the two chains are different sounds (uncorrelated).
        float fade = chain_fade_;
        constexpr float kHalfPi = std::numbers::pi_v<float> / 2.0f;
        for (std::size_t k = 0; k < n; ++k) {
            const float theta = fade * kHalfPi;
            work[k] = std::cos(theta) * work[k] + std::sin(theta) * alt[k];
            fade = std::min(1.0f, fade + chain_fade_step_);
        }
        chain_fade_ = fade;
        if (fade >= 1.0f) {
            while (Stage* s = chain_->pop_retired()) {
                retire(s);
            }
            retire(chain_.release());
            chain_ = std::move(next_chain_);
        }
    }

    float peak_out = peak_out_;
    const bool steady = !master_gain_.is_smoothing() && !mute_gain_.is_smoothing() &&
                        !rig_wet_.is_smoothing() && rig_wet_.current() == 1.0f;
    if (steady) {
        const float g = master_gain_.current() * mute_gain_.current();
        for (std::size_t k = 0; k < n; ++k) {
            const float y = work[k] * g;
            out[k] = y;
            peak_out = std::max(peak_out, std::fabs(y));
        }
    } else {
        for (std::size_t k = 0; k < n; ++k) {
            const float wet = rig_wet_.next();
            const float y = (dry_[k] + wet * (work[k] - dry_[k])) * master_gain_.next() * mute_gain_.next();
            out[k] = y;
            peak_out = std::max(peak_out, std::fabs(y));
        }
    }
    peak_out_ = peak_out;
}

} // namespace rigd::core
