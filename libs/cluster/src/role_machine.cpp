// The role protocol (DESIGN §4, SPEC R1–R8): a pure step function over value types.
#include <hasys/cluster/role_machine.hpp>

#include <algorithm>
#include <tuple>

namespace hasys::cluster {

namespace {

// One step in progress: the state being built and the actions it emits.
struct stepper {
  const params& p;
  state s;
  time_point now;
  std::vector<action> actions;

  void emit(severity level, std::string code, std::string text) {
    actions.push_back(raise_event{level, std::move(code), std::move(text)});
  }
  void reply(bool accepted, std::string text) {
    actions.push_back(command_reply{accepted, std::move(text)});
  }
  std::string peer_tag() const { return " [" + p.peer_name + "]"; }
  std::string self_tag() const { return " [" + p.self_name + "]"; }

  void enter(role r) {
    s.current = r;
    s.since = now;
  }

  bool gateway_usable() const { return !p.gateway_configured || s.gateway_ok; }
  // Reachable now, by a probe answered within gateway_fresh(), not merely not yet declared down.
  bool gateway_confirmed() const {
    return !p.gateway_configured ||
           (s.gateway_ok && s.gateway_answered && now - s.gateway_heard_at <= p.gateway_fresh());
  }

  // Can this node take the Active role on its own at all? Health is not part of it: a node whose
  // application failed still takes the service when the peer is gone or worse off (F11: the
  // service is not abandoned); health decides between two candidates (wins_election).
  bool self_eligible() const { return gateway_confirmed() && !s.held && s.current != role::failed; }
  static bool peer_eligible(const peer_report& r) {
    return r.gateway_ok && !r.held && r.current != role::failed;
  }
  static std::string ms_text(duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
  }
  // Every automatic failover says why (issue 9): how long each network was silent, the limit,
  // and the gateway's latest answer.
  std::string silence_evidence() const {
    std::string out;
    for (std::size_t i = 0; i < link_count; ++i) {
      if (s.links[i].last_seen == time_point{}) continue;
      out += (out.empty() ? "" : ", ") + ms_text(now - s.links[i].last_seen) + " silent on the " +
             (i == 0 ? "heartbeat" : "public") + " network";
    }
    if (out.empty()) out = "never heard";
    out += " (limit " + ms_text(p.peer_timeout()) + ")";
    if (p.gateway_configured) out += "; gateway answered " + ms_text(now - s.gateway_heard_at) + " ago";
    return out;
  }
  std::string gateway_evidence() const {
    return "gateway not reachable: no answer for " + ms_text(now - s.gateway_heard_at);
  }
  int self_failing() const { return s.healthy ? 0 : std::max(1, s.health_failing); }
  static int failing_of(const peer_report& r) { return r.healthy ? 0 : std::max<int>(1, r.health_failing); }

  // Both nodes are out of the Active role and can see each other: does this node take it?
  bool wins_election() const {
    const peer_report& peer = *s.peer;
    if (!self_eligible()) return false;
    if (!peer_eligible(peer)) return true;
    if (peer.handover) return true;           // the peer stepped down for me
    if (s.handover) return false;             // I stepped down for the peer
    if (s.handover_request != peer.handover_request) return s.handover_request;
    // The healthier node (fewer failing managed monitors, F11), then priority, then name.
    if (self_failing() != failing_of(peer)) return self_failing() < failing_of(peer);
    if (p.active_priority != peer.active_priority) return p.active_priority;
    return p.self_name < p.peer_name;
  }

  // Both nodes hold resources (F12): does this node keep them? Gateway, health, the most
  // recent activation (epoch), priority, then name.
  bool wins_conflict() const {
    const peer_report& peer = *s.peer;
    auto mine = std::make_tuple(gateway_usable(), s.healthy, s.epoch, p.active_priority);
    auto theirs = std::make_tuple(peer.gateway_ok, peer.healthy, peer.epoch, peer.active_priority);
    if (mine != theirs) return mine > theirs;
    return p.self_name < p.peer_name;
  }

  void activate(const std::string& reason) {
    s.epoch = std::max(s.epoch, s.peer ? s.peer->epoch : 0) + 1;
    s.decided_at = now;
    s.peer_heard_before = {};
    for (const auto& l : s.links) s.peer_heard_before = std::max(s.peer_heard_before, l.last_seen);
    enter(role::activating);
    s.flow_pending = true;
    s.activation_failed = false;
    s.handover = false;
    s.handover_request = false;
    s.held = false;
    actions.push_back(run_flow{true, s.epoch});
    emit(severity::information, "activating",
         "This node is becoming Active [" + reason + ", epoch " + std::to_string(s.epoch) + "]");
  }

  void deactivate(const std::string& reason, bool handover) {
    enter(role::deactivating);
    s.flow_pending = true;
    s.handover = handover;
    actions.push_back(run_flow{false, s.epoch});
    emit(severity::information, "deactivating", "Active node status is shutting down [" + reason + "]");
  }

  // Rule 13: leaving the holding roles needs the executor to say nothing is held any more. Until
  // it does, the node stays Deactivating, which keeps the peer from taking over on top of it.
  void wait_for_release(bool failed, const std::string& detail) {
    s.flow_pending = false;
    s.release_unverified = true;
    s.release_failed = failed;
    s.release_from_init = false;
    if (s.current != role::deactivating) enter(role::deactivating);
    emit(severity::critical, "release_unverified",
         "Resources may still be held on this node: the peer is kept from taking over until the executor "
         "verifies them gone [" + detail + "]");
  }

  void finish_release() {
    s.release_unverified = false;
    s.activation_failed = false;
    if (s.release_from_init) {  // still booting: it decides nothing alone before the boot wait
      s.release_from_init = false;
      s.reboot_after.reset();
      s.release_failed = false;
      const auto booted = s.booted;
      enter(role::init);
      s.booted = booted;
      return;
    }
    if (s.release_failed) {
      s.reboot_after.reset();
      enter(role::failed);
      emit(severity::critical, "failed", "This node is Failed: resources released" + self_tag());
    } else {
      enter(role::standby);
      emit(severity::information, "standby", "This node is Standby" + self_tag());
      reboot_if_asked();
    }
    s.release_failed = false;
  }

  // D13: the service is handed over (this node is Standby, its resources verified gone): reboot.
  void reboot_if_asked() {
    if (!s.reboot_after) return;
    emit(severity::critical, "reboot_after_failover",
         "This server reboots after handing the service over [" + *s.reboot_after + "]");
    actions.push_back(reboot_node{*s.reboot_after});
    s.reboot_after.reset();
  }

  void flow_done(bool up, bool ok, const std::string& detail) {
    s.flow_pending = false;
    if (up) {
      if (ok) {
        enter(role::active);
        emit(severity::information, "active", "This node is Active" + self_tag());
      } else {
        emit(severity::critical, "activation_failed",
             "Resource flow failed to start [" + detail + "]");
        s.activation_failed = true;
        deactivate("activation failed", false);
      }
      return;
    }
    if (s.executor_holding) return wait_for_release(!ok || s.activation_failed, detail.empty() ? "flow down" : detail);
    if (ok && !s.activation_failed) {
      enter(role::standby);
      emit(severity::information, "standby", "This node is Standby" + self_tag());
      reboot_if_asked();
    } else {
      s.reboot_after.reset();  // a node that failed to let go is not rebooted by us: it is Failed
      enter(role::failed);
      s.activation_failed = false;
      if (ok)
        emit(severity::critical, "failed", "This node is Failed: resources released" + self_tag());
      else
        emit(severity::critical, "deactivation_failed",
             "Resource flow failed to stop: resources may still be held [" + detail + "]");
    }
  }

  // ---- inputs ----

  void expire_links() {
    for (std::size_t i = 0; i < link_count; ++i) {
      auto& l = s.links[i];
      if (l.up && now - l.last_seen > p.peer_timeout()) {
        l.up = false;
        emit(severity::warning, "link_down",
             std::string("Heartbeat via ") + link_words(static_cast<peer_link>(i)) +
                 " network is down" + peer_tag());
      }
    }
    bool alive = std::any_of(s.links.begin(), s.links.end(), [](auto& l) { return l.up; });
    if (s.peer_alive && !alive) {
      s.peer_alive = false;
      emit(severity::critical, "peer_lost", "Subnode is not responding" + peer_tag());
    }
  }

  static const char* link_words(peer_link l) { return l == peer_link::heartbeat ? "private" : "public"; }

  void on(const tick&) {}

  void on(const heartbeat_received& hb) {
    auto& l = s.links[static_cast<std::size_t>(hb.via)];
    if (!l.up) {
      l.up = true;
      emit(severity::information, "link_up",
           std::string("Heartbeat via ") + link_words(hb.via) + " network is normal" + peer_tag());
    }
    l.last_seen = now;
    if (s.peer && s.peer->boot_id != hb.peer.boot_id && s.peer->boot_id != 0)
      emit(severity::warning, "peer_restarted", "Subnode restarted" + peer_tag());
    if (!s.peer_alive) {
      s.peer_alive = true;
      emit(severity::information, "peer_alive", "Subnode is responding" + peer_tag());
    }
    if (hb.peer.current == role::init &&
        (!s.peer || s.peer->current != role::init || s.peer->boot_id != hb.peer.boot_id))
      s.peer_starting_since = now;
    s.peer = hb.peer;
  }

  void on(const gateway_changed& g) {
    if (g.reachable == s.gateway_ok) return;
    s.gateway_ok = g.reachable;
    if (!g.reachable) s.gateway_lost_at = now;
    else heard_gateway();  // a reachable verdict is given at an answer
    if (g.reachable)
      emit(severity::information, "gateway_up", "Gateway is responding" + self_tag());
    else
      emit(severity::critical, "gateway_down", "Gateway is not responding" + self_tag());
  }

  void on(const gateway_heard&) { heard_gateway(); }
  void heard_gateway() {
    s.gateway_heard_at = now;
    s.gateway_answered = true;
  }

  void on(const health_changed& h) {
    const bool changed = h.healthy != s.healthy;
    s.healthy = h.healthy;
    s.health_failing = h.healthy ? 0 : std::clamp(h.failing, 1, 255);
    s.health_reason = h.healthy ? std::string() : h.reason;
    s.health_reboot = !h.healthy && h.reboot;
    if (!changed) return;
    if (h.healthy) {
      s.unhealthy_kept = false;
      emit(severity::information, "healthy", "Node health is normal" + self_tag());
    } else {
      emit(severity::critical, "unhealthy",
           "Node health is abnormal [" + p.self_name + (h.reason.empty() ? "" : ": " + h.reason) + "]");
    }
  }

  void on(const flow_finished& f) {
    // The Active's flow failed after it was up (a resource it had to bring back could not be):
    // the same as a failed activation.
    if (f.up && !f.ok && !s.flow_pending && s.current == role::active && f.epoch == s.epoch)
      return flow_done(true, false, f.detail);
    if (!s.flow_pending || f.epoch != s.epoch) return;
    if (f.up && s.current == role::activating) flow_done(true, f.ok, f.detail);
    else if (!f.up && s.current == role::deactivating) flow_done(false, f.ok, f.detail);
  }

  void on(const resources_released& r) {
    if (r.epoch != s.epoch || !holds_resources(s.current)) return;
    emit(severity::warning, "resources_released",
         "Resources were released by the executor [" + r.detail + "]");
    s.flow_pending = false;
    s.handover = false;
    s.activation_failed = false;
    if (s.executor_holding) return wait_for_release(false, r.detail);
    s.release_unverified = false;
    enter(role::standby);  // nothing is held now; decide() may elect this node again (new epoch)
    emit(severity::information, "standby", "This node is Standby" + self_tag());
  }

  // The executor lets go on its own (the watchdog, the connection closed, a lease ran out): the
  // node leaves the Active role at once and says so, and is Standby when the release is verified.
  void on(const resources_releasing& r) {
    if (r.epoch != s.epoch || (s.current != role::activating && s.current != role::active)) return;
    emit(severity::warning, "resources_releasing", "Resources are being released by the executor [" + r.detail + "]");
    enter(role::deactivating);
    s.flow_pending = true;  // done: a flow-down answer or `released` for this epoch
    s.handover = false;
    s.activation_failed = false;
  }

  void on(const resources_held& h) { s.executor_holding = h.holding; }

  // The self-stall guard: the time this daemon could not look is not the peer's silence. Each
  // link's last-heard time moves forward by the stall (overlapping reports count once), so the
  // peer is declared lost only after period × count of silence this node was there to see.
  void on(const stalled& st) {
    const auto from = std::max(st.from, s.stalled_until);
    if (st.to <= from) return;
    const auto d = st.to - from;
    s.stalled_until = st.to;
    for (auto& l : s.links)
      if (l.up && l.last_seen < st.to) l.last_seen = std::min(l.last_seen + d, st.to);
    ++s.stalls;
    s.longest_stall = std::max(s.longest_stall, d);
    if (d >= p.period && (!s.stall_reported_at || now - *s.stall_reported_at >= std::chrono::seconds(10))) {
      s.stall_reported_at = now;
      emit(severity::warning, "self_stall",
           "This node's heartbeat loop was not scheduled for " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
               " ms: the peer's silence is counted without that time" + self_tag());
    }
  }

  void on(const operator_command& c) {
    const bool holding = holds_resources(s.current);
    switch (c.kind) {
      case command_kind::set_mode_auto:
      case command_kind::stop_maintenance:
        if (s.mode != failover_mode::automatic)
          emit(severity::information, "mode", "Failover mode is AUTO" + self_tag());
        s.mode = failover_mode::automatic;
        return reply(true, "failover mode is AUTO");
      case command_kind::set_mode_manual:
        if (s.mode != failover_mode::manual)
          emit(severity::warning, "mode", "Failover mode is MANUAL" + self_tag());
        s.mode = failover_mode::manual;
        return reply(true, "failover mode is MANUAL");
      case command_kind::manual_failover: return manual_failover();
      case command_kind::partition_active:
      case command_kind::forced_active:
        if (holding) return reply(false, "this node already holds the Active role");
        if (s.current == role::init) return reply(false, "this node is still starting");
        activate("operator: " + std::string(to_string(c.kind)));
        return reply(true, "this node is becoming Active");
      case command_kind::partition_standby:
      case command_kind::forced_standby:
        s.held = true;
        if (s.current == role::activating || s.current == role::active) {
          deactivate("operator: " + std::string(to_string(c.kind)), false);
          return reply(true, "this node is becoming Standby");
        }
        return reply(true, "this node stays out of the Active role");
    }
  }

  void manual_failover() {
    if (!s.peer_alive || !s.peer) return reply(false, "the peer is not responding: use forced failover");
    const peer_report& peer = *s.peer;
    if (s.current == role::active) {
      if (peer.current != role::standby) return reply(false, "the peer is not Standby");
      if (!peer_eligible(peer)) return reply(false, "the peer cannot take the Active role");
      if (!peer.healthy) return reply(false, "the peer's health is abnormal: use forced failover");
      deactivate("manual failover to " + p.peer_name, true);
      return reply(true, "handing over to " + p.peer_name);
    }
    if (s.current == role::standby) {
      if (peer.current != role::active) return reply(false, "the peer is not Active");
      s.held = false;
      if (!self_eligible()) return reply(false, "this node cannot take the Active role");
      if (!s.healthy) return reply(false, "this node's health is abnormal: use forced failover");
      s.handover_request = true;
      s.request_at = now;
      return reply(true, "asked " + p.peer_name + " to hand over");
    }
    reply(false, "a role change is in progress");
  }

  // ---- decisions, re-evaluated after every input ----

  void decide() {
    if (s.release_unverified && !s.executor_holding && s.current == role::deactivating) finish_release();
    if (s.executor_holding && !holds_resources(s.current)) {
      // A restarted heartbeat finds resources left on this node, or one appeared: they come down
      // before this node takes part in anything (rule 13).
      emit(severity::warning, "resources_found",
           "Resources are held on this node outside the Active role: releasing them first" + self_tag());
      s.release_failed = s.current == role::failed;
      s.release_from_init = s.current == role::init;
      enter(role::deactivating);
      s.release_unverified = true;
      s.flow_pending = false;
      s.handover = false;
      s.handover_request = false;
      return;
    }
    if (s.flow_pending && now - s.since > p.flow_timeout) {
      flow_done(s.current == role::activating, false, "no answer within the flow timeout");
    }
    if (s.handover_request && now - s.request_at > p.flow_timeout + p.peer_timeout())
      s.handover_request = false;
    const bool peer_seen = s.peer_alive && s.peer;
    if (peer_seen && s.peer->current == role::active) s.held = false;  // the service runs on the peer
    // A hand-over is taken once the peer is seen taking the role: it may step down again before
    // it is ever heard Active (its own health hands the service back), and a stale hand-over
    // flag here would then elect it again and again (found by the simulation, issue 18).
    if (peer_seen && (s.peer->current == role::active || s.peer->current == role::activating) &&
        (s.current == role::standby || s.current == role::failed))
      s.handover = false;
    const bool automatic = s.mode == failover_mode::automatic;

    switch (s.current) {
      case role::init:
        return decide_start(peer_seen, automatic);
      case role::standby:
        if (peer_seen) return decide_connected_standby(false);
        if (automatic && self_eligible()) activate("peer lost: " + silence_evidence());
        return;
      case role::activating:
      case role::active:
        if (peer_seen && (s.peer->current == role::active || s.peer->current == role::activating)) {
          if (!wins_conflict()) {
            emit(severity::critical, "both_active", "Active node is not in standby" + peer_tag());
            return deactivate("both nodes Active: " + p.peer_name + " keeps the role", false);
          }
          return;
        }
        if (s.current != role::active) return;
        if (peer_seen && s.peer->handover_request && s.peer->current == role::standby &&
            peer_eligible(*s.peer) && s.peer->healthy)
          return deactivate("manual failover asked by " + p.peer_name, true);
        if (!automatic) return;
        if (!gateway_usable() && !peer_seen) return deactivate(gateway_evidence(), false);
        // The peer reaches the gateway and this node does not: stepped down for the peer.
        if (!gateway_usable() && s.peer->gateway_ok && now - s.gateway_lost_at >= p.gateway_grace())
          return deactivate(gateway_evidence() + "; " + p.peer_name + " reaches it", true);
        if (!s.healthy && peer_seen && peer_eligible(*s.peer) && s.peer->current == role::standby &&
            failing_of(*s.peer) < self_failing())
        {
          if (s.health_reboot) s.reboot_after = s.health_reason;
          // Stepped down for the peer (a hand-over): a check that watches a resource only while
          // it is held (a shared disk's mount) reads healthy again once the flow is down, and
          // this node must not then take the service straight back by priority.
          return deactivate("node health is abnormal: " + s.health_reason, true);
        }
        if (!s.healthy && !s.unhealthy_kept) {
          // F11: nobody better can take it (the peer is gone, held, or fails as much): keep it.
          s.unhealthy_kept = true;
          emit(severity::critical, "unhealthy_kept",
               "The service stays on an unhealthy node: " +
                   std::string(peer_seen ? p.peer_name + " is no better" : "no peer can take it") +
                   " [" + s.health_reason + "]");
        }
        return;
      case role::deactivating:
      case role::failed:
        return;
    }
  }

  // R3 (F8): a start honours the Active priority whatever the order of first packets and gateway
  // answers. Alone, the priority node decides after the boot wait and any other node only after
  // the start window, so a peer starting with it is heard first. The priority node, alone or
  // hearing a peer that does not hold the role, stays in init while something keeps it from the
  // role (its gateway has not answered yet) until the start window ends; a peer without the
  // priority that hears it starting (init) waits for it (peer_starting_first).
  void decide_start(bool peer_seen, bool automatic) {
    const auto waited = now - s.booted;
    // The priority node that can serve decides after the boot wait; an unhealthy one waits like
    // any other, so a healthy peer starting with it is heard first (F11). A node that found
    // resources at start (it served until its heartbeat restarted) is no exception: its peer may be
    // restarting with it — after a link flap, both sides' daemons restarted together (issue 18).
    const auto wait_alone = p.active_priority && s.healthy ? p.boot_wait() : p.start_limit();
    const bool waits_to_be_eligible = p.active_priority && !self_eligible() && !s.held && waited < p.start_limit();
    if (peer_seen) {
      const bool open = !holds_resources(s.peer->current);  // the boot election is allowed in MANUAL too
      if (open && waits_to_be_eligible) return;
      leave_start(open);
      return decide_connected_standby(true);
    }
    if (waited < wait_alone || (automatic && waits_to_be_eligible)) return;
    leave_start(automatic);
    if (automatic && self_eligible()) activate("peer not seen at start");
  }

  // `could_take`: the role was this node's to take at start, but for its own eligibility.
  void leave_start(bool could_take) {
    enter(role::standby);
    emit(severity::information, "standby", "This node is Standby" + self_tag());
    if (could_take && p.active_priority && !s.held && !gateway_confirmed())
      emit(severity::warning, "priority_not_taken",
           "This node has the Active priority but does not take the role at start [" + start_gateway_evidence() +
               "]");
  }

  std::string start_gateway_evidence() const {
    if (!s.gateway_answered)
      return "gateway not reachable: no answer since the start " + ms_text(now - s.booted) + " ago";
    return gateway_evidence();
  }

  // The peer has the Active priority and is still starting (init): it may take the role any
  // moment, once its gateway answers, so this node, without the priority and no healthier, does
  // not elect itself meanwhile — for at most the start window and a detection time (the peer
  // leaves init at the end of its own window, and says why: this node hears that first).
  bool peer_starting_first() const {
    const peer_report& peer = *s.peer;
    return peer.current == role::init && peer.active_priority && !p.active_priority && !peer.held &&
           failing_of(peer) <= self_failing() && now - s.peer_starting_since < p.start_limit() + p.peer_timeout();
  }

  void decide_connected_standby(bool booting) {
    const peer_report& peer = *s.peer;
    if (holds_resources(peer.current)) return;
    if (peer_starting_first()) return;
    const bool election_allowed =
        s.mode == failover_mode::automatic || booting || peer.current == role::init ||
        peer.handover || s.handover_request;
    if (election_allowed && wins_election())
      activate(peer.handover ? "hand-over from " + p.peer_name : "elected");
  }
};

// The peer is heard and holds the role, or is taking or releasing it.
bool peer_holds(const state& s) {
  if (!s.peer_alive || !s.peer) return false;
  const auto r = s.peer->current;
  return r == role::active || r == role::activating || r == role::deactivating;
}

}  // namespace

state initial_state(const params& p, time_point now) {
  state s;
  s.mode = p.initial_mode;
  s.since = now;
  s.booted = now;
  return s;
}

transition step(const params& p, const state& current, const input& in, time_point now) {
  stepper st{p, current, now, {}};
  std::visit([&](const auto& i) { st.on(i); }, in);
  st.expire_links();
  st.decide();
  if (st.s.current == role::active && st.s.peer_alive) {
    if (!current.peer_alive)
      st.actions.push_back(announce_addresses{"the peer is heard again"});
    else if (peer_holds(current) && !peer_holds(st.s))
      st.actions.push_back(announce_addresses{"the peer left the Active role"});
  }
  return transition{std::move(st.s), std::move(st.actions)};
}

peer_report advertise(const params& p, const state& s) {
  peer_report r;
  r.current = s.current;
  r.mode = s.mode;
  r.epoch = s.epoch;
  r.boot_id = p.boot_id;
  r.gateway_ok = !p.gateway_configured || s.gateway_ok;
  r.healthy = s.healthy;
  r.health_failing = static_cast<std::uint8_t>(s.healthy ? 0 : std::clamp(s.health_failing, 1, 255));
  r.active_priority = p.active_priority;
  r.handover = s.handover;
  r.handover_request = s.handover_request;
  r.held = s.held;
  return r;
}

}  // namespace hasys::cluster
