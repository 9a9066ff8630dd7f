// The HTTPS listener (Boost.Beast over OpenSSL): one coroutine per connection reads requests
// with a size limit and deadlines, hands each to the handler and writes its answer. Slow or
// oversized clients are cut off; a handler's exception is a 500, never a crash.
#pragma once

#include "http_types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace hasys::manager {

class http_server {
 public:
  struct options {
    std::string address = "127.0.0.1";
    unsigned short port = 8443;  // 0: any free port (tests)
    std::size_t body_limit = 64 * 1024;
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds read_timeout{15};  // a request must arrive whole within this
    std::chrono::seconds idle_timeout{60};  // between requests of a kept-alive connection
    std::size_t max_connections = 2000;
    // A stream client that has not taken a message within this is dropped (its memory never
    // grows: messages are made from the latest state when the previous one is gone).
    std::chrono::seconds stream_write_timeout{5};
  };
  using handler = std::function<boost::asio::awaitable<http_response>(http_request)>;
  // WebSocket upgrades (GET /api/v1/stream).
  using stream_handler = std::function<boost::asio::awaitable<stream_open>(http_request)>;

  // Binds at once (throws std::runtime_error naming the address when it cannot).
  http_server(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls, options o, handler h,
              stream_handler streams);
  ~http_server();
  unsigned short port() const;
  // Accepts until the listener is closed (stop()).
  boost::asio::awaitable<void> run();
  void stop();

  struct counters {
    std::uint64_t accepted = 0, open = 0, refused_full = 0, handshake_failures = 0,
                  bad_requests = 0, too_large = 0, timeouts = 0, handler_errors = 0,
                  streams_open = 0, streams_dropped_slow = 0;
  };
  const counters& stats() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace hasys::manager
