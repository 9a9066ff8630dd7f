// How a daemon raises its events (E5): each is kept, in order, until the node's EVENTS stream
// acknowledged it (a JetStream publish acknowledgement), and published again after a failure
// with the same Nats-Msg-Id, so JetStream stores it once. The first events come before the bus
// opens; a nats-server restart or a full buffer loses none. The stream is created when missing.
// With no JetStream on the node's nats-server, events wait here (it says so once in its log):
// an event published where nothing stores it would be lost.
#pragma once

#include <hasys/bus/bus.hpp>
#include <hasys/proto/messages.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace hasys::events {

class outbox {
 public:
  struct options {
    std::string source;                         // the daemon: heartbeat, executor, monitor, ...
    std::uint64_t stream_max_bytes = 10 << 20;  // the stream's cap when this outbox creates it (E6)
    std::size_t capacity = 65536;  // events kept while they cannot be stored; then dropped
    std::function<void(const std::string&)> log;  // warnings (no JetStream, drops)
  };
  explicit outbox(options o);
  ~outbox();
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  // The event's subject is hasys.evt.<group>.<node>. Use on the connection's executor.
  void raise(const proto::event_msg& e);
  // Starts sending through c, on c's executor; c must outlive this outbox. Call once.
  void attach(bus::connection& c);
  // Waits (at most timeout) until every event raised so far is stored; true when it is.
  boost::asio::awaitable<bool> drain(std::chrono::milliseconds timeout);

  std::size_t waiting() const noexcept;
  std::uint64_t dropped() const noexcept;
  std::uint64_t stored() const noexcept;
  bool storing() const noexcept;  // the EVENTS stream was found (or created) and is in use

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace hasys::events
