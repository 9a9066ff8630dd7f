// Remote configuration: the editable part of a group as JSON, and a JSON change applied to the
// file's TOML tree, then parsed and validated whole like any file (same rules, same messages).
#include <hasys/config/remote_edit.hpp>

#include "rules.hpp"

#include <toml++/toml.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <sstream>

namespace hasys::config {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 19> editable{"mode",
                                                    "active_priority",
                                                    "polling_period",
                                                    "polling_count",
                                                    "start_window",
                                                    "flow_timeout",
                                                    "announce_interval",
                                                    "readiness_interval",
                                                    "shared_disk_wait",
                                                    "failover_condition",
                                                    "failover_condition_script",
                                                    "failover_condition_wait",
                                                    "drbd_reconnect_count",
                                                    "drbd_reconnect_interval",
                                                    "common_start",
                                                    "common_start_wait",
                                                    "common_stop",
                                                    "flow",
                                                    "monitor"};

constexpr std::array<std::string_view, 7> fixed{
    "name", "peer", "key_file", "gateway", "public_interface", "heartbeat", "public"};

bool is_editable(std::string_view k) {
  return std::find(editable.begin(), editable.end(), k) != editable.end();
}

json::value to_json(const toml::node& n) {
  if (const auto* t = n.as_table()) {
    json::object o;
    for (const auto& [k, v] : *t) o[std::string(k.str())] = to_json(v);
    return o;
  }
  if (const auto* a = n.as_array()) {
    json::array out;
    for (const auto& v : *a) out.push_back(to_json(v));
    return out;
  }
  if (const auto* s = n.as_string()) return json::string(s->get());
  if (const auto* i = n.as_integer()) return i->get();
  if (const auto* b = n.as_boolean()) return b->get();
  if (const auto* f = n.as_floating_point()) return f->get();
  return nullptr;  // dates and times: no key of the file has them
}

// A JSON value as a TOML node; nullptr (and a message) for what TOML cannot hold.
std::unique_ptr<toml::node> to_toml_node(const json::value& v, std::string& why) {
  switch (v.kind()) {
    case json::kind::object: {
      auto t = std::make_unique<toml::table>();
      for (const auto& [k, x] : v.get_object()) {
        if (x.is_null()) continue;
        auto n = to_toml_node(x, why);
        if (!n) return nullptr;
        t->insert_or_assign(std::string(k), std::move(*n));
      }
      return t;
    }
    case json::kind::array: {
      auto a = std::make_unique<toml::array>();
      for (const auto& x : v.get_array()) {
        if (x.is_null()) {
          why = "null inside a list";
          return nullptr;
        }
        auto n = to_toml_node(x, why);
        if (!n) return nullptr;
        a->push_back(std::move(*n));
      }
      return a;
    }
    case json::kind::string:
      return std::make_unique<toml::value<std::string>>(std::string(v.get_string()));
    case json::kind::int64:
      return std::make_unique<toml::value<std::int64_t>>(v.get_int64());
    case json::kind::uint64:
      if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) {
        why = "a number too large";
        return nullptr;
      }
      return std::make_unique<toml::value<std::int64_t>>(static_cast<std::int64_t>(v.get_uint64()));
    case json::kind::double_: {
      // 3.0 from a JavaScript client is the integer 3; a fraction stays a float (and is then
      // refused by the key's own rule with its own message).
      const double d = v.get_double();
      if (d == static_cast<double>(static_cast<std::int64_t>(d)))
        return std::make_unique<toml::value<std::int64_t>>(static_cast<std::int64_t>(d));
      return std::make_unique<toml::value<double>>(d);
    }
    case json::kind::bool_:
      return std::make_unique<toml::value<bool>>(v.get_bool());
    case json::kind::null:
      break;
  }
  why = "null";
  return nullptr;
}

// The group's table in the parsed text of to_toml(cfg), and its index.
struct located {
  toml::table* table = nullptr;
  std::size_t index = 0;
};
located find_group(toml::table& root, std::string_view group) {
  auto* groups = root["group"].as_array();
  if (!groups) return {};
  for (std::size_t i = 0; i < groups->size(); ++i) {
    auto* t = groups->get(i)->as_table();
    if (t && t->get_as<std::string>("name") && t->get_as<std::string>("name")->get() == group)
      return {t, i};
  }
  return {};
}

}  // namespace

std::span<const std::string_view> editable_keys() { return editable; }

std::string duration_text(duration d) { return rules::format_duration(d); }

std::string group_settings_json(const node_config& cfg, std::string_view group) {
  auto root = toml::parse(to_toml(cfg));
  auto g = find_group(root, group);
  if (!g.table) return {};
  json::object settings, facts;
  for (const auto& [k, v] : *g.table) {
    const std::string key(k.str());
    if (is_editable(key))
      settings[key] = to_json(v);
    else
      facts[key] = to_json(v);
  }
  // Keys absent from the file text read as their defaults: said as such, so a form shows them.
  if (!settings.contains("flow")) settings["flow"] = json::array();
  if (!settings.contains("monitor"))  // monitor_config{}
    settings["monitor"] =
        json::object{{"period", "1s"}, {"process_policy", "one"}, {"network_policy", "one"}};
  for (const auto* k : {"common_start", "common_stop", "failover_condition_script"})
    if (!settings.contains(k)) settings[k] = "";
  facts["node"] = cfg.name;
  json::array vips;
  for (const auto& gc : cfg.groups)
    if (gc.name == group)
      for (const auto& n : gc.flow)
        if (const auto* v = std::get_if<vip_node>(&n)) vips.push_back(json::string(v->ip));
  facts["virtual_ips"] = std::move(vips);
  return json::serialize(
      json::object{{"settings", std::move(settings)}, {"fixed", std::move(facts)}});
}

edit_outcome edit_group(const node_config& current, std::string_view group,
                        std::string_view changes_json) {
  edit_outcome out;
  const std::string before = to_toml(current);
  auto root = toml::parse(before);
  auto g = find_group(root, group);
  if (!g.table) {
    out.errors.push_back({"group", "\"" + std::string(group) + "\" is not a group of this node"});
    return out;
  }
  json::error_code ec;
  auto changes = json::parse(changes_json, ec);
  if (ec || !changes.is_object()) {
    out.errors.push_back(
        {"changes", ec ? "not JSON: " + ec.message() : "expected a JSON object of settings"});
    return out;
  }
  for (const auto& [k, v] : changes.get_object()) {
    const std::string key(k);
    if (!is_editable(key)) {
      const bool known = std::find(fixed.begin(), fixed.end(), key) != fixed.end();
      out.errors.push_back({key, known ? "read-only from the manager: set it in the node's file"
                                       : "unknown key: not a setting of a group"});
      continue;
    }
    // An empty path or an empty text means "none", as the form shows it.
    const bool empty_text = v.is_string() && v.get_string().empty();
    if (v.is_null() || empty_text) {
      g.table->erase(key);
      continue;
    }
    std::string why;
    auto node = to_toml_node(v, why);
    if (!node) {
      out.errors.push_back({key, "cannot be " + why});
      continue;
    }
    g.table->insert_or_assign(key, std::move(*node));
  }
  if (!out.errors.empty()) return out;
  std::ostringstream text;
  text << root;
  auto parsed = parse(text.str());
  const std::string prefix = "group[" + std::to_string(g.index) + "].";
  for (auto& e : parsed.errors) {
    if (e.key.starts_with(prefix)) e.key = e.key.substr(prefix.size());
    out.errors.push_back(std::move(e));
  }
  if (!out.errors.empty()) return out;
  out.text = to_toml(*parsed.config);
  out.changed = out.text != before;
  out.config = std::move(parsed.config);
  return out;
}

}  // namespace hasys::config
