// The monitor's verdict for one group: step(params, state, input, now) -> (state, actions).
// No I/O, no clock: hasys-monitor scans /proc, watches pids, samples CPU/memory and interfaces,
// feeds what it saw here, and carries out the actions (ask the executor to restart a process,
// publish the verdict, raise events). Issue 9, SPEC D4-D9 and F7/F11.
#pragma once

#include <hasys/cluster/types.hpp>
#include <hasys/health/drbd_status.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hasys::health {

using cluster::duration;
using cluster::severity;
using cluster::time_point;

enum class policy : std::uint8_t { all, one };  // D7

// D4 (single) / D5 (multi) with D6 recovery, as the machine needs to know them.
struct process_rule {
  std::string name;
  std::string what;  // how it is matched, for texts: `cmdline "namesvc.py"`
  bool multi = false;
  int min = 1;  // multi: healthy while min <= count <= max; single: at least one
  int max = 1;
  bool managed = false;
  bool only_when_active = true;  // expected only while this node is Active (the flow starts it)
  bool recovery = false;
  duration start_time = std::chrono::seconds(60);
  int retries = 3;
  bool reboot_after_failover = false;  // D13
};

enum class load_kind : std::uint8_t { cpu, memory };
std::string_view to_string(load_kind k) noexcept;

struct load_rule {  // D9
  load_kind kind = load_kind::cpu;
  int limit_percent = 90;
  int repeat = 3;
  duration start_delay = std::chrono::seconds(60);
  bool managed = false;
};

struct network_rule {  // D8
  std::string name;
  std::string what;  // `eth0 with 198.51.100.11`
  bool managed = false;
};

// D10: a shared-disk mount point of the flow, expected mounted only while this node is Active.
struct disk_rule {
  std::string name;
  std::string mount_point;
  bool managed = false;  // its disappearing fails the group over (any one: the seed's rule)
};

// D11: a DRBD resource of the flow; watched, never a reason to fail over (its peer's copy may be
// the stale one), but said in events, findings and the readiness check.
struct drbd_rule {
  std::string name;      // the flow node
  std::string resource;  // the DRBD resource
  // Auto-reconnect of a StandAlone resource (DSYNC_RECONNECT_RCNT, DSYNC_RECONNECT_WTIME): the
  // first at once, then every interval, at most `reconnects` times per outage; 0: never.
  int reconnects = 6;
  duration reconnect_interval = std::chrono::seconds(30);
};

struct params {
  std::string node;  // this server's name, for event texts
  std::vector<drbd_rule> drbd;
  std::vector<process_rule> processes;
  std::vector<load_rule> loads;
  std::vector<network_rule> networks;
  std::vector<disk_rule> disks;
  policy process_policy = policy::one;
  policy network_policy = policy::one;
};

// ---- state ----

enum class process_phase : std::uint8_t {
  unseen,      // no scan yet
  idle,        // not expected on this node now (only_when_active, and not Active)
  starting,    // just became expected: given start_time to appear before it is judged
  up,          // the count is within its bounds
  recovering,  // down, a restart is asked for or awaited (D6)
  down,        // declared down: no recovery, or recovery exhausted
};
std::string_view to_string(process_phase p) noexcept;

struct process_view {
  process_phase phase = process_phase::unseen;
  std::vector<int> pids;   // the matches as last known (scan, less the exits seen since)
  int attempt = 0;         // recovery attempts made in this outage
  time_point deadline{};   // starting / recovering: when the process must have appeared
  bool start_out = false;  // a restart was asked for and its answer has not come
  std::string last_start;  // what the latest restart said ("exit 1: ..." or "ran")
  // After a start command ran: look again soon, then less often (25 ms, 50, 100...), rather than
  // wait a period for the process it started to be seen.
  time_point rescan_at{};
  duration rescan_step{};
  time_point down_since{};   // first seen out of bounds in this outage
  bool warned_many = false;  // single: "several processes match" was said for this set
  bool operator==(const process_view&) const = default;
};

struct load_view {
  std::optional<int> last_percent;
  int over = 0;         // samples at or over the limit in a row (after the start delay)
  bool failed = false;  // over for `repeat` samples; back to false at the first sample under
  bool operator==(const load_view&) const = default;
};

struct drbd_view {
  std::optional<bool> ok;  // connected and up to date; unknown until first read
  std::string summary;
  int reconnects = 0;           // asked in this outage
  time_point next_reconnect{};  // when the next may be asked
  bool reconnect_out = false;   // asked, not answered
  bool gave_up = false;         // reconnects exhausted (said once)
  bool operator==(const drbd_view&) const = default;
};

struct network_view {
  std::optional<bool> up;  // unknown until first looked at
  std::string detail;      // why it is down
  bool operator==(const network_view&) const = default;
};

struct disk_view {
  std::optional<bool> mounted;  // unknown until the mount table was first read
  bool down = false;            // expected (Active) and not mounted
  bool operator==(const disk_view&) const = default;
};

// One failing monitor in the verdict, with its evidence (issue 9: "every failover says why").
struct finding {
  std::string monitor;   // "process web", "cpu", "memory", "network svc", "disk data"
  bool managed = false;  // counts toward the verdict
  std::string evidence;  // "0 running (min 1); restart failed 3 times: exit 1: disk full"
  bool operator==(const finding&) const = default;
};

struct verdict {
  bool healthy = true;
  // How bad: managed monitors failing (a smaller number is a better node to keep the service,
  // F11). 0 when healthy.
  int failing_managed = 0;
  std::string reason;                  // one line, for events: the findings that decided, joined
  bool reboot_after_failover = false;  // D13: a deciding failure asks for a reboot after failover
  std::vector<finding> findings;       // every failing monitor, managed or not
  bool operator==(const verdict&) const = default;
};

struct state {
  time_point started{};
  bool active = false;  // this node holds the group's Active role (from the heartbeat's status)
  bool role_known = false;
  std::vector<process_view> processes;
  std::vector<load_view> loads;
  std::vector<network_view> networks;
  std::vector<drbd_view> drbd;
  std::vector<disk_view> disks;
  // Exits seen (pid, when) that a scan begun before them must not undo; pruned by later scans.
  std::vector<std::pair<int, time_point>> exits;
  verdict reported;        // the verdict last published
  bool published = false;  // one has been published since the start
  bool operator==(const state&) const = default;
};

// ---- inputs ----
// A full scan of /proc: the pids matching each process rule, in params order. `taken_at`: when
// the scan began. A scan runs on a worker while pid exits arrive; a pid whose exit was seen after
// the scan began is stale in it and is not counted again. Not set: taken just now.
struct scanned {
  std::vector<std::vector<int>> pids;
  time_point taken_at{};
};
// A watched pid exited (pidfd readable): seen at once, not at the next scan.
struct exited {
  int pid = 0;
};
// One sample of the machine's load, in percent (absent: could not be read).
struct load_sampled {
  std::optional<int> cpu_percent;
  std::optional<int> memory_percent;
};
// An interface monitor looked (D8), in params order.
struct network_seen {
  std::size_t index = 0;
  bool up = false;
  std::string detail;  // why down: "eth0 has no carrier", "198.51.100.11 is not on eth0"
};
// `drbdadm status <resource>` was read (D11), in params order: the resource, or why not.
struct drbd_seen {
  std::size_t index = 0;
  std::optional<drbd_resource_status> status;
  std::string error;
};
// The executor ran `drbdadm connect` for drbd rule `index` (attempt counts from 1).
struct drbd_reconnect_done {
  std::size_t index = 0;
  int attempt = 0;
  bool ok = false;
  std::string detail;
};
// The mount table was read (D10): whether each disk rule's mount point is mounted, in params
// order. Read at once when it changes (the kernel wakes a poll on /proc/self/mountinfo).
struct mounts_seen {
  std::vector<bool> mounted;
};
// The heartbeat says this node's role for the group (Active with its flow up, or not).
struct role_seen {
  bool active = false;
};
// The executor ran a restart (D6) for process rule `index`, attempt `attempt`.
struct restart_done {
  std::size_t index = 0;
  int attempt = 0;
  bool ok = false;     // the start command exited 0
  std::string detail;  // "exit 1: disk full", "timed out after 10 s", "no executor"
};
struct tick {};
using input = std::variant<scanned, exited, load_sampled, network_seen, role_seen, restart_done,
                           drbd_seen, drbd_reconnect_done, mounts_seen, tick>;

// ---- actions ----
struct raise_event {
  severity level = severity::information;
  std::string code;
  std::string text;
};
// Ask the executor to run process rule `index`'s start command (attempt counts from 1).
struct restart_process {
  std::size_t index = 0;
  int attempt = 1;
};
// Look at /proc again now (a restart just ran: do not wait for the period).
struct scan_now {};
// Ask the executor to run `drbdadm connect` for drbd rule `index` (D11 auto-reconnect).
struct reconnect_drbd {
  std::size_t index = 0;
  int attempt = 1;
};
// The verdict changed (or is the first): publish it.
struct publish {
  verdict v;
};
using action = std::variant<raise_event, restart_process, scan_now, publish, reconnect_drbd>;

struct transition {
  state next;
  std::vector<action> actions;
};

state initial_state(const params& p, time_point now);
transition step(const params& p, const state& s, const input& in, time_point now);
// The next moment a tick is needed (a start time or recovery deadline), or time_point::max().
time_point next_deadline(const params& p, const state& s);
// The verdict of a state (what `publish` carries).
verdict judge(const params& p, const state& s);

}  // namespace hasys::health
