// AF_PACKET datagram sockets: bound before any frame is queued, non-blocking, close-on-exec.
#include "packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

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

int shared_send_socket(boost::system::error_code& ec) {
  // One per network namespace the calling thread is in (a socket belongs to the namespace it was
  // made in; the tests move between namespaces, a daemon never does).
  struct stat ns {};
  if (::stat("/proc/thread-self/ns/net", &ns) != 0) {
    ec = last_errno();
    return -1;
  }
  static std::mutex m;
  static std::map<ino_t, unique_fd> by_namespace;
  std::lock_guard lock(m);
  auto& fd = by_namespace[ns.st_ino];
  if (!fd) {
    fd = unique_fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) ec = last_errno();  // tried again at the next send (e.g. CAP_NET_RAW granted later)
  }
  return fd.get();
}

void close_in_background(unique_fd fd) {
  if (!fd) return;
  // One closer thread for the process, started at the first close: it sleeps in close() through
  // the grace period. Started from a real-time thread of a process that set SCHED_RESET_ON_FORK,
  // it runs at normal priority.
  struct closer {
    std::mutex m;
    std::condition_variable cv;
    std::deque<unique_fd> queue;
    closer() {
      std::thread([this] {
        for (;;) {
          std::unique_lock lock(m);
          cv.wait(lock, [this] { return !queue.empty(); });
          auto next = std::move(queue.front());
          queue.pop_front();
          lock.unlock();
          next.reset();
        }
      }).detach();
    }
  };
  static closer* c = new closer;  // never destroyed: its thread outlives static destruction
  {
    std::lock_guard lock(c->m);
    c->queue.push_back(std::move(fd));
  }
  c->cv.notify_one();
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
