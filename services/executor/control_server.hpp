// The executor's side of the control connection (ADR 0002): listens on
// control_socket_dir/executor.sock, takes one heartbeat daemon at a time, reads desired_state,
// writes observed_state, and says at once when the heartbeat daemon is gone.
#pragma once

#include <hasys/proto/messages.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <memory>

namespace hasys::executor {

class control_server {
 public:
  struct handlers {
    std::function<bool(const proto::desired_state&)> desired;  // false: not a group of ours
    std::function<void()> connected;
    std::function<void(const std::string& why)> lost;  // EOF or error on the heartbeat's connection
  };
  // Binds the socket (replacing a stale file), mode 0600; throws std::runtime_error naming it.
  control_server(boost::asio::any_io_executor ex, std::filesystem::path path, handlers h);
  ~control_server();
  boost::asio::awaitable<void> run();
  // To the connected heartbeat daemon, if any; never blocks (a full socket is counted).
  void send(const proto::observed_state& o);
  bool connected() const noexcept;
  // Reads every message already waiting on the connection, now, without blocking: before the
  // executor judges the heartbeat silent, what it sent must have been read (issue 8).
  void drain();
  std::uint64_t bad_messages() const noexcept;  // unparsable or unknown desired states, dropped
  std::uint64_t send_failures() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace hasys::executor
