// Non-blocking TCP probes: connect, read the name line, close with RST (no TIME_WAIT pile-up).
#include "tcp_prober.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace hasys::labprobe {

tcp_prober::tcp_prober(sockaddr_in target, std::chrono::milliseconds timeout,
                       std::size_t max_in_flight)
    : target_(target), timeout_(timeout), max_in_flight_(max_in_flight) {
  in_flight_.reserve(max_in_flight);
}

void tcp_prober::start(std::chrono::steady_clock::time_point now) {
  if (in_flight_.size() >= max_in_flight_) {
    ++counters_.skipped;
    return;
  }
  ++counters_.attempts;
  unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    ++counters_.errors;
    return;
  }
  const linger reset{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  const int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&target_), sizeof target_);
  if (rc != 0 && errno != EINPROGRESS) {
    ++(errno == ECONNREFUSED ? counters_.refused : counters_.errors);
    return;
  }
  in_flight_.push_back(attempt{std::move(fd), now + timeout_, rc == 0, {}});
}

void tcp_prober::fill(std::vector<pollfd>& fds) const {
  for (const auto& a : in_flight_)
    fds.push_back(pollfd{a.fd.get(), static_cast<short>(a.connected ? POLLIN : POLLOUT), 0});
}

tcp_prober::outcome tcp_prober::step(attempt& a, short revents, success_log& log) {
  if (!a.connected) {
    int error = 0;
    socklen_t size = sizeof error;
    ::getsockopt(a.fd.get(), SOL_SOCKET, SO_ERROR, &error, &size);
    if (error == ECONNREFUSED) return outcome::refused;
    if (error != 0) return outcome::error;
    if (!(revents & POLLOUT)) return outcome::pending;
    a.connected = true;
    return outcome::pending;  // the name comes with the next POLLIN
  }
  std::array<char, 256> buffer{};
  for (;;) {
    const auto n = ::read(a.fd.get(), buffer.data(), buffer.size());
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? outcome::pending : outcome::error;
    if (n > 0) a.text.append(buffer.data(), static_cast<std::size_t>(n));
    const auto newline = a.text.find('\n');
    if (newline != std::string::npos || (n == 0 && !a.text.empty())) {
      const auto name = a.text.substr(0, newline);
      if (name.empty()) return outcome::error;
      log.record(stamp::now(), name);
      return outcome::success;
    }
    if (n == 0) return outcome::error;  // closed without a name
    if (a.text.size() > 1024) return outcome::error;
  }
}

void tcp_prober::handle(const pollfd* fds, std::size_t count, success_log& log) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < in_flight_.size(); ++i) {
    auto result = outcome::pending;
    if (i < count && fds[i].revents != 0) result = step(in_flight_[i], fds[i].revents, log);
    switch (result) {
      case outcome::pending:
        if (kept != i) in_flight_[kept] = std::move(in_flight_[i]);
        ++kept;
        continue;
      case outcome::success:
        ++counters_.successes;
        break;
      case outcome::refused:
        ++counters_.refused;
        break;
      case outcome::error:
        ++counters_.errors;
        break;
    }
  }
  in_flight_.resize(kept);
}

std::optional<std::chrono::steady_clock::time_point> tcp_prober::expire(
    std::chrono::steady_clock::time_point now) {
  const auto before = in_flight_.size();
  std::erase_if(in_flight_, [&](const attempt& a) { return a.deadline <= now; });
  counters_.timeouts += before - in_flight_.size();
  std::optional<std::chrono::steady_clock::time_point> next;
  for (const auto& a : in_flight_)
    if (!next || a.deadline < *next) next = a.deadline;
  return next;
}

}  // namespace hasys::labprobe
