// The successes of one probe kind: count, largest gap between consecutive ones, who answered.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hasys::labprobe {

// One instant on both clocks: gaps are measured on the monotonic one, reported on the wall one
// (CLOCK_REALTIME, comparable with the other processes' time stamps).
struct stamp {
  std::chrono::steady_clock::time_point mono;
  std::chrono::system_clock::time_point wall;
  static stamp now() {
    return {std::chrono::steady_clock::now(), std::chrono::system_clock::now()};
  }
};

struct gap {
  std::chrono::nanoseconds length{};
  stamp from;  // the last success before it
  stamp to;    // the first success after it
};

// Sans-io: fed with every success (and, for TCP, the node name that answered).
class success_log {
 public:
  void record(const stamp& at, std::string_view node = {}) {
    ++count_;
    if (last_) {
      const auto length = at.mono - last_->mono;
      if (!largest_ || length > largest_->length) largest_ = gap{length, *last_, at};
    } else {
      first_ = at;
    }
    last_ = at;
    if (node.empty()) return;
    if (first_node_.empty()) first_node_ = node;
    if (node != first_node_ && !moved_at_) moved_at_ = at;
    last_node_ = node;
  }

  std::uint64_t count() const { return count_; }
  const std::optional<gap>& largest_gap() const { return largest_; }
  const std::optional<stamp>& first() const { return first_; }
  const std::optional<stamp>& last() const { return last_; }
  // The node that answered first, the one that answered last, and the first answer of a node
  // other than the first one.
  const std::string& node_before() const { return first_node_; }
  const std::string& node_after() const { return last_node_; }
  const std::optional<stamp>& moved_at() const { return moved_at_; }

 private:
  std::uint64_t count_ = 0;
  std::optional<stamp> first_, last_;
  std::optional<gap> largest_;
  std::string first_node_, last_node_;
  std::optional<stamp> moved_at_;
};

}  // namespace hasys::labprobe
