#include "control/control_loop.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace rigd::control {

ControlLoop::~ControlLoop() { stop(); }

void ControlLoop::start(Task tick, std::chrono::microseconds period) {
    std::lock_guard lock(mutex_);
    tick_ = std::move(tick);
    period_ = period;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void ControlLoop::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!running_) {
            return;
        }
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    std::lock_guard lock(mutex_);
    running_ = false;
    tasks_.clear();
}

bool ControlLoop::post(Task task) {
    {
        std::lock_guard lock(mutex_);
        if (!running_ || stopping_ || tasks_.size() >= kMaxQueued) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return true;
}

void ControlLoop::run() {
    id_.store(std::this_thread::get_id());
    auto next_tick = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_until(lock, next_tick, [this] { return stopping_ || !tasks_.empty(); });
        // A bounded batch, so ticks (engine pump, feedback) keep their pace
        // under a storm.
        for (int n = 0; n < 256 && !tasks_.empty(); ++n) {
            Task task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            try {
                task();
            } catch (const std::exception& e) {
                spdlog::error("control loop task failed: {}", e.what());
            }
            task = nullptr;
            lock.lock();
        }
        const bool stop_now = stopping_ && tasks_.empty();
        if (std::chrono::steady_clock::now() >= next_tick || stop_now) {
            lock.unlock();
            if (tick_) {
                try {
                    tick_();
                } catch (const std::exception& e) {
                    spdlog::error("control loop tick failed: {}", e.what());
                }
            }
            heartbeat_.fetch_add(1, std::memory_order_relaxed);
            next_tick = std::chrono::steady_clock::now() + period_;
            lock.lock();
        }
        if (stop_now) {
            break;
        }
    }
    id_.store(std::thread::id{});
}

} // namespace rigd::control
