// node_config -> TOML text in the documented key order, readable by parse() and by people.
#include "rules.hpp"

#include <sstream>

namespace hasys::config {

namespace {

using rules::quoted;

class toml_writer {
 public:
  void table(std::string_view header) {
    out_ << (first_ ? "" : "\n") << header << '\n';
    first_ = false;
  }
  void text(std::string_view key, std::string_view v) { out_ << key << " = " << quoted(v) << '\n'; }
  void path(std::string_view key, const std::filesystem::path& p) { text(key, p.string()); }
  void flag(std::string_view key, bool v) {
    out_ << key << " = " << (v ? "true" : "false") << '\n';
  }
  void number(std::string_view key, std::int64_t v) { out_ << key << " = " << v << '\n'; }
  void span(std::string_view key, duration d) { text(key, rules::format_duration(d)); }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
  bool first_ = true;
};

template <class Node>
void write_common(toml_writer& w, std::string_view type, const Node& n) {
  w.table("[[group.flow]]");
  w.text("type", type);
  w.text("name", n.name);
  w.flag("stop_on_error", n.stop_on_error);
  w.span("timeout", n.timeout);
}

struct flow_writer {
  toml_writer& w;
  void operator()(const vip_node& n) const {
    write_common(w, "vip", n);
    w.text("ip", n.ip);
    w.number("prefix", n.prefix_length);
    w.text("interface", n.interface);
    w.span("lease", n.lease);
    if (!n.overrides.empty()) w.text("interface_override", rules::format_overrides(n.overrides));
  }
  void operator()(const script_node& n) const {
    write_common(w, n.kind == script_kind::database ? "database" : "application", n);
    w.path("start", n.start);
    w.path("stop", n.stop);
    if (!n.user.empty()) w.text("user", n.user);
  }
  void operator()(const wait_node& n) const {
    write_common(w, "wait", n);
    w.number("seconds", n.wait.count());
  }
  void operator()(const shared_disk_node& n) const {
    write_common(w, "shared_disk", n);
    w.text("device", n.device);
    w.path("mount_point", n.mount_point);
    if (!n.fs_type.empty()) w.text("fs_type", n.fs_type);
  }
  void operator()(const drbd_node& n) const {
    write_common(w, "drbd", n);
    w.text("resource", n.resource);
    w.number("minor", n.minor);
    if (!n.mount_point.empty()) w.path("mount_point", n.mount_point);
  }
};

void write_link(toml_writer& w, std::string_view header, const link_config& l) {
  w.table(header);
  w.text("self", l.self_address);
  w.text("peer", l.peer_address);
  w.number("port", l.port);
}

void write_process(toml_writer& w, const process_monitor& p) {
  static const process_monitor defaults;
  w.table("[[group.monitor.process]]");
  w.text("name", p.name);
  w.text("match", rules::to_string(p.match));
  w.text("pattern", p.pattern);
  w.flag("multi", p.multi);
  if (p.multi) {  // parse() refuses min and max on a single-process monitor
    w.number("min", p.min);
    w.number("max", p.max);
  }
  w.flag("managed", p.managed);
  w.text("on", rules::to_string(p.on));
  w.flag("recovery", p.recovery);
  if (!p.start.empty()) w.text("start", p.start);
  if (!p.user.empty()) w.text("user", p.user);
  if (p.recovery || p.start_time != defaults.start_time || p.retries != defaults.retries) {
    w.span("start_time", p.start_time);
    w.number("retries", p.retries);
  }
  w.flag("reboot_after_failover", p.reboot_after_failover);
}

void write_monitor(toml_writer& w, const monitor_config& m) {
  if (m == monitor_config{}) return;  // no table: parse() gives the defaults back
  w.table("[group.monitor]");
  w.span("period", m.period);
  w.text("process_policy", rules::to_string(m.process_policy));
  w.text("network_policy", rules::to_string(m.network_policy));
  for (const auto& p : m.processes) write_process(w, p);
  for (const auto& l : m.loads) {
    w.table("[[group.monitor.load]]");
    w.text("resource", rules::to_string(l.kind));
    w.number("limit", l.limit_percent);
    w.number("repeat", l.repeat);
    w.span("start_delay", l.start_delay);
    w.flag("managed", l.managed);
  }
  for (const auto& n : m.networks) {
    w.table("[[group.monitor.network]]");
    w.text("name", n.name);
    w.text("interface", n.interface);
    if (!n.ip.empty()) w.text("ip", n.ip);
    w.flag("managed", n.managed);
  }
  for (const auto& d : m.disks) {
    w.table("[[group.monitor.disk]]");
    w.text("name", d.name);
    w.path("mount_point", d.mount_point);
    w.flag("managed", d.managed);
    w.flag("unmount_confirm", d.unmount_confirm);
  }
}

void write_group(toml_writer& w, const group_config& g) {
  w.table("[[group]]");
  w.text("name", g.name);
  w.text("peer", g.peer_name);
  w.path("key_file", g.key_file);
  w.text("mode", rules::to_string(g.mode));
  w.flag("active_priority", g.active_priority);
  w.span("polling_period", g.polling_period);
  w.number("polling_count", g.polling_count);
  if (g.gateway) w.text("gateway", *g.gateway);
  w.text("public_interface", g.public_interface);
  w.span("flow_timeout", g.flow_timeout);
  if (g.announce_interval.count() > 0) w.span("announce_interval", g.announce_interval);
  if (g.readiness_interval != std::chrono::minutes(10)) w.span("readiness_interval", g.readiness_interval);
  if (g.start_window != std::chrono::seconds(5)) w.span("start_window", g.start_window);
  w.span("shared_disk_wait", g.shared_disk_wait);
  w.flag("failover_condition", g.failover_condition);
  if (!g.failover_condition_script.empty())
    w.path("failover_condition_script", g.failover_condition_script);
  w.span("failover_condition_wait", g.failover_condition_wait);
  w.number("drbd_reconnect_count", g.drbd_reconnect_count);
  w.span("drbd_reconnect_interval", g.drbd_reconnect_interval);
  if (!g.common_start.empty()) w.path("common_start", g.common_start);
  if (!g.common_stop.empty()) w.path("common_stop", g.common_stop);
  w.span("common_start_wait", g.common_start_wait);
  if (g.heartbeat) write_link(w, "[group.heartbeat]", *g.heartbeat);
  write_link(w, "[group.public]", g.public_net);
  for (const auto& n : g.flow) std::visit(flow_writer{w}, n);
  write_monitor(w, g.monitor);
}

}  // namespace

std::string to_toml(const node_config& c) {
  toml_writer w;
  w.table("[node]");
  w.text("name", c.name);
  w.path("state_dir", c.state_dir);
  w.path("command_dir", c.command_dir);
  w.text("bus_url", c.bus_url);
  if (!c.bus_credentials.empty()) w.path("bus_credentials", c.bus_credentials);
  w.path("control_socket_dir", c.control_socket_dir);
  if (c.reboot_command != std::filesystem::path("/usr/sbin/reboot")) w.path("reboot_command", c.reboot_command);
  if (c.drbdadm != std::filesystem::path("/usr/sbin/drbdadm")) w.path("drbdadm", c.drbdadm);
  w.table("[manager]");
  w.flag("enabled", c.manager.enabled);
  if (!c.manager.address.empty()) w.text("address", c.manager.address);
  w.number("port", c.manager.port);
  w.table("[log]");
  w.flag("enabled", c.log.enabled);
  w.number("size_mb", c.log.size_mb);
  for (const auto& g : c.groups) write_group(w, g);
  return w.str();
}

}  // namespace hasys::config
