// The control path to the executor (DESIGN §2.1, issue 3 "failover must not depend on the bus"):
// a local SOCK_SEQPACKET connection that carries desired_state out and observed_state back.
// When this process dies the kernel closes the connection, and the executor knows at once.
#pragma once

#include <hasys/proto/messages.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <memory>

namespace hasys::heartbeat {

class executor_link {
 public:
  executor_link(boost::asio::any_io_executor ex, std::filesystem::path socket_path,
                std::function<void(const proto::observed_state&)> on_observed,
                std::function<void()> on_connected, std::function<void()> on_lost);
  ~executor_link();
  // Sends if connected; a desired state is re-sent every period anyway (level-triggered).
  void send(const proto::desired_state& d);
  bool connected() const noexcept;
  std::uint64_t bad_messages() const noexcept;  // unparsable observed states, dropped and counted
  // Connects, reads, reconnects every `retry` while the executor is away.
  boost::asio::awaitable<void> run(std::chrono::nanoseconds retry);
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace hasys::heartbeat
