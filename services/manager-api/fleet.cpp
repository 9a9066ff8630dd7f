// The live state of the fleet (see fleet.hpp).
#include "fleet.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

namespace json = boost::json;

namespace hasys::manager {

namespace {

// hasys.<group>.<node>.<kind>: the group and node tokens, or nothing.
bool split_subject(std::string_view subject, std::string_view kind, std::string& group,
                   std::string& node) {
  if (!subject.starts_with("hasys.")) return false;
  subject.remove_prefix(6);
  const auto dot1 = subject.find('.');
  if (dot1 == std::string_view::npos) return false;
  const auto dot2 = subject.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || subject.substr(dot2 + 1) != kind) return false;
  group = subject.substr(0, dot1);
  node = subject.substr(dot1 + 1, dot2 - dot1 - 1);
  return !group.empty() && !node.empty();
}

const json::value* field(const json::object& o, std::string_view key) { return o.if_contains(key); }

json::value copy_or_null(const json::object& o, std::string_view key) {
  const auto* v = field(o, key);
  return v ? *v : json::value(nullptr);
}

std::int64_t age_ms(std::chrono::steady_clock::time_point at,
                    std::chrono::steady_clock::time_point now) {
  if (at == std::chrono::steady_clock::time_point{}) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count();
}

}  // namespace

bool fleet::in_scope(const std::vector<std::string>& scope, const std::string& group) {
  return std::any_of(scope.begin(), scope.end(),
                     [&](const std::string& s) { return s == "*" || s == group; });
}

std::string fleet::on_status(std::string_view subject, std::string_view data, clock::time_point now,
                             std::int64_t unix_ms) {
  std::string group, node;
  if (!split_subject(subject, "status", group, node))
    return refuse("not a status subject: " + std::string(subject));
  boost::system::error_code ec;
  auto v = json::parse(data, ec);
  if (ec || !v.is_object()) return refuse("a status of " + node + " that is not a JSON object");
  auto& o = v.as_object();
  const auto* vv = field(o, "v");
  if (!vv || !vv->is_int64()) return refuse("a status of " + node + " without a version");
  // A status names its own group and node; the hub lets a node speak only in its own name, so a
  // mismatch is a broken sender.
  const auto* g = field(o, "group");
  const auto* n = field(o, "node");
  if (!g || !n || !g->is_string() || !n->is_string() || g->as_string() != group ||
      n->as_string() != node)
    return refuse("a status on " + std::string(subject) + " that names another group or node");
  auto [slot, fresh] = nodes_.try_emplace({group, node});
  auto& s = slot->second;
  if (fresh) s.id = nodes_.size() - 1;
  // A node seen entering the Active role counts as a failover of its group (M8 history).
  const auto* role = field(o, "role");
  const bool now_active = role && role->is_string() && role->as_string() == "active";
  const auto* before = field(s.status, "role");
  const bool was_active = before && before->is_string() && before->as_string() == "active";
  if (now_active && !was_active && !s.status.empty()) ++failovers_[group];
  s.group = group;
  s.node = node;
  s.version = vv->as_int64();
  s.status = std::move(o);
  s.status_at = now;
  s.status_unix_ms = unix_ms;
  s.change = ++change_;
  return {};
}

std::string fleet::on_metrics(std::string_view subject, std::string_view data,
                              clock::time_point now, std::int64_t unix_ms) {
  std::string group, node;
  if (!split_subject(subject, "metrics", group, node))
    return refuse("not a metrics subject: " + std::string(subject));
  boost::system::error_code ec;
  auto v = json::parse(data, ec);
  if (ec || !v.is_object()) return refuse("metrics of " + node + " that are not a JSON object");
  auto [slot, fresh] = nodes_.try_emplace({group, node});
  auto& s = slot->second;
  if (fresh) s.id = nodes_.size() - 1;
  s.group = group;
  s.node = node;
  auto percent = [&](std::string_view key) {
    const auto* p = field(v.as_object(), key);
    return p && p->is_number() ? p->to_number<double>() : -1.0;
  };
  s.history.push_back({unix_ms, percent("cpu_percent"), percent("memory_percent")});
  while (!s.history.empty() && unix_ms - s.history.front().unix_ms > 90'000) s.history.pop_front();
  s.metrics = std::move(v.as_object());
  s.metrics_at = now;
  s.metrics_unix_ms = unix_ms;
  s.change = ++change_;
  return {};
}

json::object fleet::node_view(const node_state& n, clock::time_point now, bool full) const {
  json::object o;
  o["node"] = n.node;
  o["protocol_version"] = n.version;
  o["status_age_ms"] = age_ms(n.status_at, now);
  o["metrics_age_ms"] = age_ms(n.metrics_at, now);
  o["status_unix_ms"] = n.status_unix_ms;
  o["metrics_unix_ms"] = n.metrics_unix_ms;
  o["stale"] = n.status_at == clock::time_point{} || now - n.status_at > stale_after;
  const auto& s = n.status;
  if (n.version != 1 && n.version != 0) {
    // Another protocol: shown as such, its fields not interpreted.
    o["role"] = "unknown";
    o["note"] = "protocol version " + std::to_string(n.version) + " (this manager speaks 1)";
  } else {
    for (auto key : {"role", "mode", "epoch", "healthy", "held", "role_for_ms", "time_unix_ms"})
      o[key] = copy_or_null(s, key);
    const auto* peer = field(s, "peer");
    o["peer"] = peer ? *peer : json::value(nullptr);
    const auto* links = field(s, "links");
    o["links"] = links ? *links : json::value(nullptr);
    const auto* gw = field(s, "gateway");
    o["gateway"] = gw ? *gw : json::value(nullptr);
    const auto* flow = field(s, "flow");
    o["flow"] = flow ? *flow : json::value(nullptr);
    const auto* health = field(s, "health");
    o["health"] = health ? *health : json::value(nullptr);
  }
  const auto& m = n.metrics;
  for (auto key : {"cpu_percent", "memory_percent", "processes_total", "interfaces"})
    o[key] = copy_or_null(m, key);
  if (!full) return o;
  for (auto key : {"filesystems", "facts"}) o[key] = copy_or_null(m, key);
  json::array h;
  for (const auto& x : n.history)
    h.push_back(json::array{
        x.unix_ms, x.cpu_percent < 0 ? json::value(nullptr) : json::value(x.cpu_percent),
        x.memory_percent < 0 ? json::value(nullptr) : json::value(x.memory_percent)});
  o["history"] = std::move(h);
  return o;
}

json::object fleet::group_view(const std::string& name, clock::time_point now, bool full) const {
  json::object g;
  g["name"] = name;
  json::array nodes;
  int active = 0;
  for (auto it = nodes_.lower_bound({name, ""}); it != nodes_.end() && it->first.first == name;
       ++it) {
    auto v = node_view(it->second, now, full);
    if (!v["stale"].as_bool() && v["role"] == "active") ++active;
    nodes.push_back(std::move(v));
  }
  // Both nodes claim the Active role (or both believe the other is): the UI shows a banner.
  g["roles_disagree"] = active > 1;
  g["active_count"] = active;
  g["nodes"] = std::move(nodes);
  return g;
}

json::array fleet::groups(const std::vector<std::string>& scope, clock::time_point now) const {
  json::array out;
  std::string last;
  for (const auto& [key, n] : nodes_) {
    if (key.first == last || !in_scope(scope, key.first)) continue;
    last = key.first;
    out.push_back(group_view(key.first, now, false));
  }
  return out;
}

void fleet::prometheus(std::string& out, clock::time_point now) const {
  auto label = [](const std::string& v) {
    std::string o;
    for (char c : v) {
      if (c == '\\' || c == '"') o += '\\';
      if (c == '\n') {
        o += "\\n";
        continue;
      }
      o += c;
    }
    return o;
  };
  std::size_t stale = 0;
  std::map<std::string, int> active;
  std::string roles, stales, links_up;
  for (const auto& [key, n] : nodes_) {
    const bool is_stale = n.status_at == clock::time_point{} || now - n.status_at > stale_after;
    stale += is_stale;
    const auto* role = field(n.status, "role");
    const std::string r = role && role->is_string() ? std::string(role->as_string()) : "unknown";
    const std::string l = "group=\"" + label(key.first) + "\",node=\"" + label(key.second) + "\"";
    if (!is_stale && r == "active") ++active[key.first];
    active.try_emplace(key.first, 0);
    roles += "hasys_node_role{" + l + ",role=\"" + label(r) + "\"} 1\n";
    stales += "hasys_node_stale{" + l + "} " + std::to_string(is_stale ? 1 : 0) + "\n";
    if (const auto* links = field(n.status, "links"); links && links->is_object())
      for (const auto& [name, link] : links->as_object()) {
        if (!link.is_object()) continue;
        const auto* up = link.as_object().if_contains("up");
        const auto* configured = link.as_object().if_contains("configured");
        if (configured && configured->is_bool() && !configured->as_bool()) continue;
        links_up += "hasys_node_link_up{" + l + ",link=\"" + label(std::string(name)) + "\"} " +
                    (up && up->is_bool() && up->as_bool() ? "1" : "0") + "\n";
      }
  }
  out += "# HELP hasys_groups HA groups heard.\n# TYPE hasys_groups gauge\nhasys_groups " +
         std::to_string(active.size()) + "\n";
  out += "# HELP hasys_nodes Servers heard; stale: no status for 5 s.\n# TYPE hasys_nodes gauge\n";
  out += "hasys_nodes " + std::to_string(nodes_.size()) + "\n";
  out += "# TYPE hasys_nodes_stale gauge\nhasys_nodes_stale " + std::to_string(stale) + "\n";
  out +=
      "# HELP hasys_group_active_nodes Fresh nodes in the Active role (1 is right).\n"
      "# TYPE hasys_group_active_nodes gauge\n";
  for (const auto& [g, n] : active)
    out += "hasys_group_active_nodes{group=\"" + label(g) + "\"} " + std::to_string(n) + "\n";
  out +=
      "# HELP hasys_group_failovers_total Nodes seen entering the Active role.\n"
      "# TYPE hasys_group_failovers_total counter\n";
  for (const auto& [g, n] : failovers_)
    out += "hasys_group_failovers_total{group=\"" + label(g) + "\"} " + std::to_string(n) + "\n";
  out +=
      "# HELP hasys_node_role Each node's role (1 for the role it is in).\n"
      "# TYPE hasys_node_role gauge\n" +
      roles;
  out += "# TYPE hasys_node_stale gauge\n" + stales;
  out +=
      "# HELP hasys_node_link_up Heartbeat and public links as each node sees them.\n"
      "# TYPE hasys_node_link_up gauge\n" +
      links_up;
  out +=
      "# HELP hasys_manager_refused_messages_total Status messages refused.\n"
      "# TYPE hasys_manager_refused_messages_total counter\n"
      "hasys_manager_refused_messages_total " +
      std::to_string(refused_) + "\n";
}

void fleet::sweep(clock::time_point now) {
  for (auto& [key, n] : nodes_) {
    const bool stale = n.status_at == clock::time_point{} || now - n.status_at > stale_after;
    if (stale && !n.swept_stale) n.change = ++change_;
    n.swept_stale = stale;
  }
}

std::vector<std::pair<std::string, std::uint64_t>> fleet::changes(
    const std::vector<std::string>& scope) const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const auto& [key, n] : nodes_) {
    if (!in_scope(scope, key.first)) continue;
    if (out.empty() || out.back().first != key.first)
      out.emplace_back(key.first, n.change);
    else
      out.back().second = std::max(out.back().second, n.change);
  }
  return out;
}

json::value fleet::group(const std::string& name, const std::vector<std::string>& scope,
                         clock::time_point now) const {
  if (!in_scope(scope, name)) return nullptr;
  auto it = nodes_.lower_bound({name, ""});
  if (it == nodes_.end() || it->first.first != name) return nullptr;
  return group_view(name, now, true);
}

json::value fleet::group_summary(const std::string& name, clock::time_point now) const {
  auto it = nodes_.lower_bound({name, ""});
  if (it == nodes_.end() || it->first.first != name) return nullptr;
  return group_view(name, now, false);
}

json::object fleet::node_row(const std::string& group, const std::string& node,
                             clock::time_point now) const {
  json::object o{{"group", group}, {"node", node}};
  auto it = nodes_.find({group, node});
  if (it == nodes_.end()) return o;
  const auto& n = it->second;
  const auto& s = n.status;
  o["protocol_version"] = n.version;
  o["stale"] = n.status_at == clock::time_point{} || now - n.status_at > stale_after;
  o["status_unix_ms"] = n.status_unix_ms;
  const bool known = n.version == 1;
  o["role"] = known ? copy_or_null(s, "role") : json::value("unknown");
  for (auto key : {"mode", "epoch", "healthy", "held", "time_unix_ms"})
    o[key] = known ? copy_or_null(s, key) : json::value(nullptr);
  auto sub_bool = [&](std::string_view a, std::string_view b) -> json::value {
    const auto* x = field(s, a);
    if (!known || !x || !x->is_object()) return nullptr;
    const auto* y = x->as_object().if_contains(b);
    return y && y->is_bool() ? json::value(y->as_bool()) : json::value(nullptr);
  };
  o["peer_alive"] = sub_bool("peer", "alive");
  o["gateway_ok"] = sub_bool("gateway", "ok");
  json::value hb = nullptr, pub = nullptr;
  if (const auto* links = field(s, "links"); known && links && links->is_object()) {
    auto up = [&](std::string_view l) -> json::value {
      const auto* x = links->as_object().if_contains(l);
      if (!x || !x->is_object()) return nullptr;
      const auto* c = x->as_object().if_contains("configured");
      if (c && c->is_bool() && !c->as_bool()) return nullptr;
      const auto* u = x->as_object().if_contains("up");
      return u && u->is_bool() ? json::value(u->as_bool()) : json::value(nullptr);
    };
    hb = up("heartbeat");
    pub = up("public");
  }
  o["heartbeat_up"] = hb;
  o["public_up"] = pub;
  const auto& m = n.metrics;
  for (auto key : {"cpu_percent", "memory_percent", "processes_total"})
    o[key] = copy_or_null(m, key);
  double rx = 0, tx = 0;
  bool any = false;
  if (const auto* ifs = field(m, "interfaces"); ifs && ifs->is_array())
    for (const auto& i : ifs->as_array()) {
      if (!i.is_object() || i.as_object().if_contains("name") == nullptr || i.at("name") == "lo")
        continue;
      const auto* r = i.as_object().if_contains("rx_bytes_per_s");
      const auto* t = i.as_object().if_contains("tx_bytes_per_s");
      if (r && r->is_number()) rx += r->to_number<double>(), any = true;
      if (t && t->is_number()) tx += t->to_number<double>(), any = true;
    }
  o["rx_bytes_per_s"] = any ? json::value(static_cast<std::int64_t>(rx)) : json::value(nullptr);
  o["tx_bytes_per_s"] = any ? json::value(static_cast<std::int64_t>(tx)) : json::value(nullptr);
  return o;
}

}  // namespace hasys::manager
