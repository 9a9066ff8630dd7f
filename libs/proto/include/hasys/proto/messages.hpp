// JSON messages on the bus and between the node daemons; each field name is written once, in
// messages.cpp. Every message carries "v" (schema_version); a newer major version is refused.
#pragma once

#include <hasys/cluster/types.hpp>
#include <hasys/proto/monitor_messages.hpp>

#include <boost/describe/class.hpp>

#include <array>
#include <chrono>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::proto {

inline constexpr int schema_version = 1;

enum class errc { bad_json = 1, unsupported_version, bad_field };
const boost::system::error_category& proto_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), proto_category()};
}

// The state of one peer network as this node sees it.
struct link_view {
  bool configured = false;
  bool up = false;
  std::optional<std::int64_t> last_seen_ms_ago;  // absent: never heard on this link
  std::uint64_t sent = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t received = 0;  // authenticated packets accepted on this link
  bool operator==(const link_view&) const = default;
};

// The peer as this node sees it, from its latest authenticated heartbeat.
struct peer_view {
  std::string name;
  bool alive = false;
  cluster::role role = cluster::role::init;
  cluster::failover_mode mode = cluster::failover_mode::automatic;
  std::uint64_t epoch = 0;
  std::uint64_t boot_id = 0;
  bool gateway_ok = false;
  bool healthy = false;
  int health_failing = 0;
  bool active_priority = false;
  bool held = false;
  std::int64_t clock_unix_ms = 0;  // the peer's wall clock when it sent that heartbeat
  bool operator==(const peer_view&) const = default;
};

// One resource of the flow as the executor last verified it (W2-W7; issue 7: status tells the
// truth, not only the flow's phase).
struct resource_status {
  std::string name;
  std::string kind;                   // vip, shared_disk, drbd, application, database, wait
  std::string state;                  // present, absent, unknown, unverifiable (scripts, waits)
  std::int64_t verified_ms_ago = -1;  // age of the latest verification; -1: never
  std::string error;                  // why the latest verification or change failed
  std::uint64_t errors = 0;           // failed verifications and changes, counted
  bool operator==(const resource_status&) const = default;
};
BOOST_DESCRIBE_STRUCT(resource_status, (), (name, kind, state, verified_ms_ago, error, errors))

// The resource flow: what the role machine wants and what the executor reports.
struct flow_view {
  bool pending = false;          // a run is out and not finished
  bool want_up = false;
  std::uint64_t epoch = 0;
  std::string observed;          // executor's phase: "", idle, running, done, failed, released
  std::string detail;
  bool standalone = false;       // no executor: runs are acknowledged at once (membership only)
  bool executor_connected = false;
  bool holding = false;          // the executor: a resource may still be on this node
  std::vector<resource_status> resources;
  std::map<std::string, std::uint64_t> executor_counters;  // dropped errors and bad messages
  // Standby readiness (issue 9): "" not checked, "ready", or "not ready: <the first failure>".
  std::string ready;
  std::int64_t ready_unix_ms = 0;  // when it was checked
  bool operator==(const flow_view&) const = default;
};

// A distribution of durations, BFD-style jitter figures (issue 8): counts per bucket since the
// daemon started; bucket i holds durations up to histogram_bounds_us[i], the last one the rest.
inline constexpr std::array<std::int64_t, 11> histogram_bounds_us{250,   500,   1000,   2000,   5000,  10000,
                                                                  20000, 30000, 50000, 100000, 200000};
struct duration_histogram {
  std::vector<std::uint64_t> counts;  // histogram_bounds_us.size() + 1 buckets once one is added
  std::uint64_t count = 0;
  std::int64_t max_us = 0;
  void add(std::chrono::nanoseconds d);
  // The upper bound (µs) of the bucket that holds the p-th percentile (0..100); max_us for the
  // last bucket; 0 when empty.
  std::int64_t percentile_us(double p) const noexcept;
  bool operator==(const duration_histogram&) const = default;
};
BOOST_DESCRIBE_STRUCT(duration_histogram, (), (counts, count, max_us))

// Where silences come from (issue 8): how late this daemon's own loop sent its heartbeats, the
// gaps between heartbeats received on each network, and the stalls of its own loop that were
// not counted as the peer's silence.
struct jitter_view {
  duration_histogram send_late;
  duration_histogram heartbeat_gap;
  duration_histogram public_gap;
  std::uint64_t stalls = 0;
  std::int64_t longest_stall_us = 0;
  bool operator==(const jitter_view&) const = default;
};
BOOST_DESCRIBE_STRUCT(jitter_view, (), (send_late, heartbeat_gap, public_gap, stalls, longest_stall_us))

// The monitor's verdict as the heartbeat holds it (issue 9).
struct health_view {
  bool monitor = false;                   // a verdict has come from hasys-monitor
  std::int64_t monitor_seen_ms_ago = -1;  // the latest one; -1: never
  int failing = 0;                        // managed monitors failing
  std::string reason;
  std::vector<health_finding> findings;
  std::vector<process_view_msg> processes;
  bool operator==(const health_view&) const = default;
};
BOOST_DESCRIBE_STRUCT(health_view, (), (monitor, monitor_seen_ms_ago, failing, reason, findings, processes))

// hasys.<group>.<node>.status — on change and every second.
struct status_msg {
  std::string group;
  std::string node;
  std::int64_t time_unix_ms = 0;
  std::uint64_t boot_id = 0;
  cluster::role role = cluster::role::init;
  cluster::failover_mode mode = cluster::failover_mode::automatic;
  std::uint64_t epoch = 0;
  std::int64_t role_for_ms = 0;  // time in the current role
  bool healthy = true;
  bool held = false;
  bool handover = false;
  bool handover_request = false;
  bool active_priority = false;
  std::int64_t period_ms = 0;
  int count = 0;
  bool gateway_configured = false;
  std::string gateway;
  bool gateway_ok = false;
  link_view heartbeat_link;
  link_view public_link;
  peer_view peer;
  flow_view flow;
  std::map<std::string, std::uint64_t> dropped;  // dropped datagrams by reason (B1)
  jitter_view jitter;
  health_view health;
  bool operator==(const status_msg&) const = default;
};

// hasys.<group>.<node>.metrics.heartbeat — every 10 s: the heartbeat daemon's own figures
// (issue 8): where silences come from, and what went over each network.
struct heartbeat_metrics_msg {
  std::string group;
  std::string node;
  std::int64_t time_unix_ms = 0;
  std::int64_t period_ms = 0;
  int count = 0;
  jitter_view jitter;
  link_view heartbeat_link;
  link_view public_link;
  std::map<std::string, std::uint64_t> dropped;
  bool operator==(const heartbeat_metrics_msg&) const = default;
};

// hasys.evt.<group>.<node> — one event (E1).
struct event_msg {
  std::int64_t time_unix_ms = 0;
  std::string group;
  std::string node;
  std::string source;  // the daemon: heartbeat, executor, monitor
  cluster::severity level = cluster::severity::information;
  std::string code;    // stable machine id, e.g. "peer_lost"
  std::string text;    // seed vocabulary
  std::map<std::string, std::string> details;
  bool operator==(const event_msg&) const = default;
};

// The body of a request on hasys.<group>.<node>.cmd.<verb>.
struct command_request {
  std::string origin;  // hasysctl, menu, file, manager
  std::string user;    // who asked, when known
  // The manager's id for the operator action (issue 11): the node's events that follow carry
  // it in details["action_id"], so the audit entry links to what it caused.
  std::string action_id;
  bool dry_run = false;  // preview: the role machine's answer, nothing changed
  bool operator==(const command_request&) const = default;
};

struct command_reply {
  bool accepted = false;
  std::string text;
  bool dry_run = false;    // this was a preview: nothing changed
  std::string role_after;  // a preview's role for this node once the command is taken
  bool operator==(const command_reply&) const = default;
};

// heartbeat -> executor, every period and at once on change (level-triggered): the flow this
// group should have. `handover`: a manual failover, run the failover condition script (D12)
// after the flow is down. `announce`: raised while Active each time the peer comes back or leaves
// the Active role; clients may last have heard the peer claim the addresses, so the holder
// announces them again (gratuitous ARP) when it changes.
struct desired_state {
  std::string group;
  std::uint64_t epoch = 0;
  bool up = false;
  bool handover = false;
  std::uint64_t heartbeat_boot = 0;
  std::int64_t watchdog_ms = 0;  // release the resources if no desired_state comes for this long
  std::uint64_t announce = 0;
  // When the heartbeat sent it, on CLOCK_MONOTONIC (the same clock for every process of the
  // machine): the executor judges the heartbeat's silence from this, so a message it read late
  // because it was itself not scheduled does not look like silence (issue 8). 0: unknown.
  std::int64_t sent_mono_ns = 0;
  // While up: when this epoch's activation was decided, and when the peer was last heard before
  // that (CLOCK_MONOTONIC; 0: unknown, or never heard) — the executor names a takeover's phases
  // with them (issue 18).
  std::int64_t decided_mono_ns = 0;
  std::int64_t peer_heard_mono_ns = 0;
  bool operator==(const desired_state&) const = default;
};

// executor -> heartbeat: what the flow of a group is doing for which epoch.
// releasing: the executor lets go on its own (the heartbeat was lost or silent, a lease ran out)
// and has not yet verified every resource gone; released: it has.
enum class flow_phase : std::uint8_t { idle, running, done, failed, released, releasing };
std::string_view to_string(flow_phase p) noexcept;

// `holding`: a resource of the flow may still be on this node (verified present, or not verified
// absent after it was held or its removal failed): the role machine keeps the peer off (ADR 0001
// rule 13).
struct observed_state {
  std::string group;
  std::uint64_t epoch = 0;
  bool up = false;
  flow_phase phase = flow_phase::idle;
  std::string detail;
  bool holding = false;
  std::vector<resource_status> resources;
  std::map<std::string, std::uint64_t> counters;
  std::string ready;               // Standby readiness, as in flow_view (issue 9)
  std::int64_t ready_unix_ms = 0;
  bool operator==(const observed_state&) const = default;
};

std::string to_json(const status_msg& m);
std::string to_json(const heartbeat_metrics_msg& m);
std::string to_json(const event_msg& m);
std::string to_json(const command_request& m);
std::string to_json(const command_reply& m);
std::string to_json(const desired_state& m);
std::string to_json(const observed_state& m);

// Parses one message; errors: bad_json, unsupported_version, bad_field (missing or mistyped).
template <class T>
boost::system::result<T> from_json(std::string_view text);

// Milliseconds since the Unix epoch, and its ISO 8601 UTC form with milliseconds.
std::int64_t unix_ms_now() noexcept;
std::string iso8601(std::int64_t unix_ms);

}  // namespace hasys::proto

template <>
struct boost::system::is_error_code_enum<hasys::proto::errc> : std::true_type {};
