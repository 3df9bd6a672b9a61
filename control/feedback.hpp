#pragma once

#include "control/address_space.hpp"
#include "control/osc_message.hpp"
#include "control/rig_controller.hpp"
#include "core/engine.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rigd::control {

// Live feedback to subscribers: every change made by anyone is sent to every
// live subscriber, coalesced (the latest value per address wins) and rate
// limited (at most kMaxRateHz per address); meters at kMeterRateHz; the
// tuner's reading at kTunerRateHz while it is on. Subscriptions are leases
// that expire unless renewed; static ones (from the config) never expire.
// Lives on the control loop (which calls tick() every few ms); sending goes
// through `send`, which must not block (the network sender queues).
class Feedback : public RigListener {
public:
    using Clock = std::chrono::steady_clock;
    using Send = std::function<void(const std::string& url, const OscMessage& message)>;
    using TunerReading = std::function<std::optional<OscMessage>()>;

    static constexpr double kMaxRateHz = 30.0;
    static constexpr double kMeterRateHz = 20.0;
    static constexpr double kTunerRateHz = 15.0;
    static constexpr int kDefaultLeaseS = 60;
    static constexpr int kMaxLeaseS = 86400;
    static constexpr std::size_t kMaxSubscribers = 32;

    Feedback(const RigController& rig, core::EngineCounters* meters, Send send);
    Feedback(const Feedback&) = delete;
    Feedback& operator=(const Feedback&) = delete;

    // The source of full dumps (set once, before use).
    void set_space(AddressSpace* space) { space_ = space; }

    // Adds or renews; sends the full dump to `url` at once. lease_s 0 = static.
    void subscribe(const std::string& url, int lease_s);
    [[nodiscard]] bool unsubscribe(const std::string& url);
    [[nodiscard]] std::vector<std::string> subscribers() const;
    void set_tuner_reading(TunerReading reading);

    // A change at its own address (MIDI learned, preset current...).
    void changed(const OscMessage& message);

    void param_changed(const std::string& id, const core::ParamInfo& info, float value) override;
    void bypass_changed(const std::string& id, bool bypassed) override;
    void text_changed(const std::string& id, const std::string& name, const std::string& value) override;
    void master_changed(float db) override;
    void flag_changed(Flag flag, bool on) override;
    void oversample_changed(int factor) override;
    void reloaded() override;

    // One pass of the feedback loop at time `now` (the control loop calls
    // it every few ms; tests call it directly).
    void tick(Clock::time_point now);

private:
    struct Subscriber {
        std::string url;
        std::optional<Clock::time_point> expires; // none: static
    };
    void send_all(const OscMessage& m, const std::vector<std::string>& urls);

    AddressSpace* space_ = nullptr;
    const RigController& rig_;
    core::EngineCounters* meters_;
    Send send_;
    TunerReading tuner_;

    std::vector<Subscriber> subscribers_;
    std::map<std::string, OscMessage> pending_;
    std::map<std::string, Clock::time_point> last_sent_;
    bool full_dump_ = false;
    Clock::time_point next_meter_{};
    Clock::time_point next_tuner_{};
};

} // namespace rigd::control
