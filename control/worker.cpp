#include "control/worker.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace rigd::control {

Worker::Worker() : thread_([this] { run(); }) {}

Worker::~Worker() {
    if (!stop(std::chrono::milliseconds(60000)) && thread_.joinable()) {
        thread_.detach();
    }
}

void Worker::post(Job job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void Worker::wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return (jobs_.empty() && !busy_) || finished_; });
}

bool Worker::stop(std::chrono::milliseconds patience) {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    jobs_.clear();
    wake_.notify_all();
    if (!idle_.wait_for(lock, patience, [this] { return finished_; })) {
        return false;
    }
    lock.unlock();
    if (thread_.joinable()) {
        thread_.join();
    }
    return true;
}

std::uint64_t Worker::jobs_done() const {
    std::lock_guard lock(mutex_);
    return done_;
}

void Worker::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_ && jobs_.empty()) {
            break;
        }
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
        lock.unlock();
        try {
            job();
        } catch (const std::exception& e) {
            spdlog::error("worker job failed: {}", e.what());
        }
        job = nullptr; // what it captured dies here, off the control loop
        lock.lock();
        busy_ = false;
        ++done_;
        if (jobs_.empty()) {
            idle_.notify_all();
        }
    }
    finished_ = true;
    idle_.notify_all();
}

} // namespace rigd::control
