#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <mutex>
#include <thread>

namespace rigd::control {

// The control loop: one thread that owns the rig's model (RigController,
// PresetManager, Feedback, MidiRouter, AddressSpace). Everything else posts
// tasks to it. It never blocks on a file, a build or the network; it wakes
// for each task and at least every tick period to run `tick` (engine pump,
// feedback, timers).
class ControlLoop {
public:
    using Task = std::function<void()>;
    static constexpr std::size_t kMaxQueued = 16384;

    ControlLoop() = default;
    ~ControlLoop();
    ControlLoop(const ControlLoop&) = delete;
    ControlLoop& operator=(const ControlLoop&) = delete;

    // Owner's thread (not the loop's). Starts the thread; `tick` runs on it
    // between tasks, every `period`.
    void start(Task tick, std::chrono::microseconds period);
    // Owner's thread (not the loop's). Runs the tasks already queued, then
    // stops the thread. Idempotent.
    void stop();

    // Any thread. Returns false (and counts) when the queue is full or the
    // loop has stopped; the task is dropped.
    bool post(Task task);
    // Any thread: runs `fn` on the loop and waits for it (on the loop
    // itself, runs it at once: waiting would never end).
    template <typename F>
    auto call(F fn) -> decltype(fn()) {
        using R = decltype(fn());
        if (on_loop_thread()) {
            return fn();
        }
        auto promise = std::make_shared<std::promise<R>>();
        auto future = promise->get_future();
        const bool queued = post([promise, fn = std::move(fn)]() mutable {
            try {
                if constexpr (std::is_void_v<R>) {
                    fn();
                    promise->set_value();
                } else {
                    promise->set_value(fn());
                }
            } catch (...) {
                promise->set_exception(std::current_exception());
            }
        });
        if (!queued) {
            throw std::runtime_error("the control loop is not running");
        }
        return future.get();
    }

    // Any thread.
    [[nodiscard]] bool on_loop_thread() const noexcept { return std::this_thread::get_id() == id_.load(); }
    // Any thread.
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    // Any thread. Advanced by every pass of the loop (the watchdog reads it).
    [[nodiscard]] std::uint64_t heartbeat() const noexcept { return heartbeat_.load(std::memory_order_relaxed); }

private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Task> tasks_;
    bool running_ = false;
    bool stopping_ = false;
    Task tick_;
    std::chrono::microseconds period_{1000};
    std::atomic<std::thread::id> id_{};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> heartbeat_{0};
    std::thread thread_;
};

} // namespace rigd::control
