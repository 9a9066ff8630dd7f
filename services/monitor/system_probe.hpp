// What hasys-monitor reads from the machine: the process table (/proc), CPU and memory use,
// interfaces, file systems and the node's facts. Plain blocking reads: the daemon calls them on
// its worker lane, never on its I/O thread. No Asio here.
#pragma once

#include <hasys/config/node_config.hpp>
#include <hasys/proto/monitor_messages.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hasys::monitor {

// One process as the monitor matches it.
struct process_entry {
  int pid = 0;
  std::string comm;     // /proc/<pid>/comm (15 bytes at most)
  std::string cmdline;  // arguments joined by spaces; empty for kernel threads
  std::string argv0;    // file name of argv[0]
  std::string argv1;    // file name of argv[1] when it is a path (a script run by an interpreter)
};

// D4 matching: `name` — comm, argv[0]'s or a script's file name equals the pattern (comm is
// compared on its 15 bytes); `cmdline` — the command line contains the pattern.
bool matches(const config::process_monitor& m, const process_entry& e);

// The process table, read incrementally: a pid seen for the first time is read whole; pids of
// the last few seconds are read again (a fork is often followed by an exec that renames it);
// every entry is read again every `full_every`. Listing /proc is the only cost per scan for the
// rest. Zombies and kernel threads are left out.
class process_table {
 public:
  explicit process_table(std::filesystem::path proc = "/proc",
                         std::chrono::seconds young = std::chrono::seconds(5),
                         std::chrono::seconds full_every = std::chrono::seconds(60));
  void refresh(std::chrono::steady_clock::time_point now);
  // A pid known to have exited (its pidfd fired) is read again at the next refresh: left
  // unreaped, it is a zombie that the cache would otherwise still count as running.
  void forget(int pid) { known_.erase(pid); }
  // Calls f(const process_entry&) for every user process (no copy of the table).
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [pid, k] : known_)
      if (k.user) f(k.e);
  }
  std::size_t user_processes() const;
  std::size_t size() const noexcept { return known_.size(); }
  std::size_t files_read_last() const noexcept { return files_read_; }

 private:
  struct known {
    process_entry e;
    std::chrono::steady_clock::time_point first_seen;
    bool user = false;  // not a kernel thread
  };
  bool read_entry(int pid, process_entry& out);

  std::filesystem::path proc_;
  std::chrono::seconds young_, full_every_;
  std::chrono::steady_clock::time_point last_full_{};
  std::unordered_map<int, known> known_;
  std::size_t files_read_ = 0;
};

// CPU use between two calls, from /proc/stat (nullopt at the first call or when unreadable).
class cpu_meter {
 public:
  explicit cpu_meter(std::filesystem::path proc = "/proc") : proc_(std::move(proc)) {}
  std::optional<int> sample();

 private:
  std::filesystem::path proc_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> last_;  // busy, total jiffies
};

// Memory in use: (MemTotal - MemAvailable) / MemTotal, in percent.
std::optional<int> memory_percent(const std::filesystem::path& proc = "/proc");

// D8: the interface is up with carrier and, when ip is given, holds it. "" when fine, else why.
std::string check_network(const config::network_monitor& m);

// D10: every mount point of this mount namespace (/proc/self/mountinfo, octal escapes such as
// \040 undone).
std::unordered_set<std::string> mount_points(const std::filesystem::path& mountinfo =
                                                 "/proc/self/mountinfo");

// Metrics: interfaces from /sys/class/net, local file systems from /proc/self/mounts.
std::vector<proto::interface_metrics> interfaces();
std::vector<proto::filesystem_metrics> filesystems();
proto::node_facts facts();

}  // namespace hasys::monitor
