// The monitor's verdict machine: rules D4-D10 (what is down), D6 (recovery attempts), D7 (ALL/ONE).
#include <hasys/health/health_machine.hpp>

#include <algorithm>

namespace hasys::health {

std::string_view to_string(load_kind k) noexcept { return k == load_kind::cpu ? "cpu" : "memory"; }

std::string_view to_string(process_phase p) noexcept {
  switch (p) {
    case process_phase::unseen:
      return "unseen";
    case process_phase::idle:
      return "idle";
    case process_phase::starting:
      return "starting";
    case process_phase::up:
      return "up";
    case process_phase::recovering:
      return "recovering";
    case process_phase::down:
      return "down";
  }
  return "?";
}

namespace {

std::string seconds_text(duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string load_name(load_kind k) { return k == load_kind::cpu ? "CPU" : "Memory"; }

// One step's work on a copy of the state.
struct stepper {
  const params& p;
  state s;
  time_point now;
  std::vector<action> actions;

  void emit(severity level, std::string code, std::string text) {
    actions.push_back(raise_event{level, std::move(code), std::move(text)});
  }

  bool expected(const process_rule& r) const { return !r.only_when_active || s.active; }

  bool in_bounds(const process_rule& r, std::size_t count) const {
    const auto n = static_cast<long>(count);
    if (!r.multi) return n >= 1;
    return n >= r.min && n <= r.max;
  }

  std::string count_text(const process_rule& r, std::size_t count) const {
    const auto n = std::to_string(count);
    if (!r.multi) return n + " running";
    if (static_cast<long>(count) > r.max) return n + " running, max " + std::to_string(r.max);
    return n + " running, min " + std::to_string(r.min);
  }

  std::string tag(const process_rule& r, const std::string& more = {}) const {
    return " [" + r.name + (more.empty() ? "" : ": " + more) + "]";
  }

  // ---- processes ----

  void evaluate(std::size_t i) {
    const auto& r = p.processes[i];
    auto& v = s.processes[i];
    if (!expected(r)) {
      if (v.phase != process_phase::idle) {
        v = process_view{process_phase::idle, v.pids};
      }
      return;
    }
    const bool ok = in_bounds(r, v.pids.size());
    switch (v.phase) {
      case process_phase::unseen:
      case process_phase::idle:
        if (ok) {
          v.phase = process_phase::up;
          warn_many(i);
        } else {
          begin_outage(i);
        }
        return;
      case process_phase::starting:
        if (ok) {
          v.phase = process_phase::up;
          v.attempt = 0;
          warn_many(i);
        } else if (now >= v.deadline) {
          begin_outage(i,
                       "did not appear within its start time (" + seconds_text(r.start_time) + ")");
        }
        return;
      case process_phase::up:
        if (ok) return warn_many(i);
        return begin_outage(i);
      case process_phase::recovering:
        if (ok) {
          emit(severity::information, "process_recovered",
               "Process is normal" + tag(r, "restarted, attempt " + std::to_string(v.attempt) +
                                                " of " + std::to_string(r.retries)));
          v = process_view{process_phase::up, v.pids};
          return warn_many(i);
        }
        if (now >= v.deadline)
          return next_attempt_or_down(i, v.start_out
                                             ? "hasys-executor did not answer the restart in time"
                                             : "the start command ran; not running " +
                                                   seconds_text(r.start_time) + " later");
        return;
      case process_phase::down:
        if (ok) {
          emit(severity::information, "process_up",
               "Process is normal" + tag(r, count_text(r, v.pids.size())));
          v = process_view{process_phase::up, v.pids};
          warn_many(i);
        }
        return;
    }
  }

  // D4: more than one process matches a single-process monitor: it counts as running (the seed
  // does the same), and the operator hears once per such stretch that the pattern is too loose.
  void warn_many(std::size_t i) {
    const auto& r = p.processes[i];
    auto& v = s.processes[i];
    if (r.multi) return;
    if (v.pids.size() > 1 && !v.warned_many) {
      v.warned_many = true;
      emit(severity::warning, "process_ambiguous",
           "Several processes match" + tag(r, std::to_string(v.pids.size()) + " match " + r.what));
    } else if (v.pids.size() <= 1) {
      v.warned_many = false;
    }
  }

  void begin_outage(std::size_t i, const std::string& why = {}) {
    const auto& r = p.processes[i];
    auto& v = s.processes[i];
    v.down_since = now;
    v.attempt = 0;
    v.start_out = false;
    v.last_start.clear();
    v.warned_many = false;
    const auto count = count_text(r, v.pids.size());
    emit(severity::warning, "process_down", "Process is down" + tag(r, why.empty() ? count : why));
    const bool too_few = static_cast<long>(v.pids.size()) < (r.multi ? r.min : 1);
    if (r.recovery && too_few && r.retries > 0) return attempt_restart(i, 1);
    declare_down(i, why.empty() ? count : why);
  }

  void attempt_restart(std::size_t i, int attempt) {
    const auto& r = p.processes[i];
    auto& v = s.processes[i];
    v.phase = process_phase::recovering;
    v.attempt = attempt;
    v.start_out = true;
    v.rescan_step = {};
    v.deadline = now + r.start_time;
    actions.push_back(restart_process{i, attempt});
    emit(severity::information, "process_restarting",
         "Process is restarting" +
             tag(r, "attempt " + std::to_string(attempt) + " of " + std::to_string(r.retries)));
  }

  void next_attempt_or_down(std::size_t i, const std::string& why) {
    const auto& r = p.processes[i];
    auto& v = s.processes[i];
    if (!why.empty()) v.last_start = why;
    if (v.attempt < r.retries) return attempt_restart(i, v.attempt + 1);
    std::string evidence = count_text(r, v.pids.size()) + "; " + std::to_string(v.attempt) +
                           " restart" + (v.attempt == 1 ? "" : "s") + " did not bring it back";
    if (!v.last_start.empty()) evidence += " (last: " + v.last_start + ")";
    declare_down(i, evidence);
  }

  void declare_down(std::size_t i, const std::string& evidence) {
    const auto& r = p.processes[i];
    auto& v = s.processes[i];
    v.phase = process_phase::down;
    v.start_out = false;
    v.last_start = evidence;
    emit(r.managed ? severity::critical : severity::warning, "process_failed",
         "Process could not be recovered" + tag(r, evidence));
  }

  void on(const scanned& in) {
    // Exits seen before this scan began are in it already (a pid gone, or a zombie left out);
    // those seen since it began are news it cannot know: the scan's pid is stale.
    const auto taken = in.taken_at == time_point{} ? now : in.taken_at;  // not said: just now
    std::erase_if(s.exits, [&](const auto& e) { return e.second <= taken; });
    for (std::size_t i = 0; i < p.processes.size() && i < in.pids.size(); ++i) {
      auto pids = in.pids[i];
      std::erase_if(pids, [&](int pid) {
        return std::any_of(s.exits.begin(), s.exits.end(),
                           [&](const auto& e) { return e.first == pid; });
      });
      std::sort(pids.begin(), pids.end());
      pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
      s.processes[i].pids = std::move(pids);
    }
    for (std::size_t i = 0; i < p.processes.size(); ++i) evaluate(i);
  }

  void on(const exited& in) {
    s.exits.emplace_back(in.pid, now);
    for (std::size_t i = 0; i < p.processes.size(); ++i) {
      auto& pids = s.processes[i].pids;
      auto it = std::find(pids.begin(), pids.end(), in.pid);
      if (it == pids.end()) continue;
      pids.erase(it);
      evaluate(i);
    }
  }

  void on(const role_seen& in) {
    const bool was_known = s.role_known;
    const bool was_active = s.active;
    s.role_known = true;
    s.active = in.active;
    judge_disks();
    for (std::size_t i = 0; i < p.processes.size(); ++i) {
      const auto& r = p.processes[i];
      auto& v = s.processes[i];
      if (!r.only_when_active || v.phase == process_phase::unseen) continue;
      if (in.active && !was_active && was_known && v.phase == process_phase::idle) {
        // The flow has just started it: give it its start time to appear before judging.
        v.phase = process_phase::starting;
        v.deadline = now + r.start_time;
      }
      evaluate(i);
    }
  }

  void on(const restart_done& in) {
    if (in.index >= p.processes.size()) return;
    auto& v = s.processes[in.index];
    if (v.phase != process_phase::recovering || v.attempt != in.attempt || !v.start_out) return;
    v.start_out = false;
    v.last_start = in.ok ? "the start command ran" : in.detail;
    if (!in.ok) return next_attempt_or_down(in.index, in.detail);
    actions.push_back(scan_now{});
    v.rescan_step = std::chrono::milliseconds(25);
    v.rescan_at = now + v.rescan_step;
  }

  // ---- load and networks ----

  void on(const load_sampled& in) {
    for (std::size_t i = 0; i < p.loads.size(); ++i) {
      const auto& r = p.loads[i];
      auto& v = s.loads[i];
      const auto value = r.kind == load_kind::cpu ? in.cpu_percent : in.memory_percent;
      if (!value) continue;
      v.last_percent = value;
      if (now - s.started < r.start_delay) continue;  // D9: not counted before the start delay
      const std::string what = load_name(r.kind) + " usage";
      if (*value >= r.limit_percent) {
        ++v.over;
        if (v.over >= r.repeat && !v.failed) {
          v.failed = true;
          emit(r.managed ? severity::critical : severity::warning,
               std::string(to_string(r.kind)) + "_over",
               what + " is over the limit [" + std::to_string(*value) +
                   "% >= " + std::to_string(r.limit_percent) + "%, " + std::to_string(v.over) +
                   " samples in a row]");
        }
      } else {
        v.over = 0;
        if (v.failed) {
          v.failed = false;
          emit(severity::information, std::string(to_string(r.kind)) + "_normal",
               what + " is normal [" + std::to_string(*value) + "% < " +
                   std::to_string(r.limit_percent) + "%]");
        }
      }
    }
  }

  void on(const network_seen& in) {
    if (in.index >= p.networks.size()) return;
    const auto& r = p.networks[in.index];
    auto& v = s.networks[in.index];
    const bool changed = !v.up || *v.up != in.up;
    const bool first = !v.up;
    v.up = in.up;
    v.detail = in.up ? std::string() : in.detail;
    if (!changed) return;
    if (!in.up)
      emit(r.managed ? severity::critical : severity::warning, "network_down",
           "Network is down [" + r.name + ": " + in.detail + "]");
    else if (!first)
      emit(severity::information, "network_up",
           "Network is normal [" + r.name + ": " + r.what + "]");
  }

  // D10: a mount point is down while this node is Active (the flow mounted it) and it is not
  // mounted; said when that changes.
  void on(const mounts_seen& in) {
    for (std::size_t i = 0; i < p.disks.size() && i < in.mounted.size(); ++i)
      s.disks[i].mounted = in.mounted[i];
    judge_disks();
  }

  void judge_disks() {
    for (std::size_t i = 0; i < p.disks.size(); ++i) {
      const auto& r = p.disks[i];
      auto& v = s.disks[i];
      const bool down = s.active && v.mounted && !*v.mounted;
      if (down == v.down) continue;
      v.down = down;
      if (down)
        emit(r.managed ? severity::critical : severity::warning, "disk_unmounted",
             "Shared disk is not mounted [" + r.name + ": " + r.mount_point + "]");
      else if (s.active)
        emit(severity::information, "disk_mounted",
             "Shared disk is mounted [" + r.name + ": " + r.mount_point + "]");
    }
  }

  // D11: said when it changes (and at the first read, as the seed does).
  void on(const drbd_seen& in) {
    if (in.index >= p.drbd.size()) return;
    const auto& r = p.drbd[in.index];
    auto& v = s.drbd[in.index];
    const bool ok = in.status && in.status->connected() && in.status->up_to_date();
    const std::string summary =
        in.status ? in.status->summary() : "cannot read DRBD's status: " + in.error;
    const bool changed = !v.ok || *v.ok != ok;
    v.ok = ok;
    v.summary = summary;
    const bool standalone =
        in.status && std::any_of(in.status->peers.begin(), in.status->peers.end(),
                                 [](const drbd_peer& x) { return x.connection == "StandAlone"; });
    if (!standalone) {  // connected again, or still trying on its own: a new outage starts afresh
      v.reconnects = 0;
      v.gave_up = false;
    }
    if (changed) {
      if (ok)
        emit(severity::information, "drbd_normal", "Data sync is normal [" + r.resource + "]");
      else
        emit(severity::warning, "drbd_abnormal",
             "Data sync is abnormal [" + r.resource + ": " + summary + "]");
    }
    if (standalone) maybe_reconnect(in.index);
  }

  // D11: a StandAlone resource (DRBD gave up connecting) is asked to connect again, the first
  // time at once, then every interval, up to the count; then it is said once that it gave up.
  void maybe_reconnect(std::size_t i) {
    const auto& r = p.drbd[i];
    auto& v = s.drbd[i];
    if (v.reconnect_out || now < v.next_reconnect) return;
    if (v.reconnects >= r.reconnects) {
      if (!v.gave_up && r.reconnects > 0)
        emit(severity::critical, "drbd_reconnect_failed",
             "Data sync could not be reconnected [" + r.resource + ": " +
                 std::to_string(v.reconnects) + " attempts]");
      v.gave_up = true;
      return;
    }
    ++v.reconnects;
    v.reconnect_out = true;
    v.next_reconnect = now + r.reconnect_interval;
    actions.push_back(reconnect_drbd{i, v.reconnects});
    emit(severity::information, "drbd_reconnecting",
         "Data sync is reconnecting [" + r.resource + ": attempt " + std::to_string(v.reconnects) +
             " of " + std::to_string(r.reconnects) + "]");
  }

  void on(const drbd_reconnect_done& in) {
    if (in.index >= p.drbd.size()) return;
    auto& v = s.drbd[in.index];
    if (in.attempt != v.reconnects) return;
    v.reconnect_out = false;
  }

  void on(const tick&) {
    bool rescan = false;
    for (auto& v : s.processes) {
      if (v.phase != process_phase::recovering || v.start_out || v.rescan_step == duration{} ||
          now < v.rescan_at)
        continue;
      rescan = true;
      v.rescan_step *= 2;
      v.rescan_at = now + v.rescan_step;
    }
    if (rescan) actions.push_back(scan_now{});
    for (std::size_t i = 0; i < p.processes.size(); ++i) {
      const auto ph = s.processes[i].phase;
      if ((ph == process_phase::starting || ph == process_phase::recovering) &&
          now >= s.processes[i].deadline)
        evaluate(i);
    }
  }

  // Publish when ready (every process and network looked at once) and changed.
  void finish() {
    const bool ready =
        std::none_of(s.processes.begin(), s.processes.end(),
                     [](const process_view& v) { return v.phase == process_phase::unseen; }) &&
        std::all_of(s.networks.begin(), s.networks.end(),
                    [](const network_view& v) { return v.up.has_value(); }) &&
        std::all_of(s.disks.begin(), s.disks.end(),
                    [](const disk_view& v) { return v.mounted.has_value(); });
    if (!ready) return;
    auto v = judge(p, s);
    if (s.published && v == s.reported) return;
    s.published = true;
    s.reported = v;
    actions.push_back(publish{std::move(v)});
  }
};

}  // namespace

state initial_state(const params& p, time_point now) {
  state s;
  s.started = now;
  s.processes.resize(p.processes.size());
  s.loads.resize(p.loads.size());
  s.networks.resize(p.networks.size());
  s.drbd.resize(p.drbd.size());
  s.disks.resize(p.disks.size());
  return s;
}

transition step(const params& p, const state& s, const input& in, time_point now) {
  stepper st{p, s, now, {}};
  std::visit([&](const auto& i) { st.on(i); }, in);
  st.finish();
  return {std::move(st.s), std::move(st.actions)};
}

time_point next_deadline(const params& p, const state& s) {
  auto t = time_point::max();
  for (std::size_t i = 0; i < p.processes.size() && i < s.processes.size(); ++i) {
    const auto& v = s.processes[i];
    if (v.phase == process_phase::starting || v.phase == process_phase::recovering)
      t = std::min(t, v.deadline);
    if (v.phase == process_phase::recovering && !v.start_out && v.rescan_step != duration{})
      t = std::min(t, v.rescan_at);
  }
  return t;
}

verdict judge(const params& p, const state& s) {
  verdict v;
  int managed_expected = 0, managed_down = 0;
  for (std::size_t i = 0; i < p.processes.size() && i < s.processes.size(); ++i) {
    const auto& r = p.processes[i];
    const auto& pv = s.processes[i];
    const bool judged = pv.phase != process_phase::unseen && pv.phase != process_phase::idle;
    if (r.managed && judged) ++managed_expected;
    if (pv.phase != process_phase::down) continue;
    if (r.managed) ++managed_down;
    if (r.managed && r.reboot_after_failover) v.reboot_after_failover = true;
    v.findings.push_back({"process " + r.name, r.managed, pv.last_start});
  }
  const bool processes_fail = p.process_policy == policy::one
                                  ? managed_down > 0
                                  : managed_expected > 0 && managed_down == managed_expected;
  int net_managed = 0, net_down = 0;
  for (std::size_t i = 0; i < p.networks.size() && i < s.networks.size(); ++i) {
    const auto& r = p.networks[i];
    const auto& nv = s.networks[i];
    if (r.managed && nv.up) ++net_managed;
    if (!nv.up || *nv.up) continue;
    if (r.managed) ++net_down;
    v.findings.push_back({"network " + r.name, r.managed, nv.detail});
  }
  const bool networks_fail =
      p.network_policy == policy::one ? net_down > 0 : net_managed > 0 && net_down == net_managed;
  bool loads_fail = false;
  for (std::size_t i = 0; i < p.loads.size() && i < s.loads.size(); ++i) {
    const auto& r = p.loads[i];
    const auto& lv = s.loads[i];
    if (!lv.failed) continue;
    if (r.managed) loads_fail = true;
    v.findings.push_back({std::string(to_string(r.kind)), r.managed,
                          std::to_string(lv.last_percent.value_or(0)) +
                              "% >= " + std::to_string(r.limit_percent) + "% for " +
                              std::to_string(lv.over) + " samples"});
  }
  bool disks_fail = false;
  for (std::size_t i = 0; i < p.disks.size() && i < s.disks.size(); ++i) {
    if (!s.disks[i].down) continue;
    const auto& r = p.disks[i];
    if (r.managed) disks_fail = true;
    v.findings.push_back({"disk " + r.name, r.managed, r.mount_point + " is not mounted"});
  }
  for (std::size_t i = 0; i < p.drbd.size() && i < s.drbd.size(); ++i)
    if (s.drbd[i].ok && !*s.drbd[i].ok)
      v.findings.push_back({"drbd " + p.drbd[i].resource, false, s.drbd[i].summary});
  for (const auto& f : v.findings)
    if (f.managed) ++v.failing_managed;
  v.healthy = !(processes_fail || networks_fail || loads_fail || disks_fail);
  if (!v.healthy) {
    for (const auto& f : v.findings) {
      if (!f.managed) continue;
      if (!v.reason.empty()) v.reason += "; ";
      v.reason += f.monitor + ": " + f.evidence;
    }
  } else {
    v.failing_managed = 0;
    v.reboot_after_failover = false;
  }
  return v;
}

}  // namespace hasys::health
