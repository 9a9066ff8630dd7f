// validate() for a group's monitors (D4-D9): each monitor's limits, its command, and their names.
#include "checker.hpp"

#include <tuple>
#include <utility>

namespace hasys::config {

namespace {

// "/opt/app/bin/start --port 1" -> "/opt/app/bin/start": what /bin/sh -c runs first.
std::string_view program_of(std::string_view command) {
  auto begin = command.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  auto end = command.find_first_of(" \t", begin);
  return command.substr(begin, end == std::string_view::npos ? end : end - begin);
}

// D6: the recovery command, within its bytes, its program checked as a flow node's script is.
void check_start_command(checker& c, const std::string& key, const std::string& start) {
  c.bytes(key, start, rules::start_command_bytes, true);
  std::string_view program = program_of(start);
  if (program.empty())
    return c.add(key, rules::quoted(start) +
                          " names no program: its first word must be an absolute path to an "
                          "executable");
  checker program_check(c.files());
  program_check.script(key, std::filesystem::path(program));
  for (auto& e : program_check.take())
    c.add(e.key, program == start ? e.message : rules::quoted(start) + ": program " + e.message);
}

void check_recovery(checker& c, const process_monitor& p, const std::string& key) {
  const std::string start_key = key + ".start";
  if (!p.recovery) {
    if (!p.start.empty())
      c.add(start_key, rules::quoted(p.start) + " is only used with recovery = true");
  } else if (p.start.empty()) {
    c.add(start_key, "missing: required when recovery = true");
  } else {
    check_start_command(c, start_key, p.start);
  }
  c.user(key + ".user", p.user);
  c.range(key + ".start_time", p.start_time, rules::start_time);
  c.range(key + ".retries", p.retries, rules::monitor_retries);
}

void check_process(checker& c, const process_monitor& p, const std::string& key) {
  c.bytes(key + ".pattern", p.pattern, rules::pattern_bytes, true);
  if (p.multi) {
    c.range(key + ".min", p.min, rules::process_min);
    c.range(key + ".max", p.max, rules::process_max);
    if (p.min > p.max && rules::process_min.contains(p.min) && rules::process_max.contains(p.max))
      c.add(key + ".max",
            std::to_string(p.max) + " is less than min (" + std::to_string(p.min) + ")");
  } else {
    const process_monitor single;
    for (auto [k, v, expected] :
         {std::tuple{".min", p.min, single.min}, std::tuple{".max", p.max, single.max}})
      if (v != expected)
        c.add(key + k, std::to_string(v) + " " + std::string(rules::single_process_rule));
  }
  check_recovery(c, p, key);
}

void check_loads(checker& c, const std::vector<load_monitor>& loads, const std::string& key) {
  for (std::size_t i = 0; i < loads.size(); ++i) {
    const auto& l = loads[i];
    std::string k = key + ".load[" + std::to_string(i) + "]";
    c.range(k + ".limit", l.limit_percent, rules::load_limit);
    c.range(k + ".repeat", l.repeat, rules::load_repeat);
    c.range(k + ".start_delay", l.start_delay, rules::start_delay);
    for (std::size_t j = 0; j < i; ++j)
      if (loads[j].kind == l.kind) {
        c.add(k + ".resource", rules::quoted(rules::to_string(l.kind)) + " is already watched by " +
                                   key + ".load[" + std::to_string(j) +
                                   "]: one load monitor per resource");
        break;
      }
  }
}

// Process and network monitors share one namespace of labels: events name a monitor by it.
void check_names(checker& c, const monitor_config& m, const std::string& key) {
  std::vector<std::pair<std::string, std::string>> seen;  // name, owner key
  auto check = [&](const std::string& name, const std::string& owner) {
    c.bytes(owner + ".name", name, rules::monitor_name_bytes, true);
    if (name.empty()) return;
    for (const auto& [other, other_owner] : seen)
      if (other == name)
        return c.add(owner + ".name",
                     rules::quoted(name) + " is already the name of " + other_owner);
    seen.emplace_back(name, owner);
  };
  for (std::size_t i = 0; i < m.processes.size(); ++i)
    check(m.processes[i].name, key + ".process[" + std::to_string(i) + "]");
  for (std::size_t i = 0; i < m.networks.size(); ++i)
    check(m.networks[i].name, key + ".network[" + std::to_string(i) + "]");
  for (std::size_t i = 0; i < m.disks.size(); ++i)
    check(m.disks[i].name, key + ".disk[" + std::to_string(i) + "]");
}

// D10: a disk monitor watches a mount point that the group's own flow mounts, once.
void check_disks(checker& c, const group_config& g, const std::string& key) {
  const auto& disks = g.monitor.disks;
  for (std::size_t i = 0; i < disks.size(); ++i) {
    std::string k = key + ".disk[" + std::to_string(i) + "].mount_point";
    c.absolute_path(k, disks[i].mount_point, true, rules::path_bytes);
    if (disks[i].mount_point.empty() || disks[i].mount_point.is_relative()) continue;
    const auto& mp = disks[i].mount_point;
    bool duplicate = false;
    for (std::size_t j = 0; j < i && !duplicate; ++j)
      if (same_mount_point(disks[j].mount_point, mp)) {
        c.add(k, rules::quoted(mp.string()) + " is already watched by " + key + ".disk[" +
                     std::to_string(j) + "]");
        duplicate = true;
      }
    if (duplicate) continue;
    bool in_flow = false;
    for (const auto& n : g.flow) {
      if (const auto* d = std::get_if<shared_disk_node>(&n))
        in_flow |= same_mount_point(d->mount_point, mp);
      if (const auto* d = std::get_if<drbd_node>(&n))
        in_flow |= same_mount_point(d->mount_point, mp);
    }
    if (!in_flow)
      c.add(k, rules::quoted(mp.string()) +
                   " is not mounted by the group's flow (no shared_disk or drbd node has it)");
  }
}

}  // namespace

void check_monitor(checker& c, const group_config& g, const std::string& key) {
  const monitor_config& m = g.monitor;
  c.range(key + ".period", m.period, rules::monitor_period);
  check_disks(c, g, key);
  check_names(c, m, key);
  for (std::size_t i = 0; i < m.processes.size(); ++i)
    check_process(c, m.processes[i], key + ".process[" + std::to_string(i) + "]");
  check_loads(c, m.loads, key);
  for (std::size_t i = 0; i < m.networks.size(); ++i) {
    const auto& n = m.networks[i];
    std::string k = key + ".network[" + std::to_string(i) + "]";
    c.interface(k + ".interface", n.interface);
    if (!n.ip.empty()) c.address(k + ".ip", n.ip);
  }
}

}  // namespace hasys::config
