#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace rigd::control {

// One thread that runs slow jobs in order: file reads and writes, model and
// IR loads, stage and chain builds, and freeing what the audio thread
// retired. Jobs report back by posting to the control loop.
class Worker {
public:
    using Job = std::function<void()>;

    Worker();
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // Any thread. Jobs posted after stop() are dropped.
    void post(Job job);
    // Any thread but the worker's: waits until every job posted so far ran.
    void wait_idle();
    // Asks the thread to finish the job in hand, drop the rest and exit;
    // waits at most `patience`. Returns false when the job in hand is still
    // running then (a long model parse at shutdown): the caller may exit
    // without joining; the thread is detached.
    bool stop(std::chrono::milliseconds patience); // any thread but the worker's
    // Any thread.
    [[nodiscard]] std::uint64_t jobs_done() const;

private:
    void run();

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<Job> jobs_;
    bool busy_ = false;
    bool stopping_ = false;
    bool finished_ = false;
    std::uint64_t done_ = 0;
    std::thread thread_;
};

} // namespace rigd::control
