// The executor simulation's world, shared by its parts: clock and event queue, the kernel's VIP,
// the executor process around the flow machine, the heartbeat driver, faults and invariants.
#pragma once

#include "executor_sim.hpp"

#include <hasys/flow/flow_machine.hpp>

#include <deque>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace hasys::sim::exec_world {

using flow::duration;
using flow::time_point;
using namespace std::chrono_literals;

// ---- the world's constants ----
inline constexpr time_point start_at = time_point{} + 1000s;  // not 0: "never" must not look recent
inline constexpr duration hb_period = 100ms;                  // a desired state every period
inline constexpr duration hb_watchdog = 250ms;  // what the heartbeat asks the executor to keep
inline constexpr duration lease = 1s;           // the VIP's kernel lease
inline constexpr duration io_min = 100us;       // a netlink reply, normally
inline constexpr duration io_max = 5ms;
inline constexpr duration io_slow_max = 2s;      // under the "slow replies" fault
inline constexpr duration kernel_grain = 300ms;  // the kernel deletes an expired address this late
inline constexpr duration step_min = 1ms;        // a flow node's up or down run
inline constexpr duration step_max = 200ms;
// Invariant 1: how long the VIP may be gone (counted time) while the executor says done-up:
// one refresh period plus the slowest verification allowed plus one tick of rounding.
inline constexpr duration inv1_slack = 1ms;
// Invariant 2: an adopted address is announced within one period (+ this) of the first desired
// "up" that reaches the new incarnation: the first look (<= io_max) and the step are instant.
inline constexpr duration announce_slack = 20ms;

enum class ev : std::uint8_t {
  tick,
  step_end,
  io_end,
  desired,
  hb_period,
  fault,
  fault_end,
  exec_start,
  thaw,
  expire,
  hb_restart,
  remove_vip,
  second_signal
};

// Faults that last a while; each start takes a token so only its own end turns it off.
enum class lasting : std::uint8_t { lost, late, netlink, slow, removal_fails, count };

struct event {
  time_point at{};
  std::uint64_t order = 0;
  ev what = ev::tick;
  std::uint64_t gen = 0;  // the executor incarnation (or kernel generation) it belongs to
  std::uint64_t id = 0;   // op id, tick token, fault token
  flow::desired d{};
  bool operator>(const event& o) const { return at != o.at ? at > o.at : order > o.order; }
};

// A run or a kernel request the executor has out.
struct op_out {
  bool is_step = false;
  bool cancelled = false;  // cancel_step: comes back at once with ok = false
  flow::run_step step{};
  flow::io_request io{};
};

struct kernel_vip {
  bool present = false;
  time_point expiry{};     // nominal: last add or refresh + lease
  time_point expire_at{};  // when the kernel really deletes it (expiry + its granularity)
  std::uint64_t gen = 0;   // bumps on every change: stale expiries are dropped
};

struct executor_proc {
  bool running = false;
  bool stalled = false;
  bool restart_pending = false;
  std::uint64_t inc = 0;  // incarnation: results and desired states for an older one are dropped
  flow::state s;
  std::map<std::uint64_t, op_out> out;
  std::optional<std::uint64_t> step_id;
  std::vector<flow::input> backlog;  // what arrived during a stall, in order
  std::uint64_t tick_token = 0;
  time_point tick_at = time_point::max();
  time_point desired_last{};  // the control socket keeps order: no desired state overtakes
  std::uint64_t stall_token = 0;
  time_point same_tick_at{};
  std::uint64_t same_ticks = 0;
};

// A small driver of the role: what desired state the heartbeat sends.
struct heartbeat_drv {
  bool alive = true;
  time_point frozen_until{};
  std::uint64_t epoch = 1;
  bool up = true;
  std::uint64_t announce = 0;
  std::optional<flow::observed> seen;  // the executor's latest answer it read
};

// Invariant 2, armed by one restart.
struct adoption_watch {
  std::uint64_t inc = 0;
  std::uint64_t epoch = 0;
  std::optional<time_point> first_up;  // the first desired "up" for epoch reached the incarnation
  bool announced = false;
};

class world {
 public:
  explicit world(const exec_sim_options& o);
  exec_sim_report run();

 private:
  // plumbing and the processes (executor_sim.cpp)
  void schedule(time_point at, ev what, std::uint64_t gen = 0, std::uint64_t id = 0,
                flow::desired d = {});
  duration uniform(duration lo, duration hi);
  bool chance(double p);
  int pick(int n);
  void trace(const std::string& line);
  std::string stamp(time_point t) const;
  void handle(const event& e);
  void kernel_extend();
  void kernel_add(const std::string& who);
  bool kernel_refresh();
  void kernel_remove(const std::string& who);
  void kernel_gone(const std::string& why);
  void exec_start();
  void exec_end(const std::string& why);
  void lose_ops_out();
  void deliver(flow::input in);
  void feed(const flow::input& in);
  void act(const flow::action& a);
  void arm_tick();
  void on_tick(const event& e);
  void on_step_end(const event& e);
  void on_io_end(const event& e);
  void on_thaw(const event& e);
  void report(bool level);
  void hb_period_event();
  void hb_set(bool up, std::uint64_t epoch, const std::string& why);
  void send_desired();
  // faults (executor_sim_faults.cpp)
  void inject_fault();
  void start_lasting(lasting k, duration lo, duration hi);
  void on_fault_end(const event& e);
  bool on(lasting k) const { return lasting_[static_cast<std::size_t>(k)]; }
  // invariants (executor_sim_checks.cpp)
  void account();
  void check_invariants();
  void check_report(const flow::observed& o);
  void arm_watch();
  void abandon_watch(const std::string& why);
  void announced();
  duration inv1_bound() const;
  void violate(const std::string& what);

  exec_sim_options o_;
  std::mt19937_64 rng_;
  flow::params p_;
  time_point now_ = start_at;
  std::uint64_t order_ = 0;
  std::uint64_t op_ids_ = 0;
  std::priority_queue<event, std::vector<event>, std::greater<>> queue_;
  std::deque<std::string> trace_;
  std::string trace_last_;  // the latest line, unstamped: repeats are folded into one
  std::uint64_t trace_repeats_ = 0;
  exec_sim_report report_;

  kernel_vip k_;
  executor_proc ex_;
  flow::journal disk_;  // what the executor's last save_journal put on disk
  heartbeat_drv hb_;
  std::string traced_report_;  // the latest report traced (phase, epoch, holding)

  bool lasting_[static_cast<std::size_t>(lasting::count)] = {};
  std::uint64_t lasting_token_[static_cast<std::size_t>(lasting::count)] = {};
  double loss_ = 0;  // per desired state, while "lost" is on

  // invariant 1: the VIP's absence from the kernel, counted only while the executor could see it
  time_point accounted_at_ = start_at;
  duration absent_counted_{};
  bool absence_slow_ = false;    // a slow reply was out during this absence
  time_point slow_out_until_{};  // the latest completion of a slow reply scheduled
  std::optional<adoption_watch> watch_;
  // diagnostics: the lease ran out under this incarnation for this epoch (cleared by a fence)
  std::optional<std::pair<std::uint64_t, std::uint64_t>> lapsed_;
};

}  // namespace hasys::sim::exec_world
