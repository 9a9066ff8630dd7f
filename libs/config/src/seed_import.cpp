// SPEC M11: the seed's hasys_variable_opt.sh -> a validated node_config, with notes on every guess.
#include "rules.hpp"
#include "seed_lines.hpp"

#include <algorithm>
#include <map>

namespace hasys::config {

namespace {

// Seed variables with no place in hasys, and why.
constexpr std::pair<std::string_view, std::string_view> ignored_variables[] = {
    {"HM_SCKS", "the node reaches the manager through its local bus's leaf connection"},
    {"HM_SCKR", "the node reaches the manager through its local bus's leaf connection"},
    {"HB_WEB_REPT_PORT", "events travel to the manager as bus subjects, not to a socket port"},
    {"HB_WEB_SMSP_PORT", "events for ITSM systems are bus subjects, not a socket port"},
    {"HB_WEB_SERVER_REMOTE", "the manager address alone says where the manager runs"},
};

class importer {
 public:
  importer(const seed_lines& lines, import_result& out) : out_(out) {
    for (const auto& b : lines.broken) broken_.push_back(b.name);
    for (const auto& a : lines.assignments) {
      if (auto it = values_.find(a.name); it != values_.end())
        out_.notes.push_back(a.name + " is set twice (lines " + std::to_string(it->second.line) +
                             " and " + std::to_string(a.line) + "): the last value is used");
      values_[a.name] = a;
    }
  }

  // The value of a variable, marking it used and the TOML key it fills; nullopt if not set or
  // not usable (an error is then recorded).
  std::optional<std::string> value(const std::string& name, const std::string& key) {
    key_of_[key] = name;
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    used_.push_back(name);
    if (it->second.expands) {
      error(name, rules::quoted(it->second.value) +
                      " uses shell expansion, which the import does not evaluate");
      return std::nullopt;
    }
    return it->second.value;
  }
  bool has(const std::string& name) const { return values_.count(name) != 0; }

  void error(std::string key, std::string message) {
    out_.errors.push_back({std::move(key), std::move(message)});
  }
  void note(std::string text) { out_.notes.push_back(std::move(text)); }
  void defaulted(const std::string& name, const std::string& key, const std::string& value) {
    note(name + " not set: " + key + " = " + value + " (the seed's default)");
  }

  // Reports a missing variable unless its line was already reported as broken.
  void expect(const std::string& name, std::string_view why = "missing (required)") {
    if (!has(name) && std::find(broken_.begin(), broken_.end(), name) == broken_.end())
      error(name, std::string(why));
  }
  std::optional<std::string> required(const std::string& name, const std::string& key) {
    expect(name);
    return value(name, key);
  }

  std::optional<std::int64_t> number(const std::string& name, const std::string& key) {
    auto v = value(name, key);
    if (!v) return std::nullopt;
    if (v->empty() || v->size() > 9 || v->find_first_not_of("0123456789") != std::string::npos) {
      error(name, rules::quoted(*v) + " is not a whole number");
      return std::nullopt;
    }
    return std::stoll(*v);
  }

  void seconds(const std::string& name, const std::string& key, duration& out) {
    if (!has(name)) return defaulted(name, key, rules::quoted(rules::format_duration(out)));
    if (auto n = number(name, key)) out = std::chrono::seconds(*n);
  }

  template <class Int>
  void count(const std::string& name, const std::string& key, Int& out, rules::int_range range) {
    if (!has(name)) return defaulted(name, key, std::to_string(out));
    auto n = number(name, key);
    if (!n) return;
    if (!range.contains(*n))
      return error(name, std::to_string(*n) + " is out of range " + range.text());
    out = static_cast<Int>(*n);
  }

  void yes_no(const std::string& name, const std::string& key, bool& out) {
    if (!has(name)) return defaulted(name, key, out ? "true" : "false");
    auto v = value(name, key);
    if (!v) return;
    if (*v == "Y" || *v == "y" || *v == "YES" || *v == "yes" || *v == "Yes")
      out = true;
    else if (*v == "N" || *v == "n" || *v == "NO" || *v == "no" || *v == "No")
      out = false;
    else
      error(name, rules::quoted(*v) + " is not Y or N");
  }

  // Errors of validate() are keyed by TOML path: name the seed variable instead where one filled
  // it, and drop those that repeat an error of the import itself.
  void add_validation_errors(std::vector<config_error> errors) {
    std::size_t own = out_.errors.size();
    for (auto& e : errors) {
      if (auto it = key_of_.find(e.key); it != key_of_.end()) e.key = it->second;
      bool repeats =
          std::any_of(out_.errors.begin(), out_.errors.begin() + static_cast<std::ptrdiff_t>(own),
                      [&](const config_error& x) { return x.key == e.key; }) ||
          std::find(broken_.begin(), broken_.end(), e.key) != broken_.end();
      if (!repeats) out_.errors.push_back(std::move(e));
    }
  }

  void note_unused() {
    std::vector<const seed_assignment*> unused;
    for (const auto& [name, a] : values_)
      if (std::find(used_.begin(), used_.end(), name) == used_.end()) unused.push_back(&a);
    std::sort(unused.begin(), unused.end(), [](auto* x, auto* y) { return x->line < y->line; });
    for (const auto* a : unused) {
      std::string why = "not a setting hasys knows";
      for (const auto& [ignored, reason] : ignored_variables)
        if (ignored == a->name) why = reason;
      note(a->name + " (line " + std::to_string(a->line) + ") ignored: " + why);
    }
  }

 private:
  import_result& out_;
  std::map<std::string, seed_assignment> values_;
  std::vector<std::string> used_;
  std::vector<std::string> broken_;
  std::map<std::string, std::string> key_of_;
};

template <class Name>
void read_name(importer& im, const std::string& var, const std::string& key, std::string& out) {
  auto v = im.required(var, key);
  if (!v) return;
  if (auto why = Name::problem(*v))
    im.error(var, *why);
  else
    out = *v;
}

void read_link(importer& im, const std::string& self_var, const std::string& peer_var,
               const std::string& port_var, std::uint16_t default_port, const std::string& key,
               link_config& l) {
  im.expect(self_var, "missing (required with " + peer_var + ")");
  im.expect(peer_var, "missing (required with " + self_var + ")");
  l.self_address = im.value(self_var, key + ".self").value_or("");
  l.peer_address = im.value(peer_var, key + ".peer").value_or("");
  l.port = default_port;
  im.count(port_var, key + ".port", l.port, rules::port);
}

void read_networks(importer& im, node_config& c, group_config& g) {
  read_link(im, "HB_TCPG", "HB_TCPG1", "HB_SCKG", 29955, "group[0].public", g.public_net);
  if (im.has("HB_TCPH") || im.has("HB_TCPH1")) {
    read_link(im, "HB_TCPH", "HB_TCPH1", "HB_SCKH", 29954, "group[0].heartbeat",
              g.heartbeat.emplace());
  } else {
    im.note(
        "no heartbeat network (HB_TCPH/HB_TCPH1 not set): the peers talk over the public "
        "network only");
  }
  if (im.has("HB_GATEWAYIP"))
    g.gateway = im.value("HB_GATEWAYIP", "group[0].gateway");
  else
    im.note(
        "HB_GATEWAYIP not set: no gateway check (D2); a public network failure cannot be "
        "told from a dead peer");
  im.yes_no("HB_WEB_SERVER_USE", "manager.enabled", c.manager.enabled);
  c.manager.address = im.value("HB_WEB_SERVER_IP", "manager.address").value_or("");
  if (c.manager.enabled)
    im.note("manager.port = " + std::to_string(c.manager.port) +
            " (the manager hub's leaf-node port; no seed variable)");
}

void read_tunables(importer& im, node_config& c, group_config& g,
                   const std::filesystem::path& dir) {
  im.yes_no("HB_LOG_MANAGEMENT", "log.enabled", c.log.enabled);
  im.count("HB_LOG_SIZE", "log.size_mb", c.log.size_mb, rules::log_size_mb);
  im.seconds("SHARED_DISK_MANAGEMENT_WAIT_TIME", "group[0].shared_disk_wait", g.shared_disk_wait);
  im.yes_no("FAILOVER_CONDITION_MANAGEMENT", "group[0].failover_condition", g.failover_condition);
  im.seconds("FCONDITION_WTIME", "group[0].failover_condition_wait", g.failover_condition_wait);
  im.count("DSYNC_RECONNECT_RCNT", "group[0].drbd_reconnect_count", g.drbd_reconnect_count,
           rules::drbd_reconnect_count);
  im.seconds("DSYNC_RECONNECT_WTIME", "group[0].drbd_reconnect_interval",
             g.drbd_reconnect_interval);
  im.seconds("HA_APP_COMSRT_WT", "group[0].common_start_wait", g.common_start_wait);
  if (g.failover_condition) {
    g.failover_condition_script = dir / "HA_APP_FCONDITION";
    im.note("FAILOVER_CONDITION_MANAGEMENT=Y: group[0].failover_condition_script = " +
            rules::quoted(g.failover_condition_script.string()) +
            " (put the seed's HA_APP_FCONDITION there, executable)");
  }
  im.note(
      "group[0].common_start not set: the seed ran HA_APP_COMSRT at every start; set "
      "common_start = " +
      rules::quoted((dir / "HA_APP_COMSRT").string()) + " if that script does real work");
}

void note_defaults(importer& im, const node_config& c, const group_config& g) {
  im.note("group[0].peer = " + rules::quoted(g.peer_name) +
          ": the seed file does not name the other server; set it to the peer's HB_SYSN");
  im.note("group[0].public_interface = " + rules::quoted(g.public_interface) +
          ": the seed file does not name the interface holding HB_TCPG; correct it");
  im.note("group[0].mode = \"auto\", active_priority = false, polling_period = " +
          rules::quoted(rules::format_duration(g.polling_period)) +
          ", polling_count = " + std::to_string(g.polling_count) +
          ": the seed keeps these in its agent settings, not in this file");
  im.note(
      "group[0].flow is empty: the resource flow (virtual IP, disks, applications) is not in "
      "this file; add [[group.flow]] entries");
  im.note("node.state_dir, command_dir, bus_url and control_socket_dir keep their defaults (" +
          c.state_dir.string() + ", " + c.command_dir.string() + ", " + c.bus_url + ", " +
          c.control_socket_dir.string() + ")");
}

}  // namespace

import_result import_seed_variables(std::string_view sh_text, const std::filesystem::path& key_file,
                                    const std::filesystem::path& script_dir) {
  import_result out;
  seed_lines lines = read_seed_lines(sh_text);
  for (const auto& b : lines.broken)
    out.errors.push_back({"line " + std::to_string(b.line), b.message});
  for (const auto& [line, text] : lines.skipped)
    out.notes.push_back("line " + std::to_string(line) +
                        " ignored (not a variable assignment): " + rules::quoted(text));

  importer im(lines, out);
  node_config c;
  group_config& g = c.groups.emplace_back();
  read_name<node_name>(im, "HB_SYSN", "node.name", c.name);
  read_name<group_name>(im, "HB_GRPN", "group[0].name", g.name);
  g.peer_name = c.name == "peer" ? "peer-node" : "peer";
  g.key_file = key_file;
  g.public_interface = "eth0";
  read_networks(im, c, g);
  read_tunables(im, c, g, script_dir);
  note_defaults(im, c, g);
  im.note_unused();
  im.add_validation_errors(validate(c));
  if (out.errors.empty()) out.config = std::move(c);
  return out;
}

}  // namespace hasys::config
