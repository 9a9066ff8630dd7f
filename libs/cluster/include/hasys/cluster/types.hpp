// Value types of the role protocol: roles, modes, links, what a peer reports, inputs and actions.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hasys::cluster {

using duration = std::chrono::nanoseconds;
using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

enum class role : std::uint8_t { init = 0, standby = 1, activating = 2, active = 3, deactivating = 4, failed = 5 };
enum class failover_mode : std::uint8_t { automatic = 0, manual = 1 };
// The two peer networks of D1: the dedicated heartbeat network and the public network.
enum class peer_link : std::uint8_t { heartbeat = 0, pub = 1 };
inline constexpr std::size_t link_count = 2;
enum class severity : std::uint8_t { information = 0, warning = 1, critical = 2 };

std::string_view to_string(role r) noexcept;
std::string_view to_string(failover_mode m) noexcept;
std::string_view to_string(peer_link l) noexcept;
std::string_view to_string(severity s) noexcept;
std::optional<role> role_from_string(std::string_view s) noexcept;

// A node in one of these roles may hold the group's resources (VIP, mounts, applications).
constexpr bool holds_resources(role r) noexcept {
  return r == role::activating || r == role::active || r == role::deactivating;
}

// What a node tells its peer in every heartbeat (already authenticated by the caller).
struct peer_report {
  role current = role::init;
  failover_mode mode = failover_mode::automatic;
  std::uint64_t epoch = 0;
  std::uint64_t boot_id = 0;
  bool gateway_ok = true;
  bool healthy = true;
  std::uint8_t health_failing = 0;  // managed monitors failing (0 when healthy): fewer is better (F11)
  bool active_priority = false;
  bool handover = false;          // "I stepped down for you: take over" (R4 hand-over, D12 signal)
  bool handover_request = false;  // "please hand over to me" (manual failover asked on the Standby)
  bool held = false;              // operator forced me to Standby: do not elect me
  bool operator==(const peer_report&) const = default;
};

// Configuration of one group's machine, fixed while it runs.
struct params {
  std::string self_name;
  std::string peer_name;
  duration period = std::chrono::milliseconds(100);  // D3 polling period
  int count = 3;                                    // D3 polling count
  bool active_priority = false;                     // R3
  failover_mode initial_mode = failover_mode::automatic;
  bool gateway_configured = true;                   // D2
  std::uint64_t boot_id = 0;                        // changes at every start of the daemon
  duration flow_timeout = std::chrono::seconds(60);  // an unanswered flow run fails after this
  // While the two nodes move to a new period or count (a remote configuration change, issue 11,
  // committed on both within moments of each other): the detection time before the change. The
  // peer is then judged by the longer of the two, and the executor's watchdog by the shorter, so
  // neither node mistakes the change for a failure. Zero: no change under way.
  duration grace_timeout{};
  // Silence after which the peer is lost: period × count (the longer of old and new during a
  // change).
  duration own_timeout() const noexcept { return period * count; }
  duration peer_timeout() const noexcept { return std::max(own_timeout(), grace_timeout); }
  // How long an Active that lost its gateway, while its peer still reports one, waits before it
  // steps down: when the whole public network fails (F4) the peer's own verdict arrives within
  // about one period of ours, and then nobody moves.
  duration gateway_grace() const noexcept { return period * 2; }
  // A node takes the Active role on its own only if its gateway answered this recently: a cut
  // that silences the peer also silences the gateway, and the peer's silence may be noticed
  // before `count` probes have gone unanswered (F13).
  duration gateway_fresh() const noexcept { return period * 3 / 2; }
  // How long a booting node waits to hear its peer before deciding alone.
  duration boot_wait() const noexcept { return period * (count + 2); }
  // R3 (F8): the start window. A node without the Active priority that has not heard its peer
  // takes the role alone only after it; a node with the priority that hears its peer, or is
  // alone, waits within it for what keeps it from taking the role (its gateway's first answer),
  // while a peer without the priority that hears it starting waits for it. It must outlast a
  // network settling after its links come up (neighbour resolution, switch ports): the boot wait
  // of a few periods did not (issue 18). Zero: the boot wait alone.
  duration start_window{};
  // The longest a node waits at start: for its peer, or for its own eligibility.
  duration start_limit() const noexcept { return std::max(boot_wait(), start_window); }
  // The executor's watchdog (ADR 0005): with no desired state from this daemon for this long
  // (judged on this daemon's send clock), the executor lets go of the resources. It must have
  // let go before the peer can take over on this node's silence, which is no sooner than the
  // peer's detection time after the last heartbeat sent: the detection time less the release
  // budget — the executor's wake-up lateness and one netlink removal, 0.5 ms at p99 measured
  // here, while the peer's own add comes about 1 ms after its detection. Every millisecond of
  // budget is a millisecond less of the heartbeat's own scheduling hiccups that the watchdog
  // tolerates (this VM: up to 15 ms in 5 idle minutes): 2 ms. Never under 1.5 periods: a desired
  // state comes every period (at count 1 the detection time is one period and no watchdog fits
  // before it; the kernel lease is all).
  static constexpr duration release_budget = std::chrono::milliseconds(2);
  duration executor_watchdog() const noexcept {
    const duration t = grace_timeout > duration::zero() ? std::min(own_timeout(), grace_timeout) : own_timeout();
    return std::max(t - release_budget, period * 3 / 2);
  }
};

// ---- inputs ----
struct tick {};
struct heartbeat_received {
  peer_link via = peer_link::heartbeat;
  peer_report peer;
};
// The gateway's verdict changed (after `count` unanswered probes, or at the first answer, which
// then also counts as gateway_heard).
struct gateway_changed {
  bool reachable = true;
};
// A probe of the gateway was answered just now.
struct gateway_heard {};
// The monitor's verdict for this group on this node changed (issue 9): healthy, how many managed
// monitors fail (a smaller number is a better node to keep the service, F11), and why.
struct health_changed {
  bool healthy = true;
  int failing = 0;
  std::string reason;
  bool reboot = false;  // D13: a failing monitor asks for a reboot once the service is handed over
};
// The executor finished bringing the flow up (up=true) or down for this epoch.
struct flow_finished {
  std::uint64_t epoch = 0;
  bool up = true;
  bool ok = true;
  std::string detail;
};
// The executor let go of this epoch's resources on its own: its watchdog saw no desired state
// from this daemon in time (frozen or killed: F9), or a lease ran out; every resource it can
// verify is verified gone.
struct resources_released {
  std::uint64_t epoch = 0;
  std::string detail;
};
// The executor is letting go of this epoch's resources on its own and has not verified them gone.
struct resources_releasing {
  std::uint64_t epoch = 0;
  std::string detail;
};
// Whether the executor says a resource of the group may still be on this node (verified present,
// or not verified absent after it was held or its removal failed). Level-triggered: fed on change.
struct resources_held {
  bool holding = false;
};
// This daemon's own loop was not scheduled from `from` to `to` (its timer fired that late): the
// peer's heartbeats of that time may wait unread in the sockets, and its silence over that time
// was not observed, so it is not counted (issue 8, the self-stall guard).
struct stalled {
  time_point from{};
  time_point to{};
};
enum class command_kind : std::uint8_t {
  set_mode_auto,
  set_mode_manual,
  manual_failover,    // R4: orderly swap of roles, from either node
  partition_active,   // R5: force this node Active (both hold the same role)
  partition_standby,  // R5: force this node Standby
  forced_active,      // R6: make this node Active without checking conditions (peer down)
  forced_standby,     // R6: make this node Standby without checking conditions
  stop_maintenance,   // seed menu 5: leave MANUAL maintenance, back to AUTO
};
std::string_view to_string(command_kind k) noexcept;
std::optional<command_kind> command_from_string(std::string_view s) noexcept;
struct operator_command {
  command_kind kind = command_kind::manual_failover;
};
using input = std::variant<tick, heartbeat_received, gateway_changed, gateway_heard, health_changed,
                           flow_finished, resources_released, resources_releasing, resources_held,
                           stalled, operator_command>;

// ---- actions ----
struct raise_event {
  severity level = severity::information;
  std::string code;  // stable machine id, e.g. "peer_lost"
  std::string text;  // seed vocabulary, e.g. "Subnode is not responding [node-b]"
};
// Desired state of the resources: the executor brings the flow up (top-down) or down (bottom-up)
// and answers with flow_finished for the same epoch.
struct run_flow {
  bool up = true;
  std::uint64_t epoch = 0;
};
struct command_reply {
  bool accepted = false;
  std::string text;
};
// This node is Active and clients may last have heard the peer claim the addresses (a partition
// healed, or two Actives met and the peer yielded): announce them again (gratuitous ARP).
struct announce_addresses {
  std::string reason;
};
// D13: this node handed the service over because of a monitor that asks for it: reboot the server.
struct reboot_node {
  std::string reason;
};
using action = std::variant<raise_event, run_flow, command_reply, announce_addresses, reboot_node>;

}  // namespace hasys::cluster
