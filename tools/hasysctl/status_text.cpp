// Formats a group's status for people, as hasysctl status and the menu show it.
#include "status_text.hpp"

#include <cctype>
#include <cstdio>
#include <sstream>

namespace hasys::ctl {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "p99 0.5 ms, max 2.1 ms" of a histogram (µs inside).
std::string spread(const proto::duration_histogram& h) {
  if (h.count == 0) return "none yet";
  char text[96];
  std::snprintf(text, sizeof text, "p99 %.1f ms, max %.1f ms", static_cast<double>(h.percentile_us(99)) / 1000.0,
                static_cast<double>(h.max_us) / 1000.0);
  return text;
}

std::string link_text(const proto::link_view& l) {
  if (!l.configured) return "not configured";
  std::string s = l.up ? "up" : "DOWN";
  if (l.last_seen_ms_ago) s += " (" + std::to_string(*l.last_seen_ms_ago) + " ms ago)";
  if (l.send_errors) s += ", " + std::to_string(l.send_errors) + " send errors";
  return s;
}

}  // namespace

std::string status_text(const proto::status_msg& s) {
  std::ostringstream o;
  o << "group " << s.group << "  (period " << s.period_ms << " ms x " << s.count << ", mode "
    << upper(cluster::to_string(s.mode)) << (s.active_priority ? ", active priority" : "") << ")\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-15s %-12s epoch %-4llu for %.1f s%s%s%s\n", s.node.c_str(),
                upper(cluster::to_string(s.role)).c_str(), static_cast<unsigned long long>(s.epoch),
                static_cast<double>(s.role_for_ms) / 1000.0, s.healthy ? "" : "  UNHEALTHY",
                s.held ? "  held" : "", s.handover ? "  handing over" : "");
  o << line;
  if (s.peer.alive || s.peer.epoch || s.peer.role != cluster::role::init)
    std::snprintf(line, sizeof line, "  %-15s %-12s epoch %-4llu %s%s\n", s.peer.name.c_str(),
                  upper(cluster::to_string(s.peer.role)).c_str(),
                  static_cast<unsigned long long>(s.peer.epoch),
                  s.peer.alive ? "responding" : "NOT RESPONDING (last known)",
                  s.peer.gateway_ok ? "" : ", gateway not reachable");
  else
    std::snprintf(line, sizeof line, "  %-15s never heard\n", s.peer.name.c_str());
  o << line;
  o << "  links     heartbeat " << link_text(s.heartbeat_link) << "; public "
    << link_text(s.public_link) << '\n';
  o << "  gateway   "
    << (s.gateway_configured ? s.gateway + (s.gateway_ok ? " reachable" : " NOT REACHABLE")
                             : "not configured")
    << '\n';
  o << "  flow      "
    << (s.flow.standalone ? "standalone (no executor)"
        : s.flow.want_up  ? "up"
                          : "down")
    << ", epoch " << s.flow.epoch << (s.flow.pending ? ", running" : "")
    << (s.flow.standalone            ? ""
        : !s.flow.executor_connected ? ", executor NOT CONNECTED" + (s.flow.observed.empty() ? "" : " (last said: " + s.flow.observed + ")")
        : s.flow.observed.empty()    ? ""
                                     : ", executor: " + s.flow.observed)
    << (s.flow.holding && !s.flow.want_up ? ", resources may still be held" : "")
    << (s.flow.detail.empty() ? "" : " (" + s.flow.detail + ")") << '\n';
  // Standby readiness (issue 9), as the executor last checked it.
  if (!s.flow.ready.empty()) {
    const auto age_s = (proto::unix_ms_now() - s.flow.ready_unix_ms) / 1000;
    o << "  takeover  " << (s.flow.ready == "ready" ? std::string("ready") : "NOT READY: " + s.flow.ready.substr(s.flow.ready.find(':') + 2))
      << " (checked " << age_s << " s ago)\n";
  }
  // What hasys-monitor says (issue 9): the verdict with its reason, and each process monitor.
  o << "  health    "
    << (!s.health.monitor ? std::string(s.healthy ? "normal" : "ABNORMAL") + " (no word from hasys-monitor)"
        : s.healthy       ? std::string("normal")
                          : "ABNORMAL, " + std::to_string(s.health.failing) + " managed failing: " + s.health.reason)
    << (s.health.monitor ? ", monitor heard " + std::to_string(s.health.monitor_seen_ms_ago) + " ms ago" : "")
    << '\n';
  for (const auto& p : s.health.processes) {
    std::string state = p.phase + ", " + std::to_string(p.running) + " running";
    if (p.attempt) state += ", restart attempt " + std::to_string(p.attempt);
    std::snprintf(line, sizeof line, "    %-12s %-12s %s\n", p.name.c_str(), p.managed ? "managed" : "watched",
                  state.c_str());
    o << line;
  }
  for (const auto& f : s.health.findings) {
    if (f.monitor.rfind("process ", 0) == 0) continue;  // shown above
    std::snprintf(line, sizeof line, "    %-12s %-12s %s\n", f.monitor.c_str(), f.managed ? "managed" : "watched",
                  f.evidence.c_str());
    o << line;
  }
  // Each resource as the executor last verified it, with the age of that check (issue 7).
  for (const auto& r : s.flow.resources) {
    std::string state = r.state == "unverifiable" ? "not verifiable (" + r.kind + ")" : r.state;
    if (r.verified_ms_ago >= 0) state += ", checked " + std::to_string(r.verified_ms_ago) + " ms ago";
    if (!r.error.empty()) state += ": " + r.error;
    if (r.errors) state += " [" + std::to_string(r.errors) + " errors]";
    std::snprintf(line, sizeof line, "    %-12s %-12s %s\n", r.name.c_str(), r.kind.c_str(), state.c_str());
    o << line;
  }
  if (!s.flow.executor_counters.empty()) {
    o << "  executor ";
    for (const auto& [k, v] : s.flow.executor_counters) o << ' ' << k << ' ' << v;
    o << '\n';
  }
  // Where silences come from (issue 8): this loop's lateness, the gaps it saw, its own stalls.
  o << "  jitter    send late " << spread(s.jitter.send_late) << "; gaps heartbeat "
    << spread(s.jitter.heartbeat_gap) << ", public " << spread(s.jitter.public_gap);
  if (s.jitter.stalls)
    o << "; " << s.jitter.stalls << " stalls not counted as silence (longest "
      << s.jitter.longest_stall_us / 1000 << " ms)";
  o << '\n';
  if (!s.dropped.empty()) {
    o << "  dropped  ";
    for (const auto& [k, v] : s.dropped) o << ' ' << k << ' ' << v;
    o << '\n';
  }
  return o.str();
}

}  // namespace hasys::ctl
