// Request/reply through the bridge: replies, timeouts, no responders, disconnection, closing,
// cancellation by the caller.
#include "bus_fixture.hpp"

using namespace hasys::bus;
using namespace hasys::bus::testing;
using hasys::test::eventually;
using hasys::test::spawn_checked;

namespace {

struct bus_request : bus_test {};

// A service loop as services write it: receive, decide, respond.
awaitable<void> echo_responder(connection& c, subscription& sub,
                               std::chrono::milliseconds delay = 0ms) {
  while (auto m = co_await sub.next()) {
    if (delay > 0ms) co_await sleep_for(delay);
    c.respond(*m, "echo:" + m->data);
  }
}

std::chrono::steady_clock::duration since(std::chrono::steady_clock::time_point t) {
  return std::chrono::steady_clock::now() - t;
}

}  // namespace

TEST_F(bus_request, request_gets_the_reply_of_a_responder_coroutine) {
  run([](bus_request& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto service = c.subscribe("svc.echo");
    auto done = std::make_shared<bool>(false);
    spawn_checked(t.ex(), echo_responder(c, service), done);
    auto r = co_await c.request("svc.echo", "hi", 5000ms);
    CO_ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->data, "echo:hi");
    service.close();
    EXPECT_TRUE(co_await eventually([&] { return *done; }, 5s));
  }(*this));
}

TEST_F(bus_request, responder_on_another_connection_answers_concurrent_requests) {
  run([](bus_request& t) -> awaitable<void> {
    auto server_side = co_await connection::open(t.ex(), t.opts("service"));
    auto service = server_side.subscribe("svc.echo");
    CO_ASSERT_TRUE((co_await server_side.flush(5000ms)).has_value());  // SUB reached the server
    spawn_checked(t.ex(), echo_responder(server_side, service, 20ms));
    auto c = co_await connection::open(t.ex(), t.opts("client"));
    auto answered = std::make_shared<int>(0);
    for (int i = 0; i < 10; ++i) {
      spawn_checked(t.ex(), [](connection& c, int i, std::shared_ptr<int> n) -> awaitable<void> {
        auto r = co_await c.request("svc.echo", std::to_string(i), 5000ms);
        CO_ASSERT_TRUE(r.has_value()) << r.error().message();
        EXPECT_EQ(r->data, "echo:" + std::to_string(i));
        ++*n;
      }(c, i, answered));
    }
    EXPECT_TRUE(co_await eventually([&] { return *answered == 10; }, 10s)) << *answered;
    service.close();
  }(*this));
}

TEST_F(bus_request, request_without_an_answer_fails_with_timeout_after_its_timeout) {
  run([](bus_request& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto silent = c.subscribe("svc.silent");
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await c.request("svc.silent", "anyone?", 200ms);
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::timeout)) << r.error().message();
    EXPECT_GE(since(start), 200ms);
    EXPECT_LT(since(start), 2s);
  }(*this));
}

// NATS 2.2+ servers answer a request nobody subscribes to with a 503 status message; nats.c
// 3.4 asks for that (headers), so the failure is immediate instead of a timeout.
TEST_F(bus_request, request_to_a_subject_nobody_serves_fails_at_once_with_no_responders) {
  run([](bus_request& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await c.request("svc.nobody", "anyone?", 5000ms);
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::no_responders)) << r.error().message();
    EXPECT_LT(since(start), 2s);
  }(*this));
}

TEST_F(bus_request, request_while_disconnected_fails_with_not_connected) {
  run([](bus_request& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    EXPECT_EQ(co_await t.event_within(c, 5000ms), conn_event::connected);
    t.server.stop();
    EXPECT_EQ(co_await t.event_within(c, 5000ms), conn_event::disconnected);
    auto r = co_await c.request("svc.echo", "hi", 1000ms);
    CO_ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::not_connected));
    auto f = co_await c.flush(1000ms);
    CO_ASSERT_FALSE(f.has_value());
    EXPECT_EQ(f.error(), make_error_code(errc::not_connected));
  }(*this));
}

TEST_F(bus_request, request_cancelled_by_with_deadline_returns_at_once_and_ignores_late_reply) {
  run([](bus_request& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto slow = c.subscribe("svc.slow");
    spawn_checked(t.ex(), echo_responder(c, slow, 300ms));
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await with_deadline(c.request("svc.slow", "1", 5000ms), 50ms);
    EXPECT_FALSE(r.has_value());
    EXPECT_LT(since(start), 1s) << "the request was not cancelled";
    // The late reply to the first request arrives while the second waits: only the second's
    // own reply may complete it.
    auto second = co_await c.request("svc.slow", "2", 5000ms);
    CO_ASSERT_TRUE(second.has_value()) << second.error().message();
    EXPECT_EQ(second->data, "echo:2");
    slow.close();
  }(*this));
}

TEST_F(bus_request, closing_the_connection_fails_pending_requests_with_closed) {
  run([](bus_request& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    auto silent = c.subscribe("svc.silent");
    auto outcome = std::make_shared<boost::system::error_code>();
    auto done = std::make_shared<bool>(false);
    spawn_checked(
        t.ex(),
        [](connection& c, std::shared_ptr<boost::system::error_code> out) -> awaitable<void> {
          auto r = co_await c.request("svc.silent", "x", 10000ms);
          *out = r.has_value() ? boost::system::error_code() : r.error();
        }(c, outcome),
        done);
    co_await sleep_for(20ms);  // let the request go out
    c.close();
    EXPECT_TRUE(co_await eventually([&] { return *done; }, 2s));
    EXPECT_EQ(*outcome, make_error_code(errc::closed));
    auto after = co_await c.request("svc.silent", "x", 100ms);
    EXPECT_EQ(after.error(), make_error_code(errc::closed));
  }(*this));
}

TEST_F(bus_request, flush_waits_for_the_server_to_process_what_was_published) {
  run([](bus_request& t) -> awaitable<void> {
    auto c = co_await connection::open(t.ex(), t.opts());
    for (int i = 0; i < 100; ++i) c.publish("t.flush", "x");
    auto f = co_await c.flush(5000ms);
    EXPECT_TRUE(f.has_value()) << f.error().message();
  }(*this));
}
