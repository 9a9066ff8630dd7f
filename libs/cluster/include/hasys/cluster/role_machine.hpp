// The role state machine of one HA group on one node: step(params, state, input, now).
#pragma once

#include <hasys/cluster/types.hpp>

namespace hasys::cluster {

struct link_status {
  bool up = false;
  time_point last_seen{};
};

struct state {
  role current = role::init;
  failover_mode mode = failover_mode::automatic;
  std::uint64_t epoch = 0;          // raised at every activation; carried in every heartbeat
  time_point since{};               // when `current` was entered
  time_point booted{};
  std::array<link_status, link_count> links{};
  std::optional<peer_report> peer;  // the latest report, from any link
  bool peer_alive = false;          // heard on at least one link within period × count
  bool gateway_ok = true;
  bool healthy = true;
  int health_failing = 0;           // the monitor's count of failing managed monitors
  std::string health_reason;        // ... and why, for events and deactivation reasons
  bool unhealthy_kept = false;      // F11 said: the service stays on this unhealthy node
  bool health_reboot = false;       // D13: the failing monitor asks for a reboot after failover
  std::optional<std::string> reboot_after;  // D13: reboot once Standby (the hand-over's reason)
  bool handover = false;            // I stepped down for the peer (advertised)
  bool handover_request = false;    // I asked the peer to step down for me (advertised)
  bool held = false;                // operator put me in Standby: not eligible for election
  bool flow_pending = false;        // a run_flow is out and its flow_finished not yet seen
  bool activation_failed = false;   // the flow failed going up: after it is down, role::failed
  bool executor_holding = false;    // the executor: a resource may still be on this node
  bool release_unverified = false;  // deactivating until the executor verifies the release (rule 13)
  bool release_failed = false;      // ... and then role::failed: the flow failed on the way down
  bool release_from_init = false;   // ... and then back to init: it was booting (boot wait, F8)
  time_point request_at{};          // when handover_request was raised (it expires)
  time_point peer_starting_since{}; // when the peer was first heard in init (this boot of it)
  // The latest activation (issue 18, a takeover's phases): when it was decided, and when the peer
  // was last heard before it (time_point{}: never heard).
  time_point decided_at{};
  time_point peer_heard_before{};
  time_point gateway_lost_at{};     // when gateway_ok last went false
  time_point gateway_heard_at{};    // the gateway's latest probe answer
  bool gateway_answered = false;    // ... and there was one since this daemon started
  time_point stalled_until{};       // the end of the latest stall of this daemon already counted
  std::optional<time_point> stall_reported_at;  // the last self_stall event (one per 10 s)
  std::uint64_t stalls = 0;         // stalls of this daemon's loop that were discounted
  duration longest_stall{};
  bool operator==(const state&) const = default;
};

struct transition {
  state next;
  std::vector<action> actions;
};

state initial_state(const params& p, time_point now);
transition step(const params& p, const state& s, const input& in, time_point now);
// What this node advertises in its heartbeats.
peer_report advertise(const params& p, const state& s);

}  // namespace hasys::cluster
