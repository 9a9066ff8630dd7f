// Publishes of a process whose bus connection is not open yet: a daemon raises events from its
// first millisecond, and its connection opens asynchronously. They wait here, in order, and go
// out when the connection is attached (nats.c itself buffers from then on, also while down).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace hasys::bus {

class connection;

// Use it on the connection's executor only. Not copyable: it may point at a connection.
class outbox {
 public:
  explicit outbox(std::size_t capacity = 4096) : capacity_(capacity) {}
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  // Publishes at once when attached; otherwise keeps the message, or drops and counts it when
  // `capacity` messages already wait (the oldest are kept: they say how things began).
  void publish(std::string subject, std::string data);
  // Sends what waits, in order, then publishes straight through `c`, which must outlive this.
  void attach(connection& c);

  std::size_t waiting() const noexcept { return waiting_.size(); }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::size_t capacity_;
  connection* connection_ = nullptr;
  std::deque<std::pair<std::string, std::string>> waiting_;
  std::uint64_t dropped_ = 0;
};

}  // namespace hasys::bus
