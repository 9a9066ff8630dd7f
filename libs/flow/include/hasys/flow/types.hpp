// Value types of the executor's flow machine: the flow's nodes, what the executor has verified
// about each resource, the journal it keeps on disk, and the inputs and actions of step().
#pragma once

#include <hasys/cluster/types.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hasys::flow {

using cluster::duration;
using cluster::severity;
using cluster::time_point;

// The flow node types of W2-W7.
enum class resource_kind : std::uint8_t { vip, shared_disk, drbd, application, database, wait };
std::string_view to_string(resource_kind k) noexcept;

// One node of the flow, as the machine needs to know it.
struct node_spec {
  std::string name;
  resource_kind kind = resource_kind::application;
  bool stop_on_error = true;
  // The executor can verify whether the resource is on this node (a VIP, a mount). Scripts and
  // waits cannot be verified: the journal is all there is.
  bool observable = false;
  // > 0: the resource carries a kernel lease (VIP, ADR 0003), extended every lease / 8 while held.
  duration lease{};
  // The resource is announced to the network (gratuitous ARP / unsolicited NA for a VIP).
  bool announced = false;
};

// A group's flow, fixed while the executor runs.
struct params {
  std::string group;
  std::vector<node_spec> nodes;
  duration check_every = std::chrono::seconds(1);  // verify observable resources without a lease
  duration announce_every{};                       // W2 periodic announce while held; 0: off
  duration default_watchdog = std::chrono::seconds(3);  // until the heartbeat has said one
  bool common_start = false;        // W8: run once per machine boot before any flow
  bool failover_condition = false;  // D12: run at the end of every orderly deactivation
  // How often a node refreshes a leased resource: lease / 8 (lease 1 s: every 125 ms). The kernel
  // may expire a 1 s lease 0.98 s after the last refresh (devinet.c's timer fuzz), and an executor
  // restarted by systemd 0.5 s after a kill must refresh before that: lease / 4 left it 0.23 s to
  // start, and the lab's restarts missed it about one time in twenty (bench/restart).
  duration refresh_every(const node_spec& n) const noexcept { return n.lease / 8; }
};

// What the executor last verified about a resource.
enum class presence : std::uint8_t { unknown, present, absent };
std::string_view to_string(presence p) noexcept;

// What the flow has done, kept on disk (state_dir/executor/<group>.json) so a restart converges.
struct journal {
  std::size_t up_count = 0;             // nodes [0, up_count) may hold resources
  std::uint64_t acting_epoch = 0;       // the epoch the last run was for
  std::uint64_t fenced_epoch = 0;       // released on our own: never brought up again
  std::uint64_t failed_up_epoch = 0;    // bringing it up failed: not retried by itself
  std::uint64_t failed_down_epoch = 0;  // taking it down failed: not retried by itself
  int in_progress = -1;                 // the node being run when written; -1 none
  bool in_progress_up = false;
  std::int64_t watchdog_ms = 0;         // the last watchdog the heartbeat asked for
  std::string machine_boot;             // the kernel's boot id when written: a reboot resets all
  std::string common_start_boot;        // W8 ran in this machine boot
  bool operator==(const journal&) const = default;
};

// The heartbeat daemon's desired state of the group (level-triggered, every period).
struct desired {
  std::uint64_t epoch = 0;
  bool up = false;
  bool handover = false;       // a manual failover: run the failover condition (D12)
  std::uint64_t announce = 0;  // raised when the holder should announce its addresses again
  duration watchdog{};         // release if no desired state comes for this long; 0: default
  // When the heartbeat sent it (its clock is the executor's: one machine); nullopt: unknown, the
  // moment it is read stands in. The watchdog counts the heartbeat's silence from here.
  std::optional<time_point> sent;
  bool operator==(const desired&) const = default;
};

// The executor's answer (observed_state on the control link).
enum class phase : std::uint8_t { idle, running, done, failed, releasing, released };
std::string_view to_string(phase p) noexcept;

// ---- inputs ----
struct tick {};
struct desired_received {
  desired d;
};
// The heartbeat daemon's connection closed: it stopped or was killed (F9).
struct heartbeat_lost {
  std::string why;
};
// A flow node's up or down run finished (the driver's own timeout included).
struct step_done {
  std::size_t node = 0;
  bool up = true;
  std::uint64_t epoch = 0;
  bool ok = true;
  std::string detail;
};
enum class program : std::uint8_t { common_start, failover_condition };
struct program_done {
  program which = program::common_start;
  bool ok = true;
  std::string detail;
};
// Verification and upkeep of an observable resource; every request gets exactly one result
// (the executor turns a missed deadline into presence::unknown with the reason).
enum class io_op : std::uint8_t {
  check,     // is it there? changes nothing
  refresh,   // extend the lease if it is there; never add it back
  release,   // remove it now, then verify
  announce,  // tell the network again (result: ok or error only)
};
std::string_view to_string(io_op o) noexcept;
struct io_done {
  std::size_t node = 0;
  io_op op = io_op::check;
  presence seen = presence::unknown;  // after the operation; unknown: it could not be told
  std::string error;                  // why it failed or could not tell; empty when fine
};
// SIGTERM / SIGINT: finish what is running and exit; resources that are up stay up.
struct stop_requested {
  bool now = false;  // a second signal: exit at once
};
using input = std::variant<tick, desired_received, heartbeat_lost, step_done, program_done, io_done,
                           stop_requested>;

// ---- actions ----
struct run_step {
  std::size_t node = 0;
  bool up = true;
  std::uint64_t epoch = 0;
};
struct run_program {
  program which = program::common_start;
  std::uint64_t epoch = 0;
};
struct io_request {
  std::size_t node = 0;
  io_op op = io_op::check;
  std::string reason;  // for announce: why (the event says it)
};
// Stop the up run that is out (a fence begins): its step_done comes back with ok = false.
struct cancel_step {};
// The observed state changed: send it to the heartbeat daemon now.
struct report_changed {};
// Write the journal; a run_step that follows it starts only once it is on disk.
struct save_journal {
  journal j;
};
struct raise_event {
  severity level = severity::information;
  std::string code;
  std::string text;
  std::map<std::string, std::string> details;
};
// Everything the orderly stop waited for is finished: the process may exit.
struct exit_ready {};
using action = std::variant<run_step, run_program, io_request, cancel_step, report_changed, save_journal,
                            raise_event, exit_ready>;

}  // namespace hasys::flow
