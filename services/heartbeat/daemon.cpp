// The heartbeat daemon's wiring: groups on the fast executor, bus and files on the slow one,
// and the hops between them.
#include "daemon.hpp"

#include "command_files.hpp"
#include "config_files.hpp"
#include "executor_link.hpp"
#include "group_runner.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/config/remote_edit.hpp>
#include <hasys/proto/config_messages.hpp>
#include <hasys/events/outbox.hpp>
#include <hasys/daemon/boot_id.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>
#include <hasys/proto/registration_messages.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace hasys::heartbeat {

namespace {

cluster::params params_of(const config::node_config& node, const config::group_config& g,
                          std::uint64_t boot_id) {
  cluster::params p;
  p.self_name = node.name;
  p.peer_name = g.peer_name;
  p.period = g.polling_period;
  p.count = g.polling_count;
  p.active_priority = g.active_priority;
  p.start_window = g.start_window;
  p.initial_mode = g.mode == config::failover_mode::manual ? cluster::failover_mode::manual
                                                           : cluster::failover_mode::automatic;
  p.gateway_configured = g.gateway.has_value();
  p.boot_id = boot_id;
  p.flow_timeout = g.flow_timeout;
  return p;
}

std::string event_line(const proto::event_msg& e) {
  return e.group + " " + std::string(cluster::to_string(e.level)) + " " + e.code + ": " + e.text;
}

}  // namespace

struct heartbeat_daemon::impl final : group_output {
  asio::io_context& slow;
  asio::io_context& fast;
  config::node_config cfg;
  daemon_options opts;
  daemon::logger log;
  std::uint64_t boot_id = 0;
  std::vector<std::unique_ptr<group_runner>> groups;
  std::unique_ptr<executor_link> executor;
  std::unique_ptr<command_files> files;
  std::optional<bus::connection> bus;
  events::outbox events;  // kept until the node's EVENTS stream has them: none is lost (E5)

  impl(asio::io_context& s, asio::io_context& f, const config::node_config& c, daemon_options o)
      : slow(s), fast(f), cfg(c), opts(o), log(s.get_executor()), events(events::outbox::options{"heartbeat", std::uint64_t{cfg.log.size_mb} << 20, 65536, [this](const std::string& s) { log.warning(s); }}) {
    fs::create_directories(cfg.state_dir);
    boot_id = daemon::next_boot_id(cfg.state_dir / "heartbeat.boot");
    std::uint16_t ident = static_cast<std::uint16_t>(::getpid() * 16);
    for (const auto& g : cfg.groups) {
      auto key = config::read_key_file(g.key_file);
      if (!key.error.empty()) throw std::runtime_error(key.error);
      group_setup s;
      s.group = g.name;
      s.node = cfg.name;
      s.params = params_of(cfg, g, boot_id);
      s.key = std::move(key.key);
      if (g.heartbeat) s.heartbeat_net = group_setup::link{g.heartbeat->self_address, g.heartbeat->peer_address, g.heartbeat->port};
      s.public_net = {g.public_net.self_address, g.public_net.peer_address, g.public_net.port};
      s.gateway = g.gateway;
      s.peer_boot_floor = daemon::read_number(peer_boot_file(g.name));
      s.epoch = daemon::read_number(epoch_file(g.name));
      s.standalone = opts.standalone;
      s.icmp_ident = ident++;
      groups.push_back(std::make_unique<group_runner>(fast.get_executor(), std::move(s), *this));
    }
    if (!opts.standalone)
      executor = std::make_unique<executor_link>(
          fast.get_executor(), cfg.control_socket_dir / "executor.sock",
          [this](const proto::observed_state& o) {
            if (auto* g = find(o.group)) g->observed(o);
          },
          [this] {
            for (auto& g : groups) executor->send(g->desired());
            log.info("executor connected");
          },
          [this] {
            for (auto& g : groups) g->executor_gone();
            log.warning("executor connection lost (it stopped or restarts)");
          });
    for (auto& g : groups)
      g->executor_bad_messages = [this] { return executor ? executor->bad_messages() : 0; };
    if (!opts.config_file.empty()) conf.emplace(opts.config_file, cfg.state_dir / "config-history");
    std::vector<std::string> names;
    for (auto& g : groups) names.push_back(g->name());
    files = std::make_unique<command_files>(
        slow.get_executor(), cfg.command_dir, names,
        [this](const std::string& group, cluster::command_kind k, const std::string& file) {
          run_file_command(group, k, file);
        },
        [this](const std::string& file) { log.warning("removed a stale command file at start: " + file); });
  }

  fs::path peer_boot_file(const std::string& group) const {
    return cfg.state_dir / "peers" / (group + ".boot");
  }
  fs::path epoch_file(const std::string& group) const { return cfg.state_dir / (group + ".epoch"); }

  group_runner* find(std::string_view name) {
    for (auto& g : groups)
      if (g->name() == name) return g.get();
    return nullptr;
  }

  // ---- group_output: called on the fast thread ----
  void event(proto::event_msg e) override {
    asio::post(slow, [this, e = std::move(e)]() mutable {
      tag_with_action(e);
      log.info("event " + event_line(e));
      events.raise(e);
    });
  }

  // An operator action from the manager (issue 11): the group's events within 30 s after it
  // was accepted carry its id, so its audit entry links to the role changes it caused. A newer
  // action replaces it. Slow thread only.
  struct recent_action {
    std::string id;
    std::chrono::steady_clock::time_point until;
  };
  std::map<std::string, recent_action> actions;
  void tag_with_action(proto::event_msg& e) {
    auto it = actions.find(e.group);
    if (it == actions.end()) return;
    if (std::chrono::steady_clock::now() > it->second.until) {
      actions.erase(it);
      return;
    }
    e.details.emplace("action_id", it->second.id);
  }
  void status(proto::status_msg s) override {
    asio::post(slow, [this, s = std::move(s)] {
      if (bus) bus->publish("hasys." + s.group + "." + s.node + ".status", proto::to_json(s));
    });
  }
  void desired(const proto::desired_state& d) override {
    if (executor) executor->send(d);
  }
  void peer_boot(const std::string& group, std::uint64_t id) override {
    persist(peer_boot_file(group), id, "the peer's boot id");
  }
  void epoch(const std::string& group, std::uint64_t e) override { persist(epoch_file(group), e, "the epoch"); }
  // D13: the executor runs the node's reboot command; asked over the bus, from the slow thread.
  void reboot(const std::string& group, const std::string& reason) override {
    asio::post(slow.get_executor(), [this, group, reason] {
      daemon::spawn_or_die(slow.get_executor(), ask_reboot(group, reason), "reboot request");
    });
  }
  asio::awaitable<void> ask_reboot(std::string group, std::string reason) {
    if (!bus) {
      log.error("D13: cannot ask for the reboot after failover: the bus is not open");
      co_return;
    }
    // Named, not built inside the co_await expression (GCC 12 destroys such temporaries twice).
    const proto::reboot_request rq{1, group, reason};
    std::string subject = "hasys." + group + "." + cfg.name + ".exec.reboot";
    std::string body = proto::to_json(rq);
    auto r = co_await bus->request(std::move(subject), std::move(body), std::chrono::seconds(10));
    if (!r) log.error("D13: hasys-executor did not take the reboot request: " + r.error().message());
  }
  // Written on the slow thread: the fast path never waits for the disk.
  void persist(fs::path file, std::uint64_t value, std::string what) {
    asio::post(slow, [this, file = std::move(file), value, what = std::move(what)] {
      try {
        daemon::write_number(file, value);
      } catch (const std::exception& e) {
        log.warning("cannot persist " + what + ": " + e.what());
      }
    });
  }

  // Runs f(group_runner&) on the fast thread and resumes the caller with its result. f's captures
  // must be trivially destructible: a closure owning a message (strings) was freed twice when the
  // spawned coroutine frame ended (GCC 12, seen as "free(): invalid pointer"); post those instead.
  template <class F>
  asio::awaitable<std::invoke_result_t<F, group_runner&>> on_fast(group_runner& g, F f) {
    static_assert(std::is_trivially_destructible_v<F>, "post work that owns data to the fast executor");
    co_return co_await asio::co_spawn(
        fast.get_executor(),
        [&g, f = std::move(f)]() -> asio::awaitable<std::invoke_result_t<F, group_runner&>> { co_return f(g); },
        asio::use_awaitable);
  }

  void operator_event(group_runner& g, cluster::command_kind k, const std::string& origin,
                      const cluster::command_reply& r, const std::string& user = {}) {
    proto::event_msg e{proto::unix_ms_now(), g.name(), cfg.name, "heartbeat",
                       r.accepted ? cluster::severity::information : cluster::severity::warning,
                       "operator_command",
                       "Operator command " + std::string(r.accepted ? "accepted" : "refused") + " [" +
                           std::string(cluster::to_string(k)) + " from " + origin + ": " + r.text + "]",
                       {{"command", std::string(cluster::to_string(k))}, {"origin", origin}}};
    if (!user.empty()) e.details.emplace("user", user);
    event(std::move(e));
  }

  void run_file_command(const std::string& group, cluster::command_kind k, const std::string& file) {
    for (auto& g : groups) {
      if (!group.empty() && g->name() != group) continue;
      daemon::spawn_or_die(
          slow.get_executor(),
          [](impl* self, group_runner* gr, cluster::command_kind kind, std::string f) -> asio::awaitable<void> {
            auto r = co_await self->on_fast(*gr, [kind](group_runner& x) { return x.command(kind); });
            self->operator_event(*gr, kind, "file " + f, r);
          }(this, g.get(), k, file),
          "command file");
    }
  }

  // ---- bus side (slow thread) ----
  asio::awaitable<void> serve_commands(group_runner& g, bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      const auto dot = m->subject.rfind('.');
      const std::string verb = m->subject.substr(dot + 1);
      std::string reply;
      if (verb == "status") {
        reply = co_await on_fast(g, [](group_runner& x) { return proto::to_json(x.status()); });
      } else if (verb.starts_with("config_")) {
        std::string data = m->data, what = verb;
        reply = co_await config_command(g, std::move(what), std::move(data));
      } else if (auto kind = cluster::command_from_string(verb)) {
        auto req = proto::from_json<proto::command_request>(m->data);
        const std::string origin = req && !req->origin.empty() ? req->origin : "bus";
        if (req && req->dry_run) {
          // The manager's preview: the role machine's answer, nothing changed, no event.
          auto [r, after] = co_await on_fast(g, [k = *kind](group_runner& x) { return x.preview(k); });
          reply = proto::to_json(proto::command_reply{r.accepted, r.text, true, std::string(cluster::to_string(after))});
        } else {
          // The id first: the events the command causes come after its acceptance.
          const std::string action_id = req ? req->action_id.substr(0, 64) : "";
          if (!action_id.empty()) actions[g.name()] = {action_id, std::chrono::steady_clock::now() + std::chrono::seconds(30)};
          auto r = co_await on_fast(g, [k = *kind](group_runner& x) { return x.command(k); });
          if (!r.accepted && !action_id.empty()) actions.erase(g.name());
          operator_event(g, *kind, origin, r, req ? req->user : "");
          reply = proto::to_json(proto::command_reply{r.accepted, r.text});
        }
      } else {
        reply = proto::to_json(proto::command_reply{false, "unknown command \"" + verb + "\""});
      }
      if (!m->reply.empty()) bus->respond(*m, reply);
    }
  }

  // ---- remote configuration (issue 11; proto/config_messages.hpp) ----
  // A change is checked whole against the file on disk and held (prepare), then written and
  // applied (commit) — two steps, so "apply the same to the peer server" writes both or neither.
  std::optional<config_files> conf;
  struct prepared_change {
    std::string action_id, user, base_version, text;
    std::vector<std::string> keys;
    config::node_config next;
    bool changed = false;
    std::chrono::steady_clock::time_point until;
  };
  std::map<std::string, prepared_change> prepared;  // by group

  static proto::config_change_reply refused(std::string text) {
    proto::config_change_reply r;
    r.text = std::move(text);
    return r;
  }
  static std::string file_errors(const std::vector<config::config_error>& errors) {
    std::string out = "the file on the node is not valid:";
    for (std::size_t i = 0; i < errors.size() && i < 5; ++i) out += " " + errors[i].to_string() + ";";
    return out;
  }

  asio::awaitable<std::string> config_command(group_runner& g, std::string verb, std::string data) {
    if (!conf) co_return proto::to_json(refused("remote configuration is off: the daemon was not given its file"));
    try {
      if (verb == "config_get") co_return proto::to_json(config_get(g.name()));
      if (verb == "config_prepare") {
        auto rq = proto::from_json<proto::config_change_request>(data);
        if (!rq) co_return proto::to_json(refused("a change request that cannot be read: " + rq.error().message()));
        co_return proto::to_json(config_prepare(g.name(), *rq));
      }
      auto act = proto::from_json<proto::config_action>(data);
      if (!act) co_return proto::to_json(refused("a request that cannot be read: " + act.error().message()));
      if (verb == "config_abort") {
        auto it = prepared.find(g.name());
        if (it != prepared.end() && it->second.action_id == act->action_id) prepared.erase(it);
        proto::config_change_reply r;
        r.ok = true;
        r.text = "nothing is held for this change any more";
        co_return proto::to_json(r);
      }
      // Arguments named, not made inside the co_await expression (GCC 12 frees those twice).
      proto::config_action request = *act;
      if (verb == "config_commit") {
        auto r = co_await config_commit(g, std::move(request));
        co_return proto::to_json(r);
      }
      if (verb == "config_restore") {
        auto r = co_await config_restore(g, std::move(request));
        co_return proto::to_json(r);
      }
      co_return proto::to_json(refused("unknown configuration request \"" + verb + "\""));
    } catch (const std::exception& e) {
      log.error("remote configuration: " + std::string(e.what()));
      co_return proto::to_json(refused(e.what()));
    }
  }

  proto::config_state config_get(const std::string& group) {
    proto::config_state s;
    s.group = group;
    s.node = cfg.name;
    s.file = conf->file().string();
    auto cur = conf->read();
    s.version = cur.version;
    s.history = conf->history();
    if (!cur.parsed.config) {
      s.text = file_errors(cur.parsed.errors);
      return s;
    }
    auto both = boost::json::parse(config::group_settings_json(*cur.parsed.config, group));
    s.settings = both.at("settings");
    s.fixed = both.at("fixed");
    s.ok = true;
    return s;
  }

  proto::config_change_reply config_prepare(const std::string& group, const proto::config_change_request& rq) {
    const auto now = std::chrono::steady_clock::now();
    if (auto it = prepared.find(group);
        it != prepared.end() && it->second.until > now && it->second.action_id != rq.action_id)
      return refused("another change (" + it->second.action_id + " by " + it->second.user +
                     ") is being applied to this group; try again in a moment");
    auto cur = conf->read();
    if (!cur.parsed.config) return refused(file_errors(cur.parsed.errors));
    if (!rq.expected_version.empty() && rq.expected_version != cur.version)
      return refused("the configuration changed on the node since it was read (version " + rq.expected_version +
                     ", now " + cur.version + "): read it again");
    if (!rq.changes.is_object()) return refused("changes: expected an object of settings");
    auto edit = config::edit_group(*cur.parsed.config, group, boost::json::serialize(rq.changes));
    proto::config_change_reply r;
    r.previous_version = cur.version;
    if (!edit.errors.empty()) {
      for (auto& e : edit.errors) r.errors.push_back({e.key, e.message});
      r.text = std::to_string(r.errors.size()) + " setting(s) refused; nothing changed";
      return r;
    }
    r.ok = true;
    r.changed = edit.changed;
    r.version = proto::config_version_of(edit.text);
    r.text = edit.changed ? "checked: ready to be written" : "no difference from the file on the node";
    prepared_change p{rq.action_id, rq.user, cur.version, std::move(edit.text), {}, std::move(*edit.config),
                      edit.changed, now + std::chrono::seconds(60)};
    for (const auto& [k, v] : rq.changes.as_object()) p.keys.emplace_back(k);
    prepared[group] = std::move(p);
    return r;
  }

  asio::awaitable<proto::config_change_reply> config_commit(group_runner& g, proto::config_action act) {
    auto it = prepared.find(g.name());
    if (it == prepared.end() || it->second.action_id != act.action_id)
      co_return refused("no change " + act.action_id + " is held here (never checked, or the daemon restarted)");
    auto p = std::move(it->second);
    prepared.erase(it);
    if (std::chrono::steady_clock::now() > p.until) co_return refused("the change expired 60 s after it was checked");
    auto cur = conf->read();
    if (cur.version != p.base_version)
      co_return refused("the file changed on the node since the change was checked (now " + cur.version + ")");
    proto::config_change_reply r;
    r.ok = true;
    r.previous_version = cur.version;
    r.version = cur.version;
    if (!p.changed) {
      r.text = "no difference: nothing written";
      co_return r;
    }
    conf->replace(cur.text, p.text);
    r.changed = true;
    r.version = proto::config_version_of(p.text);
    std::string keys;
    for (const auto& k : p.keys) keys += (keys.empty() ? "" : ", ") + k;
    std::string id = act.action_id;
    r.daemons = co_await apply_config(std::move(p.next), std::move(id));
    r.text = "written (previous version " + r.previous_version + " kept)";
    config_event(g.name(), "config_changed",
                 "Configuration changed [" + keys + " by " + (p.user.empty() ? std::string("operator") : p.user) +
                     ": version " + r.previous_version + " -> " + r.version + "]",
                 act.action_id, r);
    co_return r;
  }

  asio::awaitable<proto::config_change_reply> config_restore(group_runner& g, proto::config_action act) {
    auto text = conf->find(act.version);
    if (!text) co_return refused("version " + act.version + " is not among the versions kept on the node");
    auto parsed = conf->parse(*text);
    if (!parsed.config) co_return refused("version " + act.version + " is no longer valid here: " + file_errors(parsed.errors));
    auto cur = conf->read();
    proto::config_change_reply r;
    r.ok = true;
    r.previous_version = cur.version;
    r.version = act.version;
    if (cur.version == act.version) {
      r.text = "already the version on the node";
      co_return r;
    }
    prepared.erase(g.name());
    conf->replace(cur.text, *text);
    r.changed = true;
    std::string id = act.action_id;
    r.daemons = co_await apply_config(std::move(*parsed.config), std::move(id));
    r.text = "version " + act.version + " restored (version " + cur.version + " kept)";
    config_event(g.name(), "config_restored",
                 "Configuration restored [version " + act.version + " by " +
                     (act.user.empty() ? std::string("operator") : act.user) + ", replacing " + cur.version + "]",
                 act.action_id, r);
    co_return r;
  }

  void config_event(const std::string& group, std::string code, std::string text, const std::string& action_id,
                    const proto::config_change_reply& r) {
    proto::event_msg e{proto::unix_ms_now(), group, cfg.name, "heartbeat", cluster::severity::information,
                       std::move(code), std::move(text),
                       {{"version", r.version}, {"previous_version", r.previous_version}}};
    for (const auto& d : r.daemons)
      if (d.status != "applied" && d.status != "unchanged") e.details.emplace(d.daemon, d.status + ": " + d.text);
    if (!action_id.empty()) actions[group] = {action_id.substr(0, 64), std::chrono::steady_clock::now() + std::chrono::seconds(30)};
    event(std::move(e));
  }

  // The new configuration taken: the heartbeat's own settings live on the fast thread (the role
  // kept), then hasys-monitor and hasys-executor asked to apply the file (each answers how).
  asio::awaitable<std::vector<proto::config_daemon_outcome>> apply_config(config::node_config next,
                                                                          std::string action_id) {
    std::vector<proto::config_daemon_outcome> out;
    std::string mine;
    for (const auto& ng : next.groups) {
      auto* runner = find(ng.name);
      const config::group_config* old = nullptr;
      for (const auto& og : cfg.groups)
        if (og.name == ng.name) old = &og;
      if (!runner || !old) continue;
      std::optional<cluster::failover_mode> mode;
      if (ng.mode != old->mode)
        mode = ng.mode == config::failover_mode::manual ? cluster::failover_mode::manual : cluster::failover_mode::automatic;
      if (ng.polling_period != old->polling_period || ng.polling_count != old->polling_count ||
          ng.active_priority != old->active_priority || ng.flow_timeout != old->flow_timeout || mode) {
        asio::post(fast, [runner, p = params_of(next, ng, boot_id), mode] { runner->reconfigure(p, mode); });
        mine += (mine.empty() ? "" : "; ") + ng.name + ": period " + config::duration_text(ng.polling_period) +
                " x " + std::to_string(ng.polling_count) + (mode ? std::string(", mode ") + (ng.mode == config::failover_mode::manual ? "manual" : "auto") : "");
      }
    }
    cfg = std::move(next);
    out.push_back({1, "heartbeat", mine.empty() ? "unchanged" : "applied", mine.empty() ? "nothing of its own changed" : mine});
    register_groups("config");
    const proto::config_apply_request rq{1, "", action_id};
    for (const char* d : {"monitor", "executor"}) {
      if (std::string_view(d) == "executor" && opts.standalone) {
        out.push_back({1, d, "unchanged", "standalone: no executor"});
        continue;
      }
      proto::config_daemon_outcome o{1, d, "no answer", "the bus is not open: it reads the new file when it starts"};
      if (bus) {
        std::string subject = proto::config_apply_subject(cfg.name, d);
        std::string body = proto::to_json(rq);
        auto r = co_await bus->request(std::move(subject), std::move(body), std::chrono::seconds(3));
        if (!r) {
          o.text = r.error().message() + ": it reads the new file when it starts";
        } else if (auto x = proto::from_json<proto::config_daemon_outcome>(r->data)) {
          o = *x;
        } else {
          o.text = "an answer that cannot be read";
        }
      }
      out.push_back(std::move(o));
    }
    // The marker goes only once every daemon has answered: one that did not (the bus down, the
    // daemon busy) may still run the previous file, and is asked again until it answers.
    const bool all_told = std::none_of(out.begin(), out.end(), [](const auto& o) { return o.status == "no answer"; });
    if (all_told) conf->applied();
    else if (!passing_on) daemon::spawn_or_die(slow.get_executor(), pass_on_until_told(), "configuration");
    co_return out;
  }

  // A change not yet passed on to every daemon — a commit cut short by a restart of this daemon
  // (the file written, the others not yet told), or a daemon that did not answer: they are asked
  // again every 5 s until each has answered; each compares the file with what it runs.
  bool passing_on = false;
  asio::awaitable<void> pass_on_until_told() {
    passing_on = true;
    log.warning("remote configuration: the last change is not yet passed on to every daemon: telling "
                "hasys-monitor and hasys-executor");
    while (conf->applying()) {
      config::node_config same = cfg;
      std::string no_action;  // named: no temporary inside the co_await (GCC 12)
      auto outcomes = co_await apply_config(std::move(same), std::move(no_action));
      for (const auto& o : outcomes) log.info("remote configuration: " + o.daemon + " " + o.status + ": " + o.text);
      if (!conf->applying()) break;
      asio::steady_timer wait(slow.get_executor(), std::chrono::seconds(5));
      co_await wait.async_wait(asio::use_awaitable);
    }
    passing_on = false;
  }

  // hasys-monitor's verdicts (issue 9): parsed here, fed on the fast thread. A message that does
  // not parse is counted and logged (once per 100), never guessed at.
  asio::awaitable<void> follow_health(group_runner& g, bus::subscription sub) {
    std::uint64_t bad = 0;
    while (auto m = co_await sub.next()) {
      auto h = proto::from_json<proto::health_msg>(m->data);
      if (!h || h->group != g.name() || h->node != cfg.name) {
        if (bad++ % 100 == 0) log.warning("a health message that cannot be used on " + m->subject + " (" +
                                          std::to_string(bad) + " so far)");
        continue;
      }
      // A plain post (in order, no result wanted): not a coroutine lambda owning the message.
      asio::post(fast.get_executor(), [&g, msg = std::move(*h)] { g.health(msg); });
    }
  }

  // hasys.<group>.<node>.metrics.heartbeat every 10 s (issue 8): the figures are read on the fast
  // thread, serialised and published here, on the slow one.
  asio::awaitable<void> metrics_loop() {
    asio::steady_timer every(slow.get_executor());
    for (;;) {
      every.expires_after(std::chrono::seconds(10));
      co_await every.async_wait(asio::use_awaitable);
      if (!bus) continue;
      for (auto& g : groups) {
        auto s = co_await on_fast(*g, [](group_runner& x) { return x.status(); });
        proto::heartbeat_metrics_msg m{s.group, s.node, s.time_unix_ms, s.period_ms, s.count, s.jitter,
                                       s.heartbeat_link, s.public_link, s.dropped};
        bus->publish("hasys." + s.group + "." + s.node + ".metrics.heartbeat", proto::to_json(m));
      }
    }
  }

  // M4 (issue 11): each group registered with the manager at start, every 5 minutes, and at once
  // when the manager says hello (it started or came back). Published on the node's bus; the
  // leaf link carries it to the hub, which lets the node speak only in its own name.
  void register_groups(const std::string& reason) {
    if (!bus) return;
    for (const auto& g : cfg.groups) {
      proto::registration_msg m;
      m.group = g.name;
      m.node = cfg.name;
      m.peer = g.peer_name;
      m.public_address = g.public_net.self_address;
      m.heartbeat_address = g.heartbeat ? g.heartbeat->self_address : "";
      for (const auto& n : g.flow)
        if (const auto* v = std::get_if<config::vip_node>(&n)) m.virtual_ips.push_back(v->ip);
      m.version = HASYS_VERSION;
      m.protocol = proto::schema_version;
      m.boot_id = boot_id;
      m.time_unix_ms = proto::unix_ms_now();
      m.reason = reason;
      bus->publish(proto::registration_subject(g.name, cfg.name), proto::to_json(m));
    }
  }
  asio::awaitable<void> registration_loop(bus::subscription hello) {
    using namespace asio::experimental::awaitable_operators;
    register_groups("start");
    asio::steady_timer every(slow.get_executor());
    for (;;) {
      every.expires_after(std::chrono::minutes(5));
      auto r = co_await (hello.next() || every.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (r.index() == 0) {
        if (!std::get<0>(r)) co_return;  // the bus closed
        register_groups("hello");
      } else {
        register_groups("periodic");
      }
    }
  }

  asio::awaitable<void> bus_loop() {
    auto o = bus::node_options(cfg.bus_url, cfg.bus_credentials, "hasys-heartbeat@" + cfg.name);
    bus = co_await bus::connection::open(slow.get_executor(), std::move(o));
    events.attach(*bus);
    daemon::spawn_or_die(slow.get_executor(), registration_loop(bus->subscribe(std::string(proto::hello_subject))),
                         "registration");
    if (conf && conf->applying())
      daemon::spawn_or_die(slow.get_executor(), pass_on_until_told(), "configuration");
    for (auto& g : groups) {
      daemon::spawn_or_die(slow.get_executor(),
                           serve_commands(*g, bus->subscribe("hasys." + g->name() + "." + cfg.name + ".cmd.*")),
                           "command service");
      daemon::spawn_or_die(slow.get_executor(),
                           follow_health(*g, bus->subscribe(proto::health_subject(g->name(), cfg.name))),
                           "health");
    }
    for (;;) {
      auto e = co_await bus->next_event();
      switch (e) {
        case bus::conn_event::connected: log.info("bus connected"); break;
        case bus::conn_event::reconnected: log.info("bus reconnected"); break;
        case bus::conn_event::disconnected: log.warning("bus disconnected"); break;
        case bus::conn_event::closed: log.warning("bus closed"); co_return;
      }
    }
  }

  void start() {
    log.info("hasys-heartbeat starting: node " + cfg.name + ", " + std::to_string(groups.size()) +
             " group(s), boot id " + std::to_string(boot_id) + (opts.standalone ? ", standalone" : ""));
    for (const auto& w : config::advise(cfg)) log.warning("configuration: " + w.to_string());
    asio::post(fast, [this] {
      for (auto& g : groups) g->start();
      if (executor) {
        // A restarted executor must hear the desired state well inside one VIP lease (issue 7).
        auto retry = std::chrono::nanoseconds(std::chrono::milliseconds(50));
        if (!groups.empty())
          retry = std::min(retry, std::chrono::nanoseconds(cfg.groups.front().polling_period));
        daemon::spawn_or_die(fast.get_executor(), executor->run(retry), "executor link");
      }
    });
    daemon::spawn_or_die(slow.get_executor(), files->run(), "command files");
    daemon::spawn_or_die(slow.get_executor(), bus_loop(), "bus");
    daemon::spawn_or_die(slow.get_executor(), metrics_loop(), "metrics");
  }
};

heartbeat_daemon::heartbeat_daemon(asio::io_context& slow, asio::io_context& fast,
                                   const config::node_config& cfg, daemon_options opts)
    : impl_(std::make_unique<impl>(slow, fast, cfg, opts)) {}

heartbeat_daemon::~heartbeat_daemon() = default;

void heartbeat_daemon::start() { impl_->start(); }

}  // namespace hasys::heartbeat
