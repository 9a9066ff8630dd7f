// The gateway check (D2): ICMP echo to the gateway every polling period; unreachable after
// `count` unanswered probes, reachable again at the first answer.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace hasys::heartbeat {

// Builds an ICMP (v4) or ICMPv6 echo request; the v4 checksum is filled in (the kernel does v6).
std::vector<std::uint8_t> make_echo_request(bool v6, std::uint16_t ident, std::uint16_t seq);
// Parses a datagram read from a raw ICMP socket (v4: with its IP header; v6: without) and
// returns the sequence number if it is an echo reply with our identifier.
std::optional<std::uint16_t> parse_echo_reply(bool v6, std::span<const std::uint8_t> d,
                                              std::uint16_t ident);

class gateway_probe {
 public:
  // Opens a raw ICMP socket (needs CAP_NET_RAW; throws std::runtime_error saying so).
  // on_answer: every answered probe; on_change: the verdict changed.
  gateway_probe(boost::asio::any_io_executor ex, boost::asio::ip::address gateway,
                std::chrono::nanoseconds period, int count, std::uint16_t ident,
                std::function<void()> on_answer, std::function<void(bool reachable)> on_change);
  ~gateway_probe();
  boost::asio::awaitable<void> run();
  bool reachable() const noexcept;
  // A new polling period and count (a configuration change): from the next probe on.
  void retime(std::chrono::nanoseconds period, int count) noexcept;
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace hasys::heartbeat
