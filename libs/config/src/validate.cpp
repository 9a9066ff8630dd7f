// validate(): every rule of the node, its groups and their links, each broken rule one error.
#include "checker.hpp"

namespace hasys::config {

namespace {

// A UDP socket this node binds: the same address and port may serve only one link.
struct binding {
  std::string address;
  std::uint16_t port;
  std::string owner;  // "group[0].public"
};

void check_link(checker& c, const link_config& l, const std::string& key,
                std::vector<binding>& bindings) {
  bool self_ok = c.address(key + ".self", l.self_address);
  bool peer_ok = c.address(key + ".peer", l.peer_address);
  c.range(key + ".port", l.port, rules::port);
  if (self_ok && peer_ok) {
    if (rules::family_of(l.self_address) != rules::family_of(l.peer_address))
      c.add(key + ".peer", rules::quoted(l.peer_address) +
                               " is not of the same family (IPv4/IPv6) as " +
                               rules::quoted(l.self_address));
    else if (rules::canonical_ip(l.self_address) == rules::canonical_ip(l.peer_address))
      c.add(key + ".peer", rules::quoted(l.peer_address) + " is the same address as self");
  }
  if (!self_ok || l.port == 0) return;
  std::string canonical = rules::canonical_ip(l.self_address);
  for (const auto& b : bindings)
    if (b.address == canonical && b.port == l.port)
      return c.add(key + ".port", std::to_string(l.port) + " on " + rules::quoted(l.self_address) +
                                      " is already used by " + b.owner);
  bindings.push_back({canonical, l.port, key});
}

void check_seed_tunables(checker& c, const group_config& g, const std::string& key) {
  c.range(key + ".shared_disk_wait", g.shared_disk_wait, rules::seed_wait);
  c.range(key + ".failover_condition_wait", g.failover_condition_wait, rules::seed_wait);
  c.range(key + ".drbd_reconnect_count", g.drbd_reconnect_count, rules::drbd_reconnect_count);
  c.range(key + ".drbd_reconnect_interval", g.drbd_reconnect_interval, rules::seed_wait);
  c.range(key + ".common_start_wait", g.common_start_wait, rules::common_start_wait);
  if (g.failover_condition && g.failover_condition_script.empty())
    c.add(key + ".failover_condition_script", "missing: required when failover_condition = true");
  else if (!g.failover_condition_script.empty())
    c.script(key + ".failover_condition_script", g.failover_condition_script);
  if (!g.common_start.empty()) c.script(key + ".common_start", g.common_start);
  if (!g.common_stop.empty()) c.script(key + ".common_stop", g.common_stop);
}

void check_flow_timeout(checker& c, const group_config& g, const std::string& key) {
  c.range(key + ".flow_timeout", g.flow_timeout, rules::flow_timeout);
  duration sum = flow_time_needed(g);
  if (g.flow_timeout < sum)
    c.add(key + ".flow_timeout",
          rules::format_duration(g.flow_timeout) +
              " is shorter than the sum of the flow's node timeouts and unmount confirmation "
              "waits (" +
              rules::format_duration(sum) + "): a flow could fail while a node may still run");
}

void check_group(checker& c, const node_config& node, const group_config& g, const std::string& key,
                 std::vector<binding>& bindings) {
  c.name<group_name>(key + ".name", g.name);
  c.name<node_name>(key + ".peer", g.peer_name);
  if (!g.peer_name.empty() && g.peer_name == node.name)
    c.add(key + ".peer", rules::quoted(g.peer_name) + " is this node's own name (node.name)");
  c.key_file(key + ".key_file", g.key_file);
  c.range(key + ".polling_period", g.polling_period, rules::polling_period);
  c.range(key + ".polling_count", g.polling_count, rules::polling_count);
  if (g.gateway) c.address(key + ".gateway", *g.gateway);
  c.interface(key + ".public_interface", g.public_interface);
  check_flow_timeout(c, g, key);
  c.range(key + ".readiness_interval", g.readiness_interval, rules::readiness_interval);
  c.range(key + ".start_window", g.start_window, rules::start_window);
  if (g.readiness_interval.count() > 0 && g.readiness_interval < std::chrono::seconds(60))
    c.add(key + ".readiness_interval", rules::format_duration(g.readiness_interval) +
                                           " is too short: 0 s (on request only) or at least 60 s");
  c.range(key + ".announce_interval", g.announce_interval, rules::announce_interval);
  if (g.announce_interval.count() > 0 && g.announce_interval < std::chrono::seconds(1))
    c.add(key + ".announce_interval",
          rules::format_duration(g.announce_interval) + " is too short: 0 s (off) or at least 1 s");
  check_seed_tunables(c, g, key);
  if (g.heartbeat) check_link(c, *g.heartbeat, key + ".heartbeat", bindings);
  check_link(c, g.public_net, key + ".public", bindings);
  check_flow(c, node, g, key + ".flow");
  check_monitor(c, g, key + ".monitor");
}

void check_node(checker& c, const node_config& n) {
  c.name<node_name>("node.name", n.name);
  c.absolute_path("node.state_dir", n.state_dir, true);
  c.absolute_path("node.command_dir", n.command_dir, true);
  c.absolute_path("node.control_socket_dir", n.control_socket_dir, true);
  if (n.bus_url.rfind("nats://", 0) != 0 && n.bus_url.rfind("tls://", 0) != 0)
    c.add("node.bus_url", rules::quoted(n.bus_url) + " does not start with nats:// or tls://");
  if (!n.bus_credentials.empty()) c.readable_file("node.bus_credentials", n.bus_credentials);
  if (n.manager.enabled && n.manager.address.empty())
    c.add("manager.address", "missing: required when manager.enabled = true");
  else if (!n.manager.address.empty())
    c.address("manager.address", n.manager.address);
  c.range("manager.port", n.manager.port, rules::port);
  c.range("log.size_mb", n.log.size_mb, rules::log_size_mb);
}

// Two groups (or two nodes of one flow) holding the same virtual IP would fight over it.
void check_virtual_ips(checker& c, const node_config& n) {
  std::vector<std::pair<std::string, std::string>> seen;  // canonical address, owner key
  for (std::size_t i = 0; i < n.groups.size(); ++i) {
    const auto& flow = n.groups[i].flow;
    for (std::size_t j = 0; j < flow.size(); ++j) {
      const auto* vip = std::get_if<vip_node>(&flow[j]);
      if (!vip || !rules::family_of(vip->ip)) continue;
      std::string key = "group[" + std::to_string(i) + "].flow[" + std::to_string(j) + "]";
      std::string canonical = rules::canonical_ip(vip->ip);
      for (const auto& [address, owner] : seen)
        if (address == canonical)
          c.add(key + ".ip", rules::quoted(vip->ip) + " is already the virtual IP of " + owner);
      seen.emplace_back(canonical, key);
    }
  }
}

}  // namespace

std::vector<config_error> validate(const node_config& n, file_checks files) {
  checker c(files);
  check_node(c, n);
  if (n.groups.empty()) c.add("group", "missing: at least one [[group]] is required");
  std::vector<binding> bindings;
  for (std::size_t i = 0; i < n.groups.size(); ++i) {
    const auto& g = n.groups[i];
    std::string key = "group[" + std::to_string(i) + "]";
    check_group(c, n, g, key, bindings);
    for (std::size_t j = 0; j < i; ++j)
      if (!g.name.empty() && n.groups[j].name == g.name)
        c.add(key + ".name",
              rules::quoted(g.name) + " is already the name of group[" + std::to_string(j) + "]");
  }
  check_virtual_ips(c, n);
  // D13: the reboot command must work where a monitor may ask for it (checked only then: most
  // nodes never reboot themselves).
  bool reboots = false;
  for (const auto& g : n.groups)
    for (const auto& p : g.monitor.processes) reboots = reboots || p.reboot_after_failover;
  if (reboots) c.script("node.reboot_command", n.reboot_command);
  return c.take();
}

}  // namespace hasys::config

namespace hasys::config {

std::vector<config_error> advise(const node_config& c) {
  std::vector<config_error> out;
  for (std::size_t i = 0; i < c.groups.size(); ++i) {
    const auto& g = c.groups[i];
    const std::string key = "group[" + std::to_string(i) + "]";
    if (g.polling_period < steady_period_floor)
      out.push_back({key + ".polling_period",
                     rules::format_duration(g.polling_period) + " is below " + rules::format_duration(steady_period_floor) +
                         ", the shortest period measured to hold without spurious failovers on a 2-core machine, "
                         "idle and loaded (docs/benchmarks.md): expect the pair to flap under load"});
    if (g.polling_count == 1)
      out.push_back({key + ".polling_count",
                     "1: the peer's detection time is a single period, and no executor watchdog fits before it; "
                     "a hung heartbeat daemon loses its virtual IPs only to their kernel lease (ADR 0005)"});
    for (std::size_t k = 0; k < g.flow.size(); ++k)
      if (const auto* v = std::get_if<vip_node>(&g.flow[k]); v && v->lease.count() == 0)
        out.push_back({key + ".flow[" + std::to_string(k) + "].lease",
                       "0 s: a node that freezes keeps this virtual IP until it thaws (ADR 0003)"});
  }
  return out;
}

}  // namespace hasys::config
