// The executor's flow machine for one group: step(params, state, input, now) -> (state, actions).
// No I/O, no clock: the executor daemon is the shell that runs its actions and feeds back results.
#pragma once

#include <hasys/flow/types.hpp>

namespace hasys::flow {

// What the executor knows about one resource of the flow.
struct resource_view {
  presence seen = presence::unknown;
  time_point seen_at{};        // when `seen` was last established (present or absent)
  time_point checked_at{};     // when the latest verification finished, whatever its outcome
  std::string error;           // why the latest verification or change failed; empty: it went fine
  bool io_pending = false;     // a check, refresh or release is out
  time_point requested_at{};   // when it was asked for: a result that waited out a stall is older
                               // than the moment it is read
  std::optional<time_point> refreshed_at;   // the lease was last extended (leased resources)
  std::optional<time_point> missing_since;  // first found absent while the flow wants it
  bool remove_failed = false;  // a removal failed: it may still be here until verified absent
  time_point announced_at{};   // the latest announce (VIP)
  bool owned = false;          // this process brought it up or took it over for the acting epoch
  std::uint64_t errors = 0;    // failed verifications and changes, counted
  bool operator==(const resource_view&) const = default;
};

enum class stage : std::uint8_t {
  settling,  // started: first look at every observable resource before deciding anything
  running,
  stopping,  // SIGTERM: finish what runs, start nothing new
  stopped,   // exit_ready was emitted
};

struct state {
  stage at = stage::settling;
  journal j;
  std::vector<resource_view> res;
  std::optional<desired> want;     // the heartbeat's latest desired state
  time_point want_at{};            // when it came (or when the executor started)
  // The watchdog expired while this process was late to look (not scheduled: a stall of the
  // machine stops the heartbeat too, whose word then comes just after): it looks once more then.
  std::optional<time_point> watchdog_relook;
  bool announce_known = false;     // want->announce has been seen once (changes count after)
  std::optional<run_step> step;    // a node's up or down run is out
  time_point step_started{};       // ... since
  std::optional<program> running_program;
  std::optional<std::string> fence;  // releasing on our own, with the reason
  bool common_started = true;      // W8 finished (or none) in this machine boot
  bool adopted = false;            // the acting epoch's resources were taken over and announced
  // The run in progress (for its event): when it started; and whether the orderly deactivation's
  // failover condition (D12) ran for acting_epoch.
  time_point run_started{};
  bool run_counted = false;        // a node ran in this run (so the run ends with an event)
  bool condition_done = false;
  // What was reported last.
  phase reported = phase::idle;
  std::uint64_t reported_epoch = 0;
  bool reported_up = false;
  bool reported_holding = false;
  std::string detail;
  bool stopping() const noexcept { return at == stage::stopping || at == stage::stopped; }
  bool operator==(const state&) const = default;
};

struct transition {
  state next;
  std::vector<action> actions;
};

// The state after a start: the journal read from disk (a reboot of the machine resets it),
// repaired for a node a restart cut short, and the first look at every observable resource.
transition initial_state(const params& p, journal read, std::string_view machine_boot, time_point now);
// Whether the journal read at a start says resources of its flow may be held now, by the rule
// initial_state applies: a reboot of the machine resets it; a node a restart cut short counts.
bool journal_may_hold(const journal& j, std::string_view machine_boot);
transition step(const params& p, const state& s, const input& in, time_point now);

// The next moment the machine wants a tick (a refresh, a check, the watchdog), or max().
time_point next_deadline(const params& p, const state& s);

// Whether a resource of the flow may be on this node: present, or not verified absent where the
// flow has held it or a removal failed. The heartbeat keeps the peer off while this is true.
bool holding(const params& p, const state& s);

// The answer the heartbeat daemon gets (observed_state), without the per-resource detail.
struct observed {
  std::uint64_t epoch = 0;
  bool up = false;
  phase ph = phase::idle;
  bool holding = false;
  std::string detail;
};
observed observe(const state& s);

}  // namespace hasys::flow
