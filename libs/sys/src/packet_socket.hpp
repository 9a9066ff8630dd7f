// AF_PACKET sockets bound to one interface and one EtherType: send frames, receive payloads.
#pragma once

#include "unique_fd.hpp"

#include <hasys/sys/link.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace hasys::sys::detail {

// A non-blocking SOCK_DGRAM packet socket bound to (ifindex, ethertype): it sees only frames of
// that type on that interface, with the Ethernet header stripped (the kernel writes it on send,
// with the interface's own MAC as source).
unique_fd open_packet_socket(int ifindex, std::uint16_t ethertype, boost::system::error_code& ec);

// Closing a packet socket waits for an RCU grace period (packet_release: synchronize_net), 8-24 ms
// measured on this VM (issue 18): never on a thread with a deadline. A socket that only sends is
// one for the whole process (protocol 0, never bound: no frame queues on it); one that received is
// closed here on a thread of its own.
int shared_send_socket(boost::system::error_code& ec);
void close_in_background(unique_fd fd);

boost::system::error_code send_frame(int fd, int ifindex, std::uint16_t ethertype,
                                     const mac_address& destination,
                                     std::span<const std::uint8_t> payload);

struct received_frame {
  std::vector<std::uint8_t> payload;
  mac_address source{};
  bool outgoing = false;  // our own transmission, looped back to packet sockets
};
// One frame if there is one now; nullopt when none is waiting (or on an error, in ec).
std::optional<received_frame> receive_frame(int fd, boost::system::error_code& ec);

}  // namespace hasys::sys::detail
