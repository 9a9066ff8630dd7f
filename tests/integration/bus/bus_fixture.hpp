// The fixture of the bus integration tests: an io_context (checked for leaked work) and a
// fresh nats-server per test.
#pragma once

#include <hasys/bus/bus.hpp>
#include <hasys/test/coroutine_test.hpp>
#include <hasys/test/nats_server.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hasys::bus::testing {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
using namespace std::chrono_literals;

struct bus_test : test::io_test {
  explicit bus_test(test::nats_server_options o = {}) : server(std::move(o)) {}

  options opts(std::string name = "bus-test") const {
    options o;
    o.url = server.url();
    o.name = std::move(name);
    return o;
  }
  boost::asio::any_io_executor ex() { return ioc_.get_executor(); }

  // The next connection event, or nullopt when none came within d.
  static awaitable<std::optional<conn_event>> event_within(connection& c,
                                                           std::chrono::milliseconds d) {
    co_return co_await with_deadline(c.next_event(), d);
  }

  test::nats_server server;
};

inline awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

}  // namespace hasys::bus::testing
