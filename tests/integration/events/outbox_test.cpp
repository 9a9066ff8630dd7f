// The event outbox against a real nats-server with JetStream (E5, E6): every event raised is in
// the node's EVENTS stream once, in order, across a server restart; without JetStream events
// wait; a stream that refuses its first publishes still gets them in order.
#include "bus_fixture.hpp"

#include <hasys/events/outbox.hpp>
#include <hasys/events/stream.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace json = boost::json;
using namespace hasys::bus;
using namespace hasys::bus::testing;
using hasys::test::eventually;
namespace events = hasys::events;
namespace proto = hasys::proto;

namespace {

hasys::test::nats_server_options with_jetstream() {
  hasys::test::nats_server_options o;
  o.jetstream = true;
  return o;
}

struct events_outbox : bus_test {
  events_outbox() : bus_test(with_jetstream()) {}
};
struct events_outbox_plain : bus_test {};

proto::event_msg event(int i) {
  proto::event_msg e;
  e.time_unix_ms = 1;
  e.group = "g";
  e.node = "node-a";
  e.source = "test";
  e.code = "test_event";
  e.text = std::to_string(i);
  return e;
}

std::string base64_decode(std::string_view in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    auto p = chars.find(c);
    if (p == std::string::npos) break;
    val = (val << 6) + static_cast<int>(p);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

// The stream's state (messages, bytes, max_bytes), read through the JetStream API.
awaitable<json::object> stream_info(connection& c) {
  auto r = co_await c.request("$JS.API.STREAM.INFO.EVENTS", "", 5000ms);
  if (!r) co_return json::object{};
  co_return json::parse(r->data).as_object();
}

// The text (our index) of the stored event with stream sequence seq.
awaitable<std::string> stored_text(connection& c, std::uint64_t seq) {
  auto r = co_await c.request("$JS.API.STREAM.MSG.GET.EVENTS",
                              "{\"seq\":" + std::to_string(seq) + "}", 5000ms);
  if (!r) co_return "(no reply)";
  auto v = json::parse(r->data);
  const auto* m = v.as_object().if_contains("message");
  if (!m) co_return "(" + r->data + ")";
  auto data = base64_decode(m->as_object().at("data").as_string());
  auto e = proto::from_json<proto::event_msg>(data);
  co_return e ? e->text : "(unreadable)";
}

}  // namespace

TEST_F(events_outbox, every_event_is_stored_once_in_order_in_the_stream_it_creates) {
  run([](events_outbox& t) -> awaitable<void> {
    events::outbox out({"test", 1 << 20, 65536, {}});
    for (int i = 0; i < 300; ++i) out.raise(event(i));  // before the bus opens
    auto c = co_await connection::open(t.ex(), t.opts());
    out.attach(c);
    for (int i = 300; i < 1000; ++i) out.raise(event(i));
    EXPECT_TRUE(co_await out.drain(20s)) << out.waiting() << " still waiting";
    EXPECT_TRUE(out.storing());
    EXPECT_EQ(out.stored(), 1000u);
    auto info = co_await stream_info(c);
    CO_ASSERT_TRUE(info.contains("state")) << json::serialize(info);
    EXPECT_EQ(info.at("state").at("messages").to_number<std::int64_t>(), 1000);
    EXPECT_EQ(info.at("config").at("max_bytes").to_number<std::int64_t>(), 1 << 20);
    EXPECT_EQ(info.at("config").at("storage").as_string(), "file");
    // The forwarder sends no STREAM.UPDATE to a stream nats-server describes with our settings.
    EXPECT_TRUE(events::config_is(json::serialize(info), 1 << 20)) << json::serialize(info);
    EXPECT_FALSE(events::config_is(json::serialize(info), 2 << 20));
    for (std::uint64_t seq : {1u, 2u, 300u, 301u, 1000u})
      EXPECT_EQ(co_await stored_text(c, seq), std::to_string(seq - 1)) << "seq " << seq;
    c.close();
  }(*this));
}

TEST_F(events_outbox, a_nats_server_restart_loses_no_event_and_stores_none_twice) {  // E5
  run([](events_outbox& t) -> awaitable<void> {
    events::outbox out({"test", 1 << 20, 65536, {}});
    auto c = co_await connection::open(t.ex(), t.opts());
    out.attach(c);
    for (int i = 0; i < 200; ++i) out.raise(event(i));
    EXPECT_TRUE(co_await out.drain(20s));
    t.server.stop();
    for (int i = 200; i < 400; ++i) out.raise(event(i));  // while the server is down
    co_await sleep_for(300ms);
    EXPECT_EQ(out.waiting(), 200u) << "kept while nothing can store them";
    t.server.restart();  // same port, same store
    EXPECT_TRUE(co_await out.drain(30s)) << out.waiting() << " still waiting";
    auto info = co_await stream_info(c);
    CO_ASSERT_TRUE(info.contains("state")) << json::serialize(info);
    EXPECT_EQ(info.at("state").at("messages").to_number<std::int64_t>(), 400);
    for (std::uint64_t seq : {1u, 200u, 201u, 400u})
      EXPECT_EQ(co_await stored_text(c, seq), std::to_string(seq - 1)) << "seq " << seq;
    c.close();
  }(*this));
}

// Fail closed: an event published where nothing stores it would be lost, so without JetStream
// the events wait in the outbox (and it says why, once) instead of being published plainly.
TEST_F(events_outbox_plain, without_jetstream_events_wait_and_it_is_said) {
  run([](events_outbox_plain& t) -> awaitable<void> {
    auto said = std::make_shared<std::vector<std::string>>();
    events::outbox out(
        {"test", 1 << 20, 65536, [said](const std::string& s) { said->push_back(s); }});
    auto c = co_await connection::open(t.ex(), t.opts());
    auto sub = c.subscribe("hasys.evt.>");
    CO_ASSERT_TRUE((co_await c.flush(5000ms)).has_value());
    out.attach(c);
    for (int i = 0; i < 10; ++i) out.raise(event(i));
    CO_ASSERT_TRUE(co_await eventually([&] { return !said->empty(); }, 5s));
    CO_ASSERT_TRUE((co_await c.flush(5000ms)).has_value());
    auto m = co_await with_deadline(sub.next(), 0ms);
    EXPECT_FALSE(m && *m) << "published where nothing stores it";
    EXPECT_EQ(out.waiting(), 10u);
    EXPECT_FALSE(out.storing());
    CO_ASSERT_EQ(said->size(), 1u);
    EXPECT_NE(said->front().find("no JetStream"), std::string::npos) << said->front();
    c.close();
  }(*this));
}

// A stream nats-server lists before it takes messages: STREAM.INFO answers as soon as a new
// stream is registered, but the stream subscribes to its subjects only after its file store is
// set up, and a publish meanwhile is refused. CI saw the outbox's first window go out then: the
// stream began at event 15, with 0..14 stored after the rest. That moment cannot be held open on
// a real nats-server from outside, so a stand-in EVENTS stream (a plain subscriber, named as
// such) answers INFO and refuses the first three publishes as JetStream does, then stores.
TEST_F(events_outbox_plain, a_stream_that_refuses_its_first_publishes_still_gets_them_in_order) {
  run([](events_outbox_plain& t) -> awaitable<void> {
    auto standin = co_await connection::open(t.ex(), t.opts("stand-in EVENTS stream"));
    auto info = standin.subscribe("$JS.API.STREAM.INFO.EVENTS");
    auto pubs = standin.subscribe("hasys.evt.>");
    CO_ASSERT_TRUE((co_await standin.flush(5000ms)).has_value());
    std::vector<std::string> stored;  // event texts, in stream order
    int ended = 0;
    auto serve_info = [&]() -> awaitable<void> {
      while (auto m = co_await info.next())
        standin.respond(*m, R"({"config":{"name":"EVENTS"},"state":{"messages":0}})");
      ++ended;
    };
    auto serve_pubs = [&]() -> awaitable<void> {
      int refused = 0;
      while (auto m = co_await pubs.next()) {
        if (refused < 3) {
          ++refused;
          standin.respond(*m,
                          R"({"error":{"code":503,)"
                          R"("description":"refused by the stand-in, as before subscribing"}})");
          continue;
        }
        auto e = proto::from_json<proto::event_msg>(m->data);
        if (e && std::find(stored.begin(), stored.end(), e->text) == stored.end())
          stored.push_back(e->text);  // a second publish with the same id is a duplicate
        standin.respond(*m, R"({"stream":"EVENTS","seq":)" + std::to_string(stored.size()) + "}");
      }
      ++ended;
    };
    boost::asio::co_spawn(t.ex(), serve_info(), boost::asio::detached);
    boost::asio::co_spawn(t.ex(), serve_pubs(), boost::asio::detached);

    events::outbox out({"test", 1 << 20, 65536, {}});
    for (int i = 0; i < 300; ++i) out.raise(event(i));
    auto c = co_await connection::open(t.ex(), t.opts());
    out.attach(c);
    EXPECT_TRUE(co_await out.drain(20s)) << out.waiting() << " still waiting";
    c.close();
    standin.close();  // the serving loops end; they use this frame, so wait for them
    CO_ASSERT_TRUE(co_await eventually([&] { return ended == 2; }, 5s));
    CO_ASSERT_EQ(stored.size(), 300u);
    for (std::size_t i = 0; i < stored.size(); ++i)
      CO_ASSERT_EQ(stored[i], std::to_string(i)) << "stream position " << i;
  }(*this));
}
