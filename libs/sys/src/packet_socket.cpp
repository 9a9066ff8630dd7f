// AF_PACKET datagram sockets: bound before any frame is queued, non-blocking, close-on-exec.
#include "packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace hasys::sys::detail {

namespace {

boost::system::error_code last_errno() { return {errno, boost::system::system_category()}; }

sockaddr_ll link_address(int ifindex, std::uint16_t ethertype) {
  sockaddr_ll a{};
  a.sll_family = AF_PACKET;
  a.sll_protocol = htons(ethertype);
  a.sll_ifindex = ifindex;
  return a;
}

}  // namespace

unique_fd open_packet_socket(int ifindex, std::uint16_t ethertype, boost::system::error_code& ec) {
  // Protocol 0 until bound: otherwise frames of every interface would queue in between.
  unique_fd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    ec = last_errno();
    return fd;
  }
  const auto a = link_address(ifindex, ethertype);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ec = last_errno();
    fd.reset();
  }
  return fd;
}

boost::system::error_code send_frame(int fd, int ifindex, std::uint16_t ethertype,
                                     const mac_address& destination,
                                     std::span<const std::uint8_t> payload) {
  auto a = link_address(ifindex, ethertype);
  a.sll_halen = static_cast<unsigned char>(destination.size());
  std::copy(destination.begin(), destination.end(), a.sll_addr);
  for (;;) {
    const ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0,
                               reinterpret_cast<const sockaddr*>(&a), sizeof a);
    if (n >= 0) return {};
    if (errno != EINTR) return last_errno();
  }
}

std::optional<received_frame> receive_frame(int fd, boost::system::error_code& ec) {
  received_frame f;
  f.payload.resize(2048);
  sockaddr_ll from{};
  socklen_t from_size = sizeof from;
  for (;;) {
    const ssize_t n = ::recvfrom(fd, f.payload.data(), f.payload.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_size);
    if (n >= 0) {
      f.payload.resize(static_cast<std::size_t>(n));
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec = last_errno();
    return std::nullopt;
  }
  if (from.sll_halen == f.source.size())
    std::copy_n(from.sll_addr, f.source.size(), f.source.begin());
  f.outgoing = from.sll_pkttype == PACKET_OUTGOING;
  return f;
}

}  // namespace hasys::sys::detail
