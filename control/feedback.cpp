#include "control/feedback.hpp"

#include <algorithm>
#include <cmath>

namespace rigd::control {

namespace {

float to_dbfs(float peak) { return peak > 1e-6f ? 20.0f * std::log10(peak) : -120.0f; }

std::chrono::nanoseconds period_of(double hz) {
    return std::chrono::nanoseconds(static_cast<long long>(1e9 / hz));
}

} // namespace

Feedback::Feedback(const RigController& rig, core::EngineCounters* meters, Send send)
    : rig_(rig), meters_(meters), send_(std::move(send)) {}

void Feedback::subscribe(const std::string& url, int lease_s) {
    if (lease_s < 0 || lease_s > kMaxLeaseS) {
        throw ControlError("lease " + std::to_string(lease_s) + " s is outside 1.." + std::to_string(kMaxLeaseS));
    }
    {
        const auto expires = lease_s == 0 ? std::nullopt
                                          : std::optional<Clock::time_point>(Clock::now() + std::chrono::seconds(lease_s));
        auto it = std::find_if(subscribers_.begin(), subscribers_.end(), [&](const auto& s) { return s.url == url; });
        if (it != subscribers_.end()) {
            it->expires = expires;
        } else {
            if (subscribers_.size() >= kMaxSubscribers) {
                throw ControlError("too many subscribers (" + std::to_string(kMaxSubscribers) + ")");
            }
            subscribers_.push_back({url, expires});
        }
    }
    // The full picture at once, then changes as they happen.
    if (space_ != nullptr) {
        for (const auto& m : space_->dump()) {
            send_(url, m);
        }
    }
}

bool Feedback::unsubscribe(const std::string& url) {
    const auto n = std::erase_if(subscribers_, [&](const auto& s) { return s.url == url; });
    return n > 0;
}

std::vector<std::string> Feedback::subscribers() const {
    std::vector<std::string> out;
    for (const auto& s : subscribers_) {
        out.push_back(s.url);
    }
    return out;
}

void Feedback::set_tuner_reading(TunerReading reading) {
    tuner_ = std::move(reading);
}

void Feedback::changed(const OscMessage& message) {
    pending_[message.path] = message; // latest wins
}

void Feedback::param_changed(const std::string& id, const core::ParamInfo& info, float value) {
    changed(OscMessage{AddressSpace::stage_address(id, info.name), {OscArg::of(value)}});
    changed(OscMessage{AddressSpace::stage_address(id, std::string(info.name) + "/norm"),
                       {OscArg::of(to_norm(info, value))}});
}

void Feedback::bypass_changed(const std::string& id, bool bypassed) {
    changed(OscMessage{AddressSpace::stage_address(id, "bypass"), {OscArg::of(static_cast<std::int32_t>(bypassed))}});
}

void Feedback::text_changed(const std::string& id, const std::string& name, const std::string& value) {
    changed(OscMessage{AddressSpace::stage_address(id, name), {OscArg::of(value)}});
}

void Feedback::master_changed(float db) { changed(OscMessage{"/rig/master/volume", {OscArg::of(db)}}); }

void Feedback::flag_changed(Flag flag, bool on) {
    const char* address = flag == Flag::mute ? "/rig/master/mute" : flag == Flag::tuner ? "/rig/tuner" : "/rig/bypass";
    changed(OscMessage{address, {OscArg::of(static_cast<std::int32_t>(on ? 1 : 0))}});
}

void Feedback::oversample_changed(int factor) {
    changed(OscMessage{"/rig/oversample", {OscArg::of(static_cast<std::int32_t>(factor))}});
}

void Feedback::reloaded() {
    full_dump_ = true; // taken on the next tick
}

void Feedback::send_all(const OscMessage& m, const std::vector<std::string>& urls) {
    for (const auto& u : urls) {
        send_(u, m);
    }
}

void Feedback::tick(Clock::time_point now) {
    const bool dump = full_dump_ && !subscribers_.empty();
    full_dump_ = false;
    std::vector<OscMessage> everything;
    if (dump && space_ != nullptr) {
        everything = space_->dump();
    }
    bool tuner_on = false;
    std::vector<OscMessage> due;
    std::vector<std::string> urls;
    TunerReading tuner;
    {
        for (auto& m : everything) {
            pending_[m.path] = std::move(m);
        }
        std::erase_if(subscribers_, [&](const auto& s) { return s.expires && *s.expires <= now; });
        for (const auto& s : subscribers_) {
            urls.push_back(s.url);
        }
        const auto min_gap = period_of(kMaxRateHz);
        for (auto it = pending_.begin(); it != pending_.end();) {
            auto& last = last_sent_[it->first];
            if (now - last >= min_gap) {
                last = now;
                due.push_back(std::move(it->second));
                it = pending_.erase(it);
            } else {
                ++it;
            }
        }
        tuner = tuner_;
    }
    if (urls.empty()) {
        return; // changes are dropped with nobody to tell; a subscribe sends a dump
    }
    for (const auto& m : due) {
        send_all(m, urls);
    }
    if (meters_ != nullptr && now >= next_meter_) {
        next_meter_ = now + period_of(kMeterRateHz);
        const float in = meters_->peak_in.load(std::memory_order_relaxed);
        const float out = meters_->peak_out.load(std::memory_order_relaxed);
        meters_->meter_reset.store(true, std::memory_order_release);
        send_all(OscMessage{"/rig/meter/in", {OscArg::of(to_dbfs(in))}}, urls);
        send_all(OscMessage{"/rig/meter/out", {OscArg::of(to_dbfs(out))}}, urls);
        if (in >= 1.0f || out >= 1.0f) {
            send_all(OscMessage{"/rig/clip", {OscArg::of(static_cast<std::int32_t>(in >= 1.0f ? 1 : 0)),
                                              OscArg::of(static_cast<std::int32_t>(out >= 1.0f ? 1 : 0))}},
                     urls);
        }
    }
    tuner_on = rig_.tuner();
    if (tuner_on && tuner && now >= next_tuner_) {
        next_tuner_ = now + period_of(kTunerRateHz);
        if (auto reading = tuner()) {
            send_all(*reading, urls);
        }
    }
}

} // namespace rigd::control
