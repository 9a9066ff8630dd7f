// The executor's flow decisions (W1-W8, F9): what to run, what to verify, when to let go.
#include <hasys/flow/flow_machine.hpp>

#include <algorithm>

namespace hasys::flow {

namespace {

using namespace std::chrono_literals;

std::int64_t ms(duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// One step in progress: the state being built and the actions it emits.
struct stepper {
  const params& p;
  state s;
  time_point now;
  std::vector<action> actions;

  // ---- small helpers ----
  std::size_t size() const { return p.nodes.size(); }
  const node_spec& spec(std::size_t i) const { return p.nodes[i]; }
  std::string label(std::size_t i) const {
    const auto& n = spec(i);
    return n.kind == resource_kind::vip ? "VIP: " + n.name : std::string(to_string(n.kind)) + ": " + n.name;
  }

  void emit(severity level, std::string code, std::string text, std::map<std::string, std::string> details = {}) {
    actions.push_back(raise_event{level, std::move(code), std::move(text), std::move(details)});
  }
  void save() { actions.push_back(save_journal{s.j}); }

  void request(std::size_t i, io_op op, std::string reason = {}) {
    auto& r = s.res[i];
    if (op == io_op::announce) {
      r.announced_at = now;
    } else {
      if (r.io_pending) return;
      r.io_pending = true;
      r.requested_at = now;
    }
    actions.push_back(io_request{i, op, std::move(reason)});
  }

  duration watchdog() const {
    if (s.want && s.want->watchdog > duration::zero()) return s.want->watchdog;
    if (s.j.watchdog_ms > 0) return std::chrono::milliseconds(s.j.watchdog_ms);
    return p.default_watchdog;
  }

  enum class target { hold, up, down };
  target wanted() const {
    if (!s.want) return target::hold;
    const auto e = s.want->epoch;
    if (s.want->up) return e == s.j.fenced_epoch || e == s.j.failed_up_epoch ? target::hold : target::up;
    return e != 0 && e == s.j.failed_down_epoch ? target::hold : target::down;
  }

  // The flow may hold something on this node, by the journal or by what is verified.
  bool may_hold() const { return s.j.up_count > 0 || holding(p, s); }

  void report(phase ph, std::uint64_t epoch, bool up, std::string detail = {}) {
    s.reported = ph;
    s.reported_epoch = epoch;
    s.reported_up = up;
    s.detail = std::move(detail);
  }

  // ---- inputs ----

  void on(const tick&) {}

  void on(const desired_received& in) {
    const auto& d = in.d;
    const bool ask_announce = s.want && s.announce_known && s.want->announce != d.announce && d.up;
    s.want = d;
    // The heartbeat's own send time: a message that waited in the socket while this process was
    // not scheduled is not the heartbeat's silence. Never later than now, never backwards.
    const auto spoke = d.sent ? std::min(*d.sent, now) : now;
    s.want_at = std::max(s.want_at, spoke);
    if (s.watchdog_relook && now - s.want_at < watchdog()) s.watchdog_relook.reset();
    s.announce_known = true;
    if (d.watchdog > duration::zero() && ms(d.watchdog) != s.j.watchdog_ms) {
      s.j.watchdog_ms = ms(d.watchdog);
      save();
    }
    // Drivers act only on what this node holds for the epoch it serves.
    if (ask_announce && !s.fence && s.j.acting_epoch == d.epoch)
      for (std::size_t i = 0; i < size(); ++i)
        if (spec(i).announced && s.res[i].seen == presence::present)
          request(i, io_op::announce, "the heartbeat asked: the peer came back or left the Active role");
  }

  void on(const heartbeat_lost& h) {
    s.want.reset();  // stale from now on: nothing moves up until the heartbeat speaks again
    if (may_hold()) start_fence(h.why);
  }

  void on(const step_done& d) {
    if (!s.step || s.step->node != d.node || s.step->up != d.up) return;  // not the one out
    s.step.reset();
    s.j.in_progress = -1;
    const auto& n = spec(d.node);
    auto& r = s.res[d.node];
    if (d.up) {
      s.j.up_count = std::max(s.j.up_count, d.node + 1);  // a failed start may hold something
      if (n.observable) {
        if (d.ok) {
          r.seen = presence::present;
          r.seen_at = r.checked_at = now;
          // The add set the lease no earlier than the step began (the result may have waited).
          if (n.lease > duration::zero()) r.refreshed_at = s.step_started;
          if (n.announced) r.announced_at = now;  // the driver announced it as it added it
          r.missing_since.reset();
          r.error.clear();
          r.owned = true;
        } else {
          r.seen = presence::unknown;  // verified again at once: what did the failed start leave?
          r.error = d.detail;
          ++r.errors;
        }
      }
      save();
      if (s.fence) return;  // cancelled by the fence: it decides what comes next
      if (d.ok) return;
      if (n.stop_on_error) {
        s.j.failed_up_epoch = d.epoch;
        save();
        emit(severity::critical, "flow_stopped", "Resource flow stopped on error [" + n.name + ": " + d.detail + "]");
        report(phase::failed, d.epoch, true, n.name + ": " + d.detail);
        s.run_counted = false;
        return;
      }
      emit(severity::warning, "flow_node_failed",
           "Resource flow node failed, flow goes on [" + n.name + ": " + d.detail + "]");
      return;
    }
    // down
    if (n.observable) {
      if (d.ok) {
        r.seen = presence::absent;
        r.seen_at = r.checked_at = now;
        r.remove_failed = false;
        r.owned = false;
        r.error.clear();
      } else {
        r.seen = presence::unknown;  // it may still be here: verified before anyone relies on it
        r.remove_failed = true;
        r.error = d.detail;
        ++r.errors;
      }
    }
    if (s.fence) {  // a fence releases all it can, whatever fails on the way
      // An address above this node not verified absent yet leaves the span with it: it stays
      // held, as after a failed removal, until a release or check finds it gone.
      for (std::size_t i = d.node + 1; i < s.j.up_count; ++i)
        if (spec(i).announced && must_release(i)) s.res[i].remove_failed = true;
      s.j.up_count = std::min(s.j.up_count, d.node);
      save();
      if (!d.ok)
        emit(severity::warning, "fence_step_failed", "Resource flow node failed while releasing [" + n.name + ": " + d.detail + "]");
      return;
    }
    if (!d.ok && n.stop_on_error) {
      s.j.failed_down_epoch = d.epoch;
      save();
      emit(severity::critical, "flow_stopped",
           "Resource flow stopped on error: resources may still be held [" + n.name + ": " + d.detail + "]");
      report(phase::failed, d.epoch, false, n.name + ": " + d.detail);
      s.run_counted = false;
      return;
    }
    if (!d.ok)
      emit(severity::warning, "flow_node_failed",
           "Resource flow node failed, flow goes on [" + n.name + ": " + d.detail + "]");
    s.j.up_count = std::min(s.j.up_count, d.node);
    save();
  }

  void on(const program_done& d) {
    if (!s.running_program || *s.running_program != d.which) return;
    s.running_program.reset();
    if (d.which == program::common_start) {
      s.common_started = true;
      s.j.common_start_boot = s.j.machine_boot;
      save();
      return;
    }
    // D12: the failover condition ends an orderly deactivation; its failure fails it.
    s.condition_done = true;
    if (!d.ok) {
      s.j.failed_down_epoch = s.j.acting_epoch;
      save();
      report(phase::failed, s.j.acting_epoch, false, "failover condition: " + d.detail);
      s.run_counted = false;
    }
  }

  void on(const io_done& d) {
    if (d.node >= size()) return;
    const auto& n = spec(d.node);
    auto& r = s.res[d.node];
    if (d.op == io_op::announce) {
      if (!d.error.empty()) {
        ++r.errors;
        emit(severity::warning, "announce_failed", "Virtual IP could not be announced [" + label(d.node) + ": " + d.error + "]");
      }
      return;
    }
    r.io_pending = false;
    r.checked_at = now;
    if (d.seen == presence::unknown) {
      ++r.errors;
      r.error = d.error.empty() ? "could not be verified" : d.error;
      r.seen = presence::unknown;
      if (d.op == io_op::release) r.remove_failed = true;
      return;
    }
    const auto refreshed_before = r.refreshed_at;
    const bool ours = r.owned;  // brought up or taken over by this process, not seen gone since
    r.seen = d.seen;
    r.seen_at = now;
    if (d.seen == presence::present) {
      r.error = d.op != io_op::release ? "" : d.error.empty() ? "still present after its removal" : d.error;
      if (d.op == io_op::release) {
        r.remove_failed = true;
        ++r.errors;
      }
      // The lease was extended no earlier than the request: judging expiry from then is the
      // careful side when the result waited out a stall of this process.
      if (d.op == io_op::refresh) r.refreshed_at = r.requested_at;
      r.missing_since.reset();
      if (d.node >= s.j.up_count) {  // on this node but not in the flow's span: it joins it
        s.j.up_count = d.node + 1;
        save();
      }
      return;
    }
    // absent
    r.error.clear();
    r.remove_failed = false;
    r.refreshed_at.reset();
    r.owned = false;
    if (d.op == io_op::release || s.fence || s.at == stage::settling) return;
    // News only for what this process held (also after checks that could not tell): a failed
    // start that left nothing, or a look after a restart, is not a disappearance.
    if (d.node >= s.j.up_count || !ours) return;
    if (s.step && s.step->node == d.node) return;  // being changed right now
    // It went away underneath the flow. A lease that may have run out means this node stalled
    // for half a lease or more: the peer may already serve, so the flow lets go (ADR 0003).
    if (n.lease > duration::zero() && refreshed_before && now - *refreshed_before >= n.lease / 2) {
      start_fence("Virtual IP lease expired [" + label(d.node) + "]: this node was frozen or stalled for " +
                  std::to_string(ms(now - *refreshed_before)) + " ms");
      return;
    }
    if (!r.missing_since) r.missing_since = now;
    emit(severity::warning, "resource_missing",
         "Resource disappeared from this node [" + label(d.node) + "]: the flow brings it back");
  }

  void on(const stop_requested& st) {
    if (st.now) {
      s.at = stage::stopped;
      actions.push_back(exit_ready{});
      return;
    }
    if (s.at == stage::stopping || s.at == stage::stopped) return;
    s.at = stage::stopping;
  }

  // ---- the fence: let go on our own, verified ----

  void start_fence(const std::string& why) {
    if (s.fence) return;
    s.fence = why;
    s.j.fenced_epoch = s.j.acting_epoch;  // before anything: a restart never brings it back up
    save();
    s.run_counted = false;
    emit(severity::critical, "fenced", "Resources released by the executor [" + why + "]");
    if (s.step && s.step->up) actions.push_back(cancel_step{});  // a stop already out runs to its end
    report(phase::releasing, s.j.acting_epoch, false, why);
  }

  bool must_release(std::size_t i) const {
    const auto& r = s.res[i];
    if (!spec(i).observable) return false;
    if (r.remove_failed || r.seen == presence::present) return true;
    return i < s.j.up_count && r.seen != presence::absent;
  }

  void continue_fence() {
    // What clients see (the virtual IPs) goes first, at once; the rest bottom-up in flow order.
    for (std::size_t i = 0; i < size(); ++i)
      if (spec(i).announced && must_release(i) && !(s.step && s.step->node == i) && !s.res[i].io_pending &&
          (!s.res[i].remove_failed || now - s.res[i].checked_at >= retry_every(i)))
        request(i, io_op::release);
    if (s.step) return;
    for (std::size_t i = s.j.up_count; i-- > 0;) {
      if (spec(i).announced) {  // released above, verified below
        // It leaves the span (and the journal) only once verified absent: a restart must know.
        if (must_release(i)) continue;
        s.j.up_count = i;
        save();
        continue;
      }
      start_step(i, false, s.j.acting_epoch);
      return;
    }
    // Verified absent, every one of them, or the fence goes on (fail closed).
    std::vector<std::string> stuck;
    bool waiting = false;
    for (std::size_t i = 0; i < size(); ++i) {
      if (!must_release(i)) continue;
      auto& r = s.res[i];
      if (r.io_pending) {
        waiting = true;
        continue;
      }
      if (!r.remove_failed && r.seen != presence::present) {  // unknown: verify first
        request(i, io_op::check);
        waiting = true;
        continue;
      }
      stuck.push_back(label(i) + ": " + (r.error.empty() ? "still present" : r.error));
      if (now - r.checked_at >= retry_every(i)) request(i, io_op::release);
    }
    if (!stuck.empty()) {
      std::string text;
      for (const auto& x : stuck) text += (text.empty() ? "" : "; ") + x;
      const std::string detail = *s.fence + "; not released: " + text;
      if (s.detail != detail) {
        emit(severity::critical, "release_failed",
             "Resources could not be released: the peer is kept from taking over [" + text + "]");
        report(phase::releasing, s.j.acting_epoch, false, detail);
      }
      return;
    }
    if (waiting) return;
    const std::string why = *s.fence;
    s.fence.reset();
    s.run_counted = false;
    report(phase::released, s.j.acting_epoch, false, why);
  }

  duration retry_every(std::size_t i) const {
    const auto& n = spec(i);
    return n.lease > duration::zero() ? p.refresh_every(n) : p.check_every;
  }

  // ---- runs ----

  void start_step(std::size_t i, bool up, std::uint64_t epoch) {
    if (!s.run_counted) {
      s.run_counted = true;
      s.run_started = now;
    }
    s.step = run_step{i, up, epoch};
    s.step_started = now;
    s.j.in_progress = static_cast<int>(i);
    s.j.in_progress_up = up;
    save();  // on disk before the node runs: a restart then knows it was cut short
    actions.push_back(*s.step);
    if (!s.fence) report(phase::running, epoch, up);
  }

  // A run for another epoch than the last begins: the journal says so before anything runs.
  std::uint64_t act_for_wanted_epoch() {
    const auto e = s.want->epoch;
    if (s.j.acting_epoch != e) {
      s.j.acting_epoch = e;
      s.condition_done = false;
      save();
    }
    return e;
  }

  void continue_up() {
    const auto e = act_for_wanted_epoch();
    for (std::size_t i = 0; i < size(); ++i) {
      const auto& n = spec(i);
      auto& r = s.res[i];
      if (i < s.j.up_count) {
        if (!n.observable) continue;  // scripts are never run twice
        if (r.seen == presence::present) {
          if (!r.owned) adopt(i);
          continue;
        }
        if (r.seen == presence::unknown) return;  // not verified either way: nothing above it goes on
                                                  // (upkeep looks again when it is due)
      }
      start_step(i, true, e);
      return;
    }
    if (s.reported == phase::done && s.reported_epoch == e && s.reported_up) return;
    if (s.run_counted)
      emit(severity::information, "flow_up",
           "Resource flow is up [epoch " + std::to_string(e) + ", " + std::to_string(size()) + " nodes, " +
               std::to_string(ms(now - s.run_started)) + " ms]");
    s.run_counted = false;
    report(phase::done, e, true);
  }

  // A resource of the epoch this node serves, found here by a restarted executor: its own.
  void adopt(std::size_t i) {
    auto& r = s.res[i];
    r.owned = true;
    const auto& n = spec(i);
    emit(severity::information, "resource_adopted",
         "Resource is taken over by the restarted executor [" + label(i) + ", epoch " +
             std::to_string(s.j.acting_epoch) + "]");
    if (n.announced) request(i, io_op::announce, "taken over after an executor restart");
  }

  void continue_down() {
    const auto e = act_for_wanted_epoch();
    if (s.j.up_count > 0) {
      start_step(s.j.up_count - 1, false, e);
      return;
    }
    // D12: the failover condition runs on the way out, before the peer may take over.
    if (s.run_counted && p.failover_condition && !s.condition_done) {
      if (s.running_program) return;
      s.running_program = program::failover_condition;
      actions.push_back(run_program{program::failover_condition, e});
      return;
    }
    // Released means verified absent: a resource whose removal failed holds the report back.
    for (std::size_t i = 0; i < size(); ++i)
      if (must_release(i)) {
        if (!s.res[i].io_pending && s.res[i].seen == presence::unknown && !s.res[i].remove_failed)
          request(i, io_op::check);
        return;
      }
    if (s.reported == phase::done && s.reported_epoch == e && !s.reported_up) return;
    if (s.run_counted)
      emit(severity::information, "flow_down",
           "Resource flow is down [epoch " + std::to_string(e) + (s.want->handover ? ", hand-over" : "") + ", " +
               std::to_string(ms(now - s.run_started)) + " ms]");
    s.run_counted = false;
    report(phase::done, e, false);
  }

  // ---- upkeep: refreshes, checks, the watchdog, periodic announces ----

  bool keeps_lease(std::size_t i) const {
    const auto& n = spec(i);
    const auto& r = s.res[i];
    if (n.lease <= duration::zero() || s.fence || r.remove_failed) return false;  // its lease runs out by itself
    if (s.step && s.step->node == i && !s.step->up) return false;  // being removed
    return i < s.j.up_count && r.seen != presence::absent;
  }

  time_point due(std::size_t i) const {
    const auto& r = s.res[i];
    if (keeps_lease(i)) {
      const auto every = p.refresh_every(spec(i));
      return r.refreshed_at.value_or(r.checked_at) + every;
    }
    // What a release could not remove is tried (or looked at) again at the lease's pace.
    if (r.remove_failed || (s.fence && must_release(i))) return r.checked_at + retry_every(i);
    return r.checked_at + p.check_every;
  }

  void upkeep() {
    if (s.at == stage::settling || s.at == stage::stopped) return;
    for (std::size_t i = 0; i < size(); ++i) {
      if (!spec(i).observable || s.res[i].io_pending) continue;
      if (s.fence && must_release(i)) continue;  // the fence verifies these itself
      if (s.step && s.step->node == i) continue;
      if (now >= due(i)) request(i, keeps_lease(i) ? io_op::refresh : io_op::check);
    }
    const bool serving = s.want && s.want->up && s.j.acting_epoch == s.want->epoch && !s.fence;
    if (serving && p.announce_every > duration::zero())
      for (std::size_t i = 0; i < size(); ++i) {
        const auto& r = s.res[i];
        if (spec(i).announced && r.seen == presence::present && r.owned && now - r.announced_at >= p.announce_every)
          request(i, io_op::announce, "periodic");
      }
  }

  // The watchdog (F9, ADR 0005): no word from the heartbeat for its time, and this node lets go
  // before the peer can take over. Judged only over time this process was there to look: found
  // expired later than `stall_tolerance` after it was due, the executor itself was not scheduled —
  // when the whole machine stalled, the heartbeat speaks the moment it runs again, but its thread
  // may resume a millisecond or two after this one (seen in the failover bench: a false fence 1 ms
  // before the heartbeat's word) — so it looks once more `relook_after()` later before it lets go:
  // a tenth of the watchdog, 1 to 3 ms. What it costs: a heartbeat really gone (F9) in the same
  // instant as a stall of this process is let go of that much later, beyond the release budget
  // of 2 ms by at most 1 ms; a stall is far more common than that conjunction.
  static constexpr duration stall_tolerance = 1ms;
  duration relook_after() const { return std::clamp(watchdog() / 10, duration(1ms), duration(3ms)); }
  void check_watchdog() {
    if (s.fence || s.at == stage::stopped) return;
    if (s.want && !s.want->up) return;  // the flow is on its way down anyway
    if (!may_hold() && wanted() != target::up) return;
    const auto due = s.want_at + watchdog();
    if (now < due) return;
    if (!s.watchdog_relook && now - due > stall_tolerance) {
      s.watchdog_relook = now + relook_after();
      return;
    }
    if (s.watchdog_relook && now < *s.watchdog_relook) return;
    s.watchdog_relook.reset();
    start_fence("no word from hasys-heartbeat for " + std::to_string(ms(now - s.want_at)) + " ms");
  }

  // ---- decisions, re-evaluated after every input ----

  void decide() {
    if (s.at == stage::stopped) return;
    if (s.at == stage::settling) {
      for (const auto& r : s.res)
        if (r.io_pending) return;
      s.at = stage::running;
    }
    check_watchdog();
    upkeep();
    if (s.fence) {
      continue_fence();
      if (s.fence) return;
    }
    if (s.step) return;
    if (s.at == stage::stopping) {
      if (!s.running_program) {
        s.at = stage::stopped;
        actions.push_back(exit_ready{});
      }
      return;
    }
    if (s.running_program) return;
    switch (wanted()) {
      case target::up:
        if (!s.common_started) return start_common();
        return continue_up();
      case target::down:
        return continue_down();
      case target::hold:
        return retry_releases();
    }
  }

  // A flow that failed on its way down is not run again by itself, but what it could not remove
  // and can be verified is tried again, so the node does not stay held for nothing.
  void retry_releases() {
    if (!s.want || s.want->up) return;
    for (std::size_t i = 0; i < size(); ++i) {
      const auto& r = s.res[i];
      if (spec(i).observable && r.remove_failed && !r.io_pending && now - r.checked_at >= retry_every(i))
        request(i, io_op::release);
    }
  }

  void start_common() {
    s.running_program = program::common_start;
    actions.push_back(run_program{program::common_start, 0});
  }
};

}  // namespace

bool holding(const params& p, const state& s) {
  for (std::size_t i = 0; i < p.nodes.size() && i < s.res.size(); ++i) {
    if (!p.nodes[i].observable) continue;
    const auto& r = s.res[i];
    if (r.seen == presence::present || r.remove_failed) return true;
    if (i < s.j.up_count && r.seen != presence::absent) return true;
    if (s.step && s.step->up && s.step->node == i) return true;  // it may land any moment
  }
  return false;
}

bool journal_may_hold(const journal& j, std::string_view machine_boot) {
  if (!machine_boot.empty() && !j.machine_boot.empty() && j.machine_boot != machine_boot) return false;
  return j.up_count > 0 || j.in_progress >= 0;
}

transition initial_state(const params& p, journal read, std::string_view machine_boot, time_point now) {
  stepper st{p, state{}, now, {}};
  auto& s = st.s;
  s.j = std::move(read);
  // After a reboot of the machine nothing of the old flow runs or is configured any more.
  if (!machine_boot.empty() && s.j.machine_boot != machine_boot) {
    const bool had = !s.j.machine_boot.empty();
    if (had) s.j = journal{};
    s.j.machine_boot = std::string(machine_boot);
  }
  // A node cut short by a restart: a start counts as done (never run twice), a stop as done -
  // except that a resource that can be verified stays in the span until it is: its removal may
  // not have gone through, and the heartbeat must not hear "not holding" before the first look.
  std::optional<std::size_t> stop_cut;
  if (s.j.in_progress >= 0) {
    const auto i = static_cast<std::size_t>(s.j.in_progress);
    if (s.j.in_progress_up && i < p.nodes.size()) {
      s.j.up_count = std::max(s.j.up_count, i + 1);
      st.emit(severity::warning, "flow_interrupted",
              "Resource flow node was interrupted by an executor restart [" + p.nodes[i].name +
                  "]: counted as started, not run again");
    } else if (i < p.nodes.size() && p.nodes[i].observable && i < s.j.up_count) {
      stop_cut = i;
    } else {
      s.j.up_count = std::min(s.j.up_count, i);
    }
    s.j.in_progress = -1;
  }
  s.j.up_count = std::min(s.j.up_count, p.nodes.size());
  s.res.resize(p.nodes.size());
  s.want_at = now;  // the watchdog counts from the start until the heartbeat speaks
  s.common_started = !p.common_start || (!s.j.machine_boot.empty() && s.j.common_start_boot == s.j.machine_boot);
  // A fence cut short by the restart goes on.
  if (s.j.fenced_epoch != 0 && s.j.fenced_epoch == s.j.acting_epoch && s.j.up_count > 0)
    s.fence = "a release cut short by an executor restart";
  // First look at every resource. What may still be this node's is kept alive at once (its lease
  // refreshed), before the heartbeat has said anything: the restart must not cost the address.
  const bool live_epoch = s.j.acting_epoch != s.j.fenced_epoch && s.j.acting_epoch != s.j.failed_up_epoch;
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    const auto& n = p.nodes[i];
    if (!n.observable) continue;
    const bool keep = n.lease > duration::zero() && i < s.j.up_count && live_epoch && !s.fence && stop_cut != i;
    st.request(i, keep ? io_op::refresh : io_op::check);
  }
  s.reported = s.fence ? phase::releasing : phase::idle;
  s.reported_epoch = s.j.acting_epoch;
  s.reported_up = false;
  if (s.fence) s.detail = *s.fence;
  st.save();
  st.decide();
  s.reported_holding = holding(p, s);
  st.actions.push_back(report_changed{});
  return transition{std::move(st.s), std::move(st.actions)};
}

transition step(const params& p, const state& current, const input& in, time_point now) {
  stepper st{p, current, now, {}};
  std::visit([&](const auto& i) { st.on(i); }, in);
  st.decide();
  st.s.reported_holding = holding(p, st.s);
  const auto& a = current;
  const auto& b = st.s;
  if (a.reported != b.reported || a.reported_epoch != b.reported_epoch || a.reported_up != b.reported_up ||
      a.detail != b.detail || a.reported_holding != b.reported_holding)
    st.actions.push_back(report_changed{});
  return transition{std::move(st.s), std::move(st.actions)};
}

time_point next_deadline(const params& p, const state& s) {
  stepper st{p, s, time_point{}, {}};
  if (s.at == stage::settling || s.at == stage::stopped) return time_point::max();
  time_point t = time_point::max();
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    if (!p.nodes[i].observable || s.res[i].io_pending) continue;
    if (s.step && s.step->node == i) continue;  // upkeep leaves it alone: no wake-up in a loop
    t = std::min(t, st.due(i));
  }
  const bool guarded = !s.fence && !(s.want && !s.want->up) && (st.may_hold() || st.wanted() == stepper::target::up);
  if (guarded) t = std::min(t, s.watchdog_relook.value_or(s.want_at + st.watchdog()));
  if (p.announce_every > duration::zero() && s.want && s.want->up && !s.fence)
    for (std::size_t i = 0; i < p.nodes.size(); ++i)
      if (p.nodes[i].announced && s.res[i].seen == presence::present && s.res[i].owned)
        t = std::min(t, s.res[i].announced_at + p.announce_every);
  return t;
}

observed observe(const state& s) {
  return observed{s.reported_epoch, s.reported_up, s.reported, s.reported_holding, s.detail};
}

}  // namespace hasys::flow
