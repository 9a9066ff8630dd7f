// One group's resource flow on this node: reconciles the resources toward the desired state the
// heartbeat daemon sends (level-triggered), top-down on activation and bottom-up on
// deactivation with stop on error (W1), persists its progress so a restart converges, and
// fences itself (releases everything) when the heartbeat daemon is lost.
#pragma once

#include "flow_driver.hpp"

#include <hasys/proto/messages.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace hasys::executor {

// What the flow has done, persisted after every node (state_dir/executor/<group>.json).
struct flow_journal {
  std::size_t up_count = 0;          // nodes [0, up_count) may hold resources
  std::uint64_t acting_epoch = 0;    // the epoch the last run was for
  std::uint64_t fenced_epoch = 0;    // released on our own: never brought up again
  std::uint64_t failed_up_epoch = 0;    // bringing it up failed: not retried by itself
  std::uint64_t failed_down_epoch = 0;  // taking it down failed: not retried by itself
  // The node being run when the journal was written (a restart finds it here): -1 none.
  int in_progress = -1;
  bool in_progress_up = false;
  std::int64_t watchdog_ms = 0;      // the last watchdog the heartbeat asked for
  std::string machine_boot;          // the kernel's boot id when written: a reboot resets all
  bool operator==(const flow_journal&) const = default;
};
flow_journal read_journal(const std::filesystem::path& file);
void write_journal(const std::filesystem::path& file, const flow_journal& j);

class group_flow {
 public:
  using reporter = std::function<void(const proto::observed_state&)>;
  group_flow(boost::asio::any_io_executor ex, const config::node_config& node,
             const config::group_config& group, event_sink& events, bool simulate, reporter report);
  ~group_flow();

  void start();
  const std::string& name() const noexcept { return context_.group; }
  // From the heartbeat daemon, every period and on change.
  void desired(const proto::desired_state& d);
  // The heartbeat daemon's connection closed: release everything now (F9).
  void heartbeat_lost(const std::string& why);
  proto::observed_state observed() const { return observed_; }
  // W8 common start/stop on request (menu items 6 and 7).
  boost::asio::awaitable<step_result> common_program(bool start);

 private:
  enum class target { hold, up, down };
  target wanted() const;
  boost::asio::awaitable<void> reconcile_loop();
  boost::asio::awaitable<void> watchdog_loop();
  boost::asio::awaitable<void> run_up(std::uint64_t epoch);
  boost::asio::awaitable<void> run_down(std::uint64_t epoch, bool handover);
  boost::asio::awaitable<void> fence();
  boost::asio::awaitable<step_result> run_node(std::size_t i, bool up, std::uint64_t epoch);
  boost::asio::awaitable<void> common_start_at_boot();
  void fence_now(const std::string& why);
  void report(proto::flow_phase phase, std::uint64_t epoch, bool up, std::string detail = {});
  void save();
  void wake();

  const config::group_config group_;
  flow_context context_;
  std::vector<std::unique_ptr<flow_driver>> drivers_;
  std::filesystem::path journal_file_, common_marker_;
  flow_journal journal_;
  std::optional<proto::desired_state> desired_;
  std::chrono::steady_clock::time_point desired_at_{};
  std::optional<std::string> fence_reason_;  // a fence is pending
  bool common_started_ = true;               // the W8 common start has finished (or none)
  proto::observed_state observed_;
  reporter report_;
  struct timers;
  std::unique_ptr<timers> timers_;
};

}  // namespace hasys::executor
