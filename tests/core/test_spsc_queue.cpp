#include "core/spsc_queue.hpp"

#include "alloc_counter.hpp"

#include <doctest/doctest.h>

#include <thread>

using rigd::core::SpscQueue;

TEST_CASE("spsc queue rounds capacity up to a power of two and refuses when full") {
    SpscQueue<int> q(5);
    CHECK(q.capacity() == 8);
    for (int i = 0; i < 8; ++i) {
        CHECK(q.try_push(i));
    }
    CHECK_FALSE(q.try_push(99));
    CHECK(q.size_approx() == 8);
    for (int i = 0; i < 8; ++i) {
        auto v = q.try_pop();
        REQUIRE(v.has_value());
        CHECK(*v == i);
    }
    CHECK_FALSE(q.try_pop().has_value());
    CHECK_THROWS_AS(SpscQueue<int>(0), std::invalid_argument);
}

TEST_CASE("spsc queue wraps around many times in order") {
    SpscQueue<unsigned> q(4);
    unsigned next_in = 0;
    unsigned next_out = 0;
    for (int round = 0; round < 1000; ++round) {
        while (q.try_push(next_in)) {
            ++next_in;
        }
        for (int k = 0; k < 3; ++k) {
            auto v = q.try_pop();
            REQUIRE(v);
            CHECK(*v == next_out++);
        }
    }
}

TEST_CASE("spsc push and pop never allocate") {
    SpscQueue<int> q(64);
    rigd::test::ScopedAllocationCounter counter;
    for (int i = 0; i < 1000; ++i) {
        CHECK(q.try_push(i));
        CHECK(q.try_pop().has_value());
    }
    CHECK(counter.total() == 0);
}

TEST_CASE("spsc queue carries a sequence across two threads intact") {
    SpscQueue<std::uint64_t> q(64);
    constexpr std::uint64_t kCount = 200000;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kCount;) {
            if (q.try_push(i)) {
                ++i;
            }
        }
    });
    std::uint64_t expected = 0;
    bool in_order = true;
    while (expected < kCount) {
        if (auto v = q.try_pop()) {
            in_order &= (*v == expected);
            ++expected;
        }
    }
    producer.join();
    CHECK(in_order);
}
