// A daemon of node-a as far as events go, for the event store's tests: the outbox every daemon
// raises its events through, on a thread and bus connection of its own.
#pragma once

#include <hasys/bus/bus.hpp>
#include <hasys/events/outbox.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

namespace hasys::test {

// A daemon of the node as far as events go: an outbox on its own thread and bus connection.
class raiser {
 public:
  explicit raiser(std::string url, std::string user = {}, std::string password = {}) {
    thread_ = std::thread([this, url, user, password] {
      boost::asio::co_spawn(ioc_, open(url, user, password), boost::asio::detached);
      ioc_.run();
    });
  }
  ~raiser() {
    boost::asio::post(ioc_, [this] {
      if (conn_) conn_->close();
      ioc_.stop();
    });
    thread_.join();
  }
  // Raises events first..first+n-1 (their text is their number).
  void raise(int first, int n) {
    boost::asio::post(ioc_, [this, first, n] {
      for (int i = first; i < first + n; ++i) {
        hasys::proto::event_msg e;
        e.time_unix_ms = hasys::proto::unix_ms_now();
        e.group = "g";
        e.node = "node-a";
        e.source = "test";
        e.code = "test_event";
        e.text = std::to_string(i);
        out_.raise(e);
      }
    });
  }
  // Every event raised so far is in the node's stream.
  bool stored_all(std::chrono::milliseconds within) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      std::promise<std::size_t> p;
      auto f = p.get_future();
      boost::asio::post(ioc_, [this, &p] { p.set_value(attached_ ? out_.waiting() : 1); });
      if (f.get() == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  boost::asio::awaitable<void> open(std::string url, std::string user, std::string password) {
    hasys::bus::options o;
    o.url = url;
    o.user = std::move(user);
    o.password = std::move(password);
    o.name = "event-raiser";
    conn_.emplace(co_await hasys::bus::connection::open(ioc_.get_executor(), o));
    out_.attach(*conn_);
    attached_ = true;
  }

  boost::asio::io_context ioc_;
  hasys::events::outbox out_{{"test", 64 << 20, 100000, {}}};
  std::optional<hasys::bus::connection> conn_;
  bool attached_ = false;
  std::thread thread_;
};

}  // namespace hasys::test
