// TOML text -> node_config: the schema of the file, read key by key, then validated whole.
#include "toml_reader.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hasys::config {

namespace {

using namespace std::chrono_literals;
constexpr duration in_ms = 1ms;
constexpr duration in_s = 1s;

template <class Node>
void read_common(toml_reader& r, Node& n) {
  r.string("name", n.name, true);
  r.boolean("stop_on_error", n.stop_on_error);
  r.span("timeout", n.timeout, in_s);
}

void read_vip(toml_reader& r, vip_node& n, const group_config& g, read_errors& errors) {
  read_common(r, n);
  r.string("ip", n.ip, true);
  bool has_prefix = r.has("prefix");
  bool has_netmask = r.has("netmask");
  r.integer("prefix", n.prefix_length, rules::prefix_v6);
  std::string netmask;
  r.string("netmask", netmask);
  if (has_prefix && has_netmask) {
    r.error("netmask", "give prefix or netmask, not both");
  } else if (!has_prefix && !has_netmask) {
    r.error("prefix", "missing: give prefix (or netmask for IPv4)");
  } else if (has_netmask) {
    auto prefix = rules::netmask_to_prefix(netmask);
    if (!prefix || *prefix == 0) {
      r.error("netmask", rules::quoted(netmask) + " is not an IPv4 netmask like \"255.255.255.0\"");
      errors.silence_under(r.key("prefix"));
    } else if (rules::family_of(n.ip) == rules::ip_family::v6) {
      r.error("netmask", "netmask is for IPv4 addresses; give prefix for an IPv6 address");
      errors.silence_under(r.key("prefix"));
    } else {
      n.prefix_length = *prefix;
    }
  }
  std::optional<duration> lease;
  r.span("lease", lease, in_s);
  if (lease) n.lease = std::chrono::duration_cast<std::chrono::seconds>(*lease);
  if (lease && *lease != n.lease) r.error("lease", "give whole seconds (the kernel's lifetime unit)");
  n.interface = g.public_interface;
  r.string("interface", n.interface);
  std::string overrides;
  r.string("interface_override", overrides);
  if (overrides.size() > rules::override_bytes) {
    r.error("interface_override", rules::quoted(overrides) + " is " +
                                      std::to_string(overrides.size()) + " bytes; at most " +
                                      std::to_string(rules::override_bytes));
    return;
  }
  auto parsed = rules::parse_overrides(overrides);
  if (auto* msg = std::get_if<std::string>(&parsed))
    r.error("interface_override", *msg);
  else
    n.overrides = std::get<std::vector<interface_override>>(parsed);
}

void read_script(toml_reader& r, script_node& n) {
  read_common(r, n);
  r.path("start", n.start, {}, true);
  r.path("stop", n.stop, {}, true);
  r.string("user", n.user);
}

void read_wait(toml_reader& r, wait_node& n) {
  read_common(r, n);
  std::int64_t seconds = n.wait.count();
  r.integer("seconds", seconds, rules::wait_seconds, true);
  n.wait = std::chrono::seconds(seconds);
}

void read_shared_disk(toml_reader& r, shared_disk_node& n) {
  read_common(r, n);
  r.string("device", n.device, true);
  r.path("mount_point", n.mount_point, {}, true);
  r.string("fs_type", n.fs_type);
}

void read_drbd(toml_reader& r, drbd_node& n) {
  read_common(r, n);
  r.string("resource", n.resource, true);
  r.integer("minor", n.minor, rules::drbd_minor, true);
  r.path("mount_point", n.mount_point);
}

flow_node read_flow_node(toml_reader& r, const group_config& g, read_errors& errors) {
  std::string type;
  r.string("type", type, true);
  if (type == "vip") {
    vip_node n;
    read_vip(r, n, g, errors);
    return n;
  }
  if (type == "application" || type == "database") {
    script_node n;
    n.kind = type == "database" ? script_kind::database : script_kind::application;
    read_script(r, n);
    return n;
  }
  if (type == "wait") {
    wait_node n;
    read_wait(r, n);
    return n;
  }
  if (type == "shared_disk") {
    shared_disk_node n;
    read_shared_disk(r, n);
    return n;
  }
  if (type == "drbd") {
    drbd_node n;
    read_drbd(r, n);
    return n;
  }
  // Without a known type the other keys mean nothing: one error, and a placeholder that keeps
  // the indexes of the following nodes.
  if (!type.empty())
    r.error("type", rules::quoted(type) +
                        " is not one of vip, application, database, wait, shared_disk, drbd");
  errors.silence_under(r.key(""));
  return wait_node{};
}

void read_link(toml_reader& r, link_config& l) {
  r.string("self", l.self_address, true);
  r.string("peer", l.peer_address, true);
  r.integer("port", l.port, rules::port, true);
  r.finish();
}

void read_seed_tunables(toml_reader& r, group_config& g) {
  r.span("shared_disk_wait", g.shared_disk_wait, in_s);
  r.boolean("failover_condition", g.failover_condition);
  r.path("failover_condition_script", g.failover_condition_script);
  r.span("failover_condition_wait", g.failover_condition_wait, in_s);
  r.integer("drbd_reconnect_count", g.drbd_reconnect_count, rules::drbd_reconnect_count);
  r.span("drbd_reconnect_interval", g.drbd_reconnect_interval, in_s);
  r.path("common_start", g.common_start);
  r.path("common_stop", g.common_stop);
  r.span("common_start_wait", g.common_start_wait, in_s);
}

// A key holding one of the words (rules::policy_words, say); the enum value of the same index.
template <class Enum, std::size_t N>
void read_word(toml_reader& r, std::string_view k, Enum& out,
               const std::array<std::string_view, N>& words, bool required = false) {
  std::string text;
  r.string(k, text, required);
  const toml::node* n = r.take(k);
  if (!n || !n->is_string()) return;  // missing, or its type error is said
  for (std::size_t i = 0; i < N; ++i)
    if (words[i] == text) {
      out = static_cast<Enum>(i);
      return;
    }
  std::string choices;
  for (std::size_t i = 0; i < N; ++i)
    choices += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + rules::quoted(words[i]);
  r.error(k, rules::quoted(text) + " is not " + choices);
}

void read_process(toml_reader& r, process_monitor& p, read_errors& errors) {
  r.string("name", p.name, true);
  read_word(r, "match", p.match, rules::match_words);
  r.string("pattern", p.pattern, true);
  r.boolean("multi", p.multi);
  r.integer("min", p.min, rules::process_min);
  r.integer("max", p.max, rules::process_max);
  if (errors.covers(r.key("multi"))) {
    // Without a readable multi, min and max cannot be judged.
    errors.silence_under(r.key("min"));
    errors.silence_under(r.key("max"));
  } else if (!p.multi) {
    for (auto [k, v] : {std::pair{"min", p.min}, std::pair{"max", p.max}})
      if (r.has(k) && !errors.covers(r.key(k)))
        r.error(k, std::to_string(v) + " " + std::string(rules::single_process_rule));
  }
  r.boolean("managed", p.managed);
  read_word(r, "on", p.on, rules::expected_on_words);
  r.boolean("recovery", p.recovery);
  r.string("start", p.start);
  r.string("user", p.user);
  r.span("start_time", p.start_time, in_s);
  r.integer("retries", p.retries, rules::monitor_retries);
  r.boolean("reboot_after_failover", p.reboot_after_failover);
}

void read_load(toml_reader& r, load_monitor& l) {
  read_word(r, "resource", l.kind, rules::load_kind_words, true);
  r.integer("limit", l.limit_percent, rules::load_limit, true);
  r.integer("repeat", l.repeat, rules::load_repeat);
  r.span("start_delay", l.start_delay, in_s);
  r.boolean("managed", l.managed);
}

void read_network(toml_reader& r, network_monitor& n) {
  r.string("name", n.name, true);
  r.string("interface", n.interface, true);
  r.string("ip", n.ip);
  r.boolean("managed", n.managed);
}

void read_disk(toml_reader& r, disk_monitor& d) {
  r.string("name", d.name, true);
  r.path("mount_point", d.mount_point, {}, true);
  r.boolean("managed", d.managed);
  r.boolean("unmount_confirm", d.unmount_confirm);
}

// Each table of the array k, read by read(reader, element) into a new element of out.
template <class Monitor, class Read>
void read_monitors(toml_reader& r, std::string_view k, std::vector<Monitor>& out,
                   read_errors& errors, Read read) {
  const toml::array* a = r.array_of_tables(k);
  if (!a) return;
  for (std::size_t i = 0; i < a->size(); ++i) {
    toml_reader mr(*a->get(i)->as_table(), r.key(std::string(k) + "[" + std::to_string(i) + "]"),
                   errors);
    read(mr, out.emplace_back());
    mr.finish();
  }
}

void read_monitor(toml_reader& r, monitor_config& m, read_errors& errors) {
  r.span("period", m.period, in_s);
  read_word(r, "process_policy", m.process_policy, rules::policy_words);
  read_word(r, "network_policy", m.network_policy, rules::policy_words);
  read_monitors(r, "process", m.processes, errors,
                [&errors](toml_reader& pr, process_monitor& p) { read_process(pr, p, errors); });
  read_monitors(r, "load", m.loads, errors, read_load);
  read_monitors(r, "network", m.networks, errors, read_network);
  read_monitors(r, "disk", m.disks, errors, read_disk);
  r.finish();
}

group_config read_group(toml_reader& r, const std::filesystem::path& base_dir,
                        read_errors& errors) {
  group_config g;
  r.name<group_name>("name", g.name, true);
  r.name<node_name>("peer", g.peer_name, true);
  r.path("key_file", g.key_file, base_dir, true);
  std::string mode;
  r.string("mode", mode);
  if (mode == "manual")
    g.mode = failover_mode::manual;
  else if (!mode.empty() && mode != "auto")
    r.error("mode", rules::quoted(mode) + " is not \"auto\" or \"manual\"");
  r.boolean("active_priority", g.active_priority);
  r.span("polling_period", g.polling_period, in_ms);
  r.integer("polling_count", g.polling_count, rules::polling_count);
  r.span("start_window", g.start_window, in_s);
  if (r.has("gateway")) r.string("gateway", g.gateway.emplace());
  r.string("public_interface", g.public_interface, true);
  read_seed_tunables(r, g);
  std::optional<duration> flow_timeout;
  r.span("flow_timeout", flow_timeout, in_s);
  r.span("announce_interval", g.announce_interval, in_s);
  r.span("readiness_interval", g.readiness_interval, in_s);
  if (auto hb = r.table("heartbeat")) read_link(*hb, g.heartbeat.emplace());
  if (auto pub = r.table("public")) {
    read_link(*pub, g.public_net);
  } else if (!r.has("public")) {
    r.error("public", "missing (required): the [group.public] table");
    errors.silence_under(r.key("public."));
  }
  if (const toml::array* flow = r.array_of_tables("flow")) {
    for (std::size_t i = 0; i < flow->size(); ++i) {
      toml_reader fr(*flow->get(i)->as_table(), r.key("flow[" + std::to_string(i) + "]"), errors);
      g.flow.push_back(read_flow_node(fr, g, errors));
      if (!errors.covers(fr.key(""))) fr.finish();
    }
  }
  if (auto m = r.table("monitor")) read_monitor(*m, g.monitor, errors);
  g.flow_timeout = flow_timeout.value_or(default_flow_timeout(g));
  r.finish();
  return g;
}

void read_node(toml_reader& r, node_config& c, const std::filesystem::path& base_dir) {
  r.name<node_name>("name", c.name, true);
  r.path("state_dir", c.state_dir);
  r.path("command_dir", c.command_dir);
  r.string("bus_url", c.bus_url);
  r.path("bus_credentials", c.bus_credentials, base_dir);
  r.path("control_socket_dir", c.control_socket_dir);
  r.path("reboot_command", c.reboot_command);
  r.path("drbdadm", c.drbdadm);
  r.finish();
}

void read_document(const toml::table& doc, const std::filesystem::path& base_dir, node_config& c,
                   read_errors& errors) {
  toml_reader top(doc, "", errors);
  if (auto node = top.table("node")) {
    read_node(*node, c, base_dir);
  } else if (!top.has("node")) {
    top.error("node", "missing (required): the [node] table");
    errors.silence_under("node.");
  }
  if (auto m = top.table("manager")) {
    m->boolean("enabled", c.manager.enabled);
    m->string("address", c.manager.address);
    m->integer("port", c.manager.port, rules::port);
    m->finish();
  }
  if (auto l = top.table("log")) {
    l->boolean("enabled", c.log.enabled);
    l->integer("size_mb", c.log.size_mb, rules::log_size_mb);
    l->finish();
  }
  if (const toml::array* groups = top.array_of_tables("group")) {
    for (std::size_t i = 0; i < groups->size(); ++i) {
      toml_reader gr(*groups->get(i)->as_table(), "group[" + std::to_string(i) + "]", errors);
      c.groups.push_back(read_group(gr, base_dir, errors));
    }
  } else if (top.has("group")) {
    errors.silence_under("group");
  }
  top.finish();
}

}  // namespace

load_result parse(std::string_view toml_text, const std::filesystem::path& base_dir,
                  file_checks files) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    std::string where = "line " + std::to_string(at.line) + ", column " + std::to_string(at.column);
    return {std::nullopt, {{where, std::string(e.description())}}};
  }
  node_config c;
  read_errors errors;
  read_document(doc, base_dir, c, errors);
  for (auto& e : validate(c, files))
    if (!errors.covers(e.key)) errors.list().push_back(std::move(e));
  if (!errors.list().empty()) return {std::nullopt, std::move(errors.list())};
  return {std::move(c), {}};
}

load_result load_file(const std::filesystem::path& file, file_checks files) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    std::string why =
        std::filesystem::exists(file, ec) ? "is not a regular file" : "does not exist";
    return {std::nullopt, {{"file", rules::quoted(file.string()) + " " + why}}};
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    return {std::nullopt,
            {{"file", rules::quoted(file.string()) + " cannot be read: " + std::strerror(errno)}}};
  }
  auto base = std::filesystem::absolute(file, ec).parent_path();
  return parse(text.str(), base, files);
}

}  // namespace hasys::config
