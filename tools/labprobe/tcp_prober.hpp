// TCP connect + read of one line to address:port, a new attempt every period, several in flight.
#pragma once

#include <netinet/in.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "success_log.hpp"
#include "unique_fd.hpp"

namespace hasys::labprobe {

struct tcp_counters {
  std::uint64_t attempts = 0, successes = 0, timeouts = 0, refused = 0, errors = 0, skipped = 0;
};

class tcp_prober {
 public:
  tcp_prober(sockaddr_in target, std::chrono::milliseconds timeout, std::size_t max_in_flight);

  // Starts one attempt (counted as skipped when max_in_flight are out already).
  void start(std::chrono::steady_clock::time_point now);
  // Appends one pollfd per attempt in flight; handle() takes them back in the same order.
  void fill(std::vector<pollfd>& fds) const;
  void handle(const pollfd* fds, std::size_t count, success_log& log);
  // Abandons the attempts past their deadline; the earliest deadline left, if any.
  std::optional<std::chrono::steady_clock::time_point> expire(
      std::chrono::steady_clock::time_point now);

  const tcp_counters& counters() const { return counters_; }

 private:
  struct attempt {
    unique_fd fd;
    std::chrono::steady_clock::time_point deadline;
    bool connected = false;
    std::string text;
  };
  enum class outcome { pending, success, refused, error };
  outcome step(attempt& a, short revents, success_log& log);

  sockaddr_in target_;
  std::chrono::milliseconds timeout_;
  std::size_t max_in_flight_;
  std::vector<attempt> in_flight_;
  tcp_counters counters_;
};

}  // namespace hasys::labprobe
