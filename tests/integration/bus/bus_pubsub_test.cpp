// Publish/subscribe through the bridge: delivery, order, cancellation safety, overflow, and
// the lifetime of subscriptions while messages are in flight.
#include "bus_fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>

#include <set>

using namespace hasys::bus;
using namespace hasys::bus::testing;
using namespace boost::asio::experimental::awaitable_operators;
using hasys::test::eventually;
using hasys::test::spawn_checked;

namespace {

struct bus_pubsub : bus_test {};

// A timer that has already expired: it completes at once, so it races with whatever it is
// paired with on every iteration.
awaitable<void> expired_timer() {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 0ms);
  co_await t.async_wait(use_awaitable);
}

// Completes through one plain post: ready before any timer or socket completion.
awaitable<void> yield_once() {
  co_await boost::asio::post(co_await boost::asio::this_coro::executor, use_awaitable);
}

awaitable<void> timer_of(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

}  // namespace

TEST_F(bus_pubsub, published_message_reaches_the_subscriber_with_subject_and_data) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.a");
    const std::string binary("a\0b\xff", 4);
    c.publish("t.a", "hello");
    c.publish("t.a", binary);
    auto m = co_await with_deadline(sub.next(), 5s);
    CO_ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->subject, "t.a");
    EXPECT_EQ((*m)->data, "hello");
    EXPECT_EQ((*m)->reply, "");
    m = co_await with_deadline(sub.next(), 5s);
    CO_ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->data, binary);
    EXPECT_EQ(c.stats().published, 2u);
    EXPECT_EQ(c.stats().publish_errors, 0u);
  }(*this));
}

TEST_F(bus_pubsub, wildcard_subscription_receives_every_message_in_publish_order) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.>");
    for (int i = 0; i < 200; ++i) c.publish("t.x." + std::to_string(i), std::to_string(i));
    for (int i = 0; i < 200; ++i) {
      auto m = co_await with_deadline(sub.next(), 5s);
      CO_ASSERT_TRUE(m && *m) << "message " << i;
      EXPECT_EQ((*m)->subject, "t.x." + std::to_string(i));
      EXPECT_EQ((*m)->data, std::to_string(i));
    }
  }(*this));
}

TEST_F(bus_pubsub, queue_group_members_share_the_messages_without_duplicates) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto a = c.queue_subscribe("work", "workers");
    auto b = c.queue_subscribe("work", "workers");
    for (int i = 0; i < 40; ++i) c.publish("work", std::to_string(i));
    EXPECT_TRUE(co_await eventually([&] { return a.queued() + b.queued() == 40; }, 5s));
    std::set<std::string> seen;
    for (auto* s : {&a, &b}) {
      while (s->queued() > 0) seen.insert((co_await s->next())->data);
    }
    EXPECT_EQ(seen.size(), 40u);
  }(*this));
}

// asio#1241: on Boost 1.81 a channel's receive cancelled by `||` breaks later sends. The
// mailbox must keep working after any number of cancelled waits.
TEST_F(bus_pubsub, next_cancelled_by_a_timer_many_times_still_receives_afterwards) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.cancel");
    for (int i = 0; i < 500; ++i) {
      auto r = co_await (sub.next() || expired_timer());
      CO_ASSERT_EQ(r.index(), 1u) << "nothing was published, yet next() won at " << i;
    }
    for (int i = 0; i < 20; ++i) {
      auto r = co_await (sub.next() || timer_of(1ms));
      CO_ASSERT_EQ(r.index(), 1u);
    }
    c.publish("t.cancel", "after");
    auto r = co_await (sub.next() || timer_of(5000ms));
    CO_ASSERT_EQ(r.index(), 0u) << "the message did not arrive after the cancelled waits";
    EXPECT_EQ(std::get<0>(r)->data, "after");
  }(*this));
}

// The branch that loses `||` must not have taken a message. Rivals that complete through a
// plain post, spawned before next(), win against a next() that finds a message waiting; an
// implementation that takes the message without first suspending loses it there.
TEST_F(bus_pubsub, next_racing_rivals_that_complete_at_once_loses_and_duplicates_nothing) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.race", 1000);
    constexpr int count = 500;
    for (int i = 0; i < count; ++i) c.publish("t.race", std::to_string(i));
    int next_expected = 0;
    int rival_wins = 0;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (int round = 0; next_expected < count && std::chrono::steady_clock::now() < deadline;
         ++round) {
      std::optional<message> got;
      switch (round % 4) {
        case 0: {
          auto r = co_await (sub.next() || expired_timer());
          if (r.index() == 0) got = std::get<0>(std::move(r));
          break;
        }
        case 1: {
          auto r = co_await (expired_timer() || sub.next());
          if (r.index() == 1) got = std::get<1>(std::move(r));
          break;
        }
        case 2: {
          auto r = co_await (yield_once() || sub.next());
          if (r.index() == 1) got = std::get<1>(std::move(r));
          break;
        }
        default: {
          auto r = co_await (sub.next() || yield_once());
          if (r.index() == 0) got = std::get<0>(std::move(r));
          break;
        }
      }
      if (!got) {
        ++rival_wins;
        continue;
      }
      CO_ASSERT_EQ(got->data, std::to_string(next_expected)) << "lost or reordered";
      ++next_expected;
    }
    EXPECT_EQ(next_expected, count);
    EXPECT_GT(rival_wins, 0) << "the race never happened: the test proves nothing";
    EXPECT_EQ(sub.dropped(), 0u);
  }(*this));
}

TEST_F(bus_pubsub, with_deadline_on_next_gives_nullopt_on_silence_and_the_message_otherwise) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.deadline");
    const auto start = std::chrono::steady_clock::now();
    auto none = co_await with_deadline(sub.next(), 100ms);
    EXPECT_FALSE(none.has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
    c.publish("t.deadline", "x");
    auto some = co_await with_deadline(sub.next(), 5s);
    CO_ASSERT_TRUE(some && *some);
    EXPECT_EQ((*some)->data, "x");
  }(*this));
}

TEST_F(bus_pubsub, full_mailbox_keeps_the_oldest_and_drops_and_counts_the_rest) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.full", 4);
    for (int i = 0; i < 20; ++i) c.publish("t.full", std::to_string(i));
    EXPECT_TRUE(co_await eventually([&] { return sub.dropped() == 16; }, 5s))
        << "dropped " << sub.dropped();
    EXPECT_EQ(sub.queued(), 4u);
    EXPECT_EQ(c.stats().dropped, 16u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ((co_await sub.next())->data, std::to_string(i));
    c.publish("t.full", "room again");
    auto m = co_await with_deadline(sub.next(), 5s);
    CO_ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->data, "room again");
  }(*this));
}

TEST_F(bus_pubsub, closing_a_subscription_ends_a_waiting_reader_with_nullopt) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.close");
    auto ended = std::make_shared<bool>(false);
    auto got_nullopt = std::make_shared<bool>(false);
    spawn_checked(
        t.ex(),
        [](subscription& s, std::shared_ptr<bool> flag) -> awaitable<void> {
          *flag = !(co_await s.next()).has_value();
        }(sub, got_nullopt),
        ended);
    co_await timer_of(20ms);  // let the reader block in next()
    sub.close();
    EXPECT_TRUE(co_await eventually([&] { return *ended; }, 5s));
    EXPECT_TRUE(*got_nullopt);
    EXPECT_FALSE(sub.is_open());
    c.publish("t.close", "too late");
    EXPECT_FALSE((co_await sub.next()).has_value());
  }(*this));
}

TEST_F(bus_pubsub, closing_the_connection_ends_every_subscription) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto a = c.subscribe("t.a");
    auto b = c.queue_subscribe("t.b", "q");
    c.close();
    auto ra = co_await with_deadline(a.next(), 5s);
    auto rb = co_await with_deadline(b.next(), 5s);
    CO_ASSERT_TRUE(ra.has_value() && rb.has_value()) << "a reader is still blocked";
    EXPECT_FALSE(ra->has_value());
    EXPECT_FALSE(rb->has_value());
    EXPECT_THROW(c.subscribe("t.c"), std::runtime_error);
  }(*this));
}

// Subscriptions come and go while another connection floods their subject: nats.c's delivery
// thread is mid-callback when we unsubscribe. Run under AddressSanitizer to make it count.
TEST_F(bus_pubsub, unsubscribing_while_messages_are_in_flight_is_safe) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto publisher = co_await connection::open(t.ex(), t.opts("flood"));
    auto c = co_await connection::open(t.ex(), t.opts("churn"));
    auto stop = std::make_shared<bool>(false);
    auto flood_done = std::make_shared<bool>(false);
    spawn_checked(
        t.ex(),
        [](connection& p, std::shared_ptr<bool> stop) -> awaitable<void> {
          while (!*stop) {
            for (int i = 0; i < 50; ++i) p.publish("flood", "payload-" + std::to_string(i));
            co_await timer_of(0ms);
          }
        }(publisher, stop),
        flood_done);
    int received = 0;
    for (int round = 0; round < 60; ++round) {
      auto sub = c.subscribe("flood", round % 2 == 0 ? 8 : 1024);
      if (round % 3 == 0) {
        // A reader parked in next() when its subscription goes away.
        spawn_checked(t.ex(), [](subscription& s) -> awaitable<void> {
          while (co_await s.next()) {
          }
        }(sub));
      }
      auto m = co_await with_deadline(sub.next(), 5s);
      if (m && *m) ++received;
      co_await timer_of(1ms);
    }  // each subscription is destroyed here with messages queued and in flight
    *stop = true;
    EXPECT_TRUE(co_await eventually([&] { return *flood_done; }, 5s));
    EXPECT_GT(received, 50);
    auto last = c.subscribe("flood");
    c.close();  // and the connection, with a subscription still receiving
    publisher.close();
  }(*this));
}

TEST_F(bus_pubsub, subscribe_to_an_invalid_subject_throws_naming_the_subject) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    try {
      (void)c.subscribe("");
      ADD_FAILURE() << "an empty subject was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot subscribe to \"\""), std::string::npos)
          << e.what();
    }
  }(*this));
}

TEST_F(bus_pubsub, publish_failures_are_counted_not_thrown) {
  run([](bus_pubsub& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    c.publish("t.big", std::string(2 * 1024 * 1024, 'x'));  // over the default 1 MB max_payload
    c.respond(message{"t.req", "", "no reply subject"}, "answer");
    EXPECT_EQ(c.stats().publish_errors, 2u);
    EXPECT_EQ(c.stats().published, 0u);
    c.close();
    c.publish("t.a", "after close");
    EXPECT_EQ(c.stats().publish_errors, 3u);
  }(*this));
}
