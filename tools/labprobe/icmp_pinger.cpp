// ICMP echo over a raw socket (CAP_NET_RAW), filtered in the kernel to echo replies.
#include "icmp_pinger.hpp"

#include <linux/icmp.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace hasys::labprobe {

namespace {

std::uint16_t checksum(const unsigned char* data, std::size_t size) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (size % 2) sum += data[size - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

icmp_pinger::icmp_pinger(in_addr target)
    : fd_(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP)),
      target_(target),
      id_(static_cast<std::uint16_t>(::getpid())) {
  if (!fd_)
    throw std::system_error(errno, std::system_category(), "raw ICMP socket (needs CAP_NET_RAW)");
  icmp_filter filter{};
  filter.data = ~(1U << ICMP_ECHOREPLY);
  if (::setsockopt(fd_.get(), SOL_RAW, ICMP_FILTER, &filter, sizeof filter) != 0)
    throw std::system_error(errno, std::system_category(), "setsockopt ICMP_FILTER");
  const int buffer = 1 << 20;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
}

void icmp_pinger::send() {
  std::array<unsigned char, 16> packet{};  // 8-byte header, 8 bytes of payload
  packet[0] = ICMP_ECHO;
  packet[4] = id_ >> 8;
  packet[5] = id_ & 0xff;
  ++sequence_;
  packet[6] = sequence_ >> 8;
  packet[7] = sequence_ & 0xff;
  const auto sum = checksum(packet.data(), packet.size());
  packet[2] = sum >> 8;
  packet[3] = sum & 0xff;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr = target_;
  const auto n = ::sendto(fd_.get(), packet.data(), packet.size(), 0,
                          reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (n == static_cast<ssize_t>(packet.size()))
    ++sent_;
  else
    ++send_errors_;
}

void icmp_pinger::receive(success_log& log) {
  std::array<unsigned char, 1500> buffer{};
  for (int round = 0; round < 4096; ++round) {
    sockaddr_in from{};
    socklen_t from_size = sizeof from;
    const auto n = ::recvfrom(fd_.get(), buffer.data(), buffer.size(), 0,
                              reinterpret_cast<sockaddr*>(&from), &from_size);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      continue;  // a pending socket error (host unreachable) is consumed by reading it
    }
    const auto at = stamp::now();
    if (n < 20) continue;
    const std::size_t header = (buffer[0] & 0x0f) * 4u;
    if (static_cast<std::size_t>(n) < header + 8) continue;
    const unsigned char* icmp = buffer.data() + header;
    const std::uint16_t id = (icmp[4] << 8) | icmp[5];
    if (icmp[0] == ICMP_ECHOREPLY && id == id_ && from.sin_addr.s_addr == target_.s_addr)
      log.record(at);
  }
}

}  // namespace hasys::labprobe
