// bus::outbox: what a daemon publishes before its connection opens reaches subscribers, in
// order, once the connection is attached; past its capacity it drops and counts.
#include "bus_fixture.hpp"

#include <hasys/bus/outbox.hpp>

using namespace hasys::bus;
using namespace hasys::bus::testing;

namespace {
struct bus_outbox : bus_test {};
}  // namespace

TEST_F(bus_outbox, what_waited_for_the_connection_arrives_in_order_before_what_follows) {
  run([](bus_outbox& t) -> awaitable<void> {
    outbox box;
    box.publish("t.evt", "1");  // before any connection exists: a daemon's first events
    box.publish("t.evt", "2");
    EXPECT_EQ(box.waiting(), 2u);
    auto watcher = co_await connection::open(t.ex(), t.opts("watcher"));
    auto sub = watcher.subscribe("t.evt");
    CO_ASSERT_TRUE((co_await watcher.flush(5s)).has_value());  // the interest is registered
    auto c = co_await connection::open(t.ex(), t.opts("daemon"));
    box.attach(c);
    EXPECT_EQ(box.waiting(), 0u);
    box.publish("t.evt", "3");  // straight through from now on
    for (const char* want : {"1", "2", "3"}) {
      auto m = co_await with_deadline(sub.next(), 5s);
      CO_ASSERT_TRUE(m && *m);
      EXPECT_EQ((*m)->data, want);
    }
    EXPECT_EQ(box.dropped(), 0u);
  }(*this));
}

TEST_F(bus_outbox, over_capacity_it_keeps_the_oldest_and_counts_the_rest) {
  run([](bus_outbox& t) -> awaitable<void> {
    outbox box(2);
    for (const char* d : {"first", "second", "third", "fourth"}) box.publish("t.evt", d);
    EXPECT_EQ(box.waiting(), 2u);
    EXPECT_EQ(box.dropped(), 2u);
    auto watcher = co_await connection::open(t.ex(), t.opts("watcher"));
    auto sub = watcher.subscribe("t.evt");
    CO_ASSERT_TRUE((co_await watcher.flush(5s)).has_value());
    auto c = co_await connection::open(t.ex(), t.opts("daemon"));
    box.attach(c);
    box.publish("t.evt", "end");  // one publisher, one subscriber: order is kept
    for (const char* want : {"first", "second", "end"}) {
      auto m = co_await with_deadline(sub.next(), 5s);
      CO_ASSERT_TRUE(m && *m);
      EXPECT_EQ((*m)->data, want) << "the dropped ones are never sent";
    }
  }(*this));
}
