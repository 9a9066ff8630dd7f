// The connection's life: events, reconnect to a restarted server, connecting late, hung server
// detection by pings, bad URLs and credentials.
#include "bus_fixture.hpp"

using namespace hasys::bus;
using namespace hasys::bus::testing;
using hasys::test::eventually;

namespace {

struct bus_connection : bus_test {};

struct bus_connection_with_auth : bus_test {
  bus_connection_with_auth() : bus_test({.user = "hasys", .password = "s3cr3t-pw"}) {}
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(bus_options, default_ping_interval_notices_a_hung_server_within_seconds) {
  const options o;
  EXPECT_LE(o.ping_interval, std::chrono::seconds(1));
  EXPECT_GE(o.max_pings_out, 1);
  EXPECT_TRUE(o.retry_on_failed_connect);
}

TEST_F(bus_connection, open_reports_connected_and_close_reports_closed_for_good) {
  run([](bus_connection& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    EXPECT_TRUE(c.connected());
    EXPECT_EQ(co_await t.event_within(c, 5000ms), conn_event::connected);
    c.close();
    EXPECT_FALSE(c.connected());
    EXPECT_EQ(co_await t.event_within(c, 1000ms), conn_event::closed);
    EXPECT_EQ(co_await t.event_within(c, 1000ms), conn_event::closed);
  }(*this));
}

TEST_F(bus_connection, server_restart_gives_disconnected_then_reconnected_and_traffic_resumes) {
  run([](bus_connection& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("t.restart");
    EXPECT_EQ(co_await t.event_within(c, 5000ms), conn_event::connected);

    t.server.stop();
    EXPECT_EQ(co_await t.event_within(c, 5000ms), conn_event::disconnected);
    EXPECT_FALSE(c.connected());
    c.publish("t.restart", "buffered while down");  // kept by nats.c, sent after reconnecting
    EXPECT_EQ(c.stats().publish_errors, 0u);

    t.server.restart();
    EXPECT_EQ(co_await t.event_within(c, 10000ms), conn_event::reconnected);
    EXPECT_TRUE(c.connected());
    auto m = co_await with_deadline(sub.next(), 5s);
    CO_ASSERT_TRUE(m && *m) << "the subscription was not renewed on the new server";
    EXPECT_EQ((*m)->data, "buffered while down");
    c.publish("t.restart", "after");
    m = co_await with_deadline(sub.next(), 5s);
    CO_ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->data, "after");
  }(*this));
}

TEST_F(bus_connection, open_while_the_server_is_down_returns_and_connects_when_it_starts) {
  run([](bus_connection& t) -> awaitable<void> {
    t.server.stop();
    auto c = co_await connection::open(t.ex(), t.opts());
    EXPECT_FALSE(c.connected());
    auto sub = c.subscribe("t.late");  // registered now, sent to the server on connect
    c.publish("t.late", "queued before the server existed");
    t.server.restart();
    std::optional<conn_event> e;
    do {
      e = co_await t.event_within(c, 10000ms);
    } while (e && *e == conn_event::disconnected);
    EXPECT_EQ(e, conn_event::connected);
    EXPECT_TRUE(c.connected());
    auto m = co_await with_deadline(sub.next(), 5s);
    CO_ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->data, "queued before the server existed");
  }(*this));
}

TEST_F(bus_connection, open_while_the_server_is_down_without_retry_throws_a_clear_error) {
  run([](bus_connection& t) -> awaitable<void> {
    t.server.stop();
    auto o = t.opts();
    o.retry_on_failed_connect = false;
    try {
      auto c = co_await connection::open(t.ex(), o);
      ADD_FAILURE() << "open() succeeded with the server down";
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(contains(e.what(), t.server.url())) << e.what();
      EXPECT_TRUE(contains(e.what(), "no server answers")) << e.what();
    }
  }(*this));
}

TEST_F(bus_connection, open_with_a_malformed_url_throws_even_with_retry_on) {
  run([](bus_connection& t) -> awaitable<void> {
    auto o = t.opts();
    o.url = "nats://127.0.0.1:notaport";
    try {
      auto c = co_await connection::open(t.ex(), o);
      ADD_FAILURE() << "open() accepted " << o.url;
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(contains(e.what(), "nats://127.0.0.1:notaport")) << e.what();
    }
  }(*this));
}

// A server that stops answering (SIGSTOP) keeps its socket open; only pings notice it.
TEST_F(bus_connection, hung_server_is_noticed_by_pings_and_the_connection_recovers) {
  run([](bus_connection& t) -> awaitable<void> {
    auto o = t.opts();
    o.ping_interval = 200ms;
    o.max_pings_out = 2;
    auto c = co_await connection::open(t.ex(), o);
    EXPECT_EQ(co_await t.event_within(c, 5000ms), conn_event::connected);
    t.server.freeze();
    const auto frozen_at = std::chrono::steady_clock::now();
    EXPECT_EQ(co_await t.event_within(c, 5000ms), conn_event::disconnected);
    EXPECT_LT(std::chrono::steady_clock::now() - frozen_at, 2s);
    t.server.thaw();
    EXPECT_EQ(co_await t.event_within(c, 15000ms), conn_event::reconnected);
  }(*this));
}

TEST_F(bus_connection_with_auth, right_credentials_connect) {
  run([](bus_connection_with_auth& t) -> awaitable<void> {
    auto o = t.opts();
    o.user = "hasys";
    o.password = "s3cr3t-pw";
    auto c = co_await connection::open(t.ex(), o);
    EXPECT_TRUE(c.connected());
    auto sub = c.subscribe("t.auth");
    c.publish("t.auth", "ok");
    auto m = co_await with_deadline(sub.next(), 5s);
    EXPECT_TRUE(m && *m);
  }(*this));
}

TEST_F(bus_connection_with_auth, wrong_password_fails_open_with_a_clear_error_not_showing_it) {
  run([](bus_connection_with_auth& t) -> awaitable<void> {
    auto o = t.opts();
    o.user = "hasys";
    o.password = "wrong-pw";
    try {
      auto c = co_await connection::open(t.ex(), o);
      ADD_FAILURE() << "open() succeeded with a wrong password";
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(contains(e.what(), "as user \"hasys\"")) << e.what();
      EXPECT_TRUE(contains(e.what(), "refused the credentials")) << e.what();
      EXPECT_TRUE(contains(e.what(), "Authorization Violation")) << e.what();
      EXPECT_FALSE(contains(e.what(), "wrong-pw")) << e.what();
    }
  }(*this));
}

TEST_F(bus_connection_with_auth, missing_credentials_fail_open_with_a_clear_error) {
  run([](bus_connection_with_auth& t) -> awaitable<void> {
    try {
      auto c = co_await connection::open(t.ex(), t.opts());
      ADD_FAILURE() << "open() succeeded without credentials";
    } catch (const std::runtime_error& e) {
      EXPECT_TRUE(contains(e.what(), "refused the credentials")) << e.what();
    }
  }(*this));
}

TEST_F(bus_connection_with_auth, credentials_in_the_url_are_not_shown_in_errors) {
  run([](bus_connection_with_auth& t) -> awaitable<void> {
    auto o = t.opts();
    o.url = "nats://hasys:wrong-pw@127.0.0.1:" + std::to_string(t.server.port());
    try {
      auto c = co_await connection::open(t.ex(), o);
      ADD_FAILURE() << "open() succeeded with a wrong password";
    } catch (const std::runtime_error& e) {
      EXPECT_FALSE(contains(e.what(), "wrong-pw")) << e.what();
      EXPECT_TRUE(contains(e.what(), "nats://***@127.0.0.1:")) << e.what();
    }
  }(*this));
}
