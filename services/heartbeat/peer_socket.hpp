// One peer network of a group (D1): a UDP socket bound to this node's address on that network,
// sending heartbeats to the peer's address and handing every datagram it receives to its owner.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace hasys::heartbeat {

class peer_socket {
 public:
  // Binds self_address:port (IP_FREEBIND: the address may appear later); throws
  // std::runtime_error naming the address when the socket cannot be made. direct_only: the peer
  // must be on an attached network (SO_DONTROUTE) — a dedicated heartbeat network whose link is
  // down must not leak its packets out through the default route.
  peer_socket(boost::asio::any_io_executor ex, const std::string& self_address,
              const std::string& peer_address, std::uint16_t port, bool direct_only);
  ~peer_socket();
  peer_socket(const peer_socket&) = delete;
  peer_socket& operator=(const peer_socket&) = delete;

  // Non-blocking send; a failure (no route, link down) is counted, never thrown.
  void send(std::span<const std::uint8_t> datagram);
  // Reads until stop(); every datagram goes to `on_datagram`.
  boost::asio::awaitable<void> receive(std::function<void(std::span<const std::uint8_t>)> on_datagram);
  // Reads, now and without blocking, every datagram already waiting (at most `max`): after this
  // process was not scheduled for a while, what the peer sent meanwhile is read before its
  // silence is judged (issue 8). Returns how many were read.
  std::size_t drain(const std::function<void(std::span<const std::uint8_t>)>& on_datagram, std::size_t max = 256);
  void stop();

  std::uint64_t sent() const noexcept;
  std::uint64_t send_errors() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace hasys::heartbeat
