// Wiring of the executor: control server -> group shells -> control server; events and exec.*
// requests on the bus (the bus is never on the failover path); signals for an orderly stop.
#include "executor_daemon.hpp"

#include "address_system.hpp"
#include "control_server.hpp"
#include "group_shell.hpp"
#include "journal_store.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/events/outbox.hpp>
#include <hasys/daemon/boot_id.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/flow/flow_machine.hpp>
#include <hasys/daemon/spawn.hpp>
#include <hasys/proto/config_messages.hpp>
#include <hasys/proto/monitor_messages.hpp>
#include <hasys/sys/process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <fstream>
#include <set>

namespace asio = boost::asio;

namespace hasys::executor {

namespace {

std::string kernel_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace

struct executor_daemon::impl final : event_sink {
  asio::io_context& ioc;
  config::node_config cfg;
  daemon_options opts;
  daemon::logger log;
  executor_lanes lanes;
  fault_plan faults;
  std::unique_ptr<address_system> addresses;
  std::unique_ptr<resource_services> services;
  std::vector<std::unique_ptr<group_shell>> groups;
  std::unique_ptr<control_server> control;
  std::optional<bus::connection> bus;
  events::outbox events;  // kept until the node's EVENTS stream has them: none is lost (E5)
  asio::signal_set signals;
  int signals_seen = 0;

  impl(asio::io_context& i, const config::node_config& c, daemon_options o)
      : ioc(i), cfg(c), opts(std::move(o)), log(i.get_executor()), faults(opts.faults_file),
        events(events::outbox::options{"executor", std::uint64_t{cfg.log.size_mb} << 20, 65536,
                                       [this](const std::string& s) { log.warning(s); }}),
        signals(i, SIGINT, SIGTERM) {
    addresses = opts.simulate ? make_simulated_addresses(lanes, faults, cfg.state_dir / "executor" / "simulated-kernel.json")
                              : make_kernel_addresses(lanes, faults);
    services = std::make_unique<resource_services>(resource_services{*addresses, lanes, faults, cfg.drbdadm});
    const auto boot = kernel_boot_id();
    keep_running_flows(boot);
    for (const auto& g : cfg.groups) {
      groups.push_back(std::make_unique<group_shell>(ioc.get_executor(), cfg, g, *this, *services, opts.simulate, boot,
                                                     [this](const proto::observed_state& s) { send(s); }));
      groups.back()->on_stopped = [this] { maybe_exit(); };
    }
    control = std::make_unique<control_server>(
        ioc.get_executor(), cfg.control_socket_dir / "executor.sock",
        control_server::handlers{
            [this](const proto::desired_state& d) {
              auto* g = find(d.group);
              if (g) g->desired(d);
              return g != nullptr;
            },
            [this] { log.info("hasys-heartbeat connected"); },
            [this](const std::string& why) {
              log.warning(why);
              for (auto& g : groups) g->heartbeat_lost(why);
            }});
  }

  group_shell* find(std::string_view name) {
    for (auto& g : groups)
      if (g->name() == name) return g.get();
    return nullptr;
  }

  // Every answer carries the process's own counters: dropped errors and bad messages are visible.
  proto::observed_state with_counters(proto::observed_state s) const {
    if (auto n = control->bad_messages()) s.counters["bad_control_messages"] = n;
    if (auto n = control->send_failures()) s.counters["report_send_failures"] = n;
    if (auto n = events.dropped()) s.counters["events_dropped"] = n;
    return s;
  }
  void send(const proto::observed_state& s) {
    control->send(with_counters(s));
    if (!pending.empty() && !restarting) asio::post(ioc, [this] { maybe_restart_for_config(); });
  }

  // A flow is never changed under resources it started — not even across a restart of this
  // daemon while such a change waits: the configuration it runs is kept in the state folder, and
  // a group that still holds resources started by it (its journal says so, this machine boot)
  // keeps that flow; the file's new one waits as `pending`, taken once the group holds nothing.
  std::filesystem::path running_file() const { return cfg.state_dir / "executor" / "running.toml"; }
  void keep_running_flows(const std::string& boot) {
    if (opts.config_file.empty()) return;
    if (std::filesystem::exists(running_file())) {
      // Read as the copy it is: a script of that flow deleted since (the new flow no longer
      // names it) must not lose the flow that started what runs (file checks off).
      auto running = config::load_file(running_file(), config::file_checks::off);
      if (!running.config) {
        log.warning("the configuration last run cannot be read again (" + running.errors.front().to_string() +
                    "): the file's flows are used");
      } else {
        for (auto& g : cfg.groups) {
          const config::group_config* was = nullptr;
          for (const auto& x : running.config->groups)
            if (x.name == g.name) was = &x;
          if (!was || same_flow_settings(*was, g)) continue;
          const auto j = read_journal(cfg.state_dir / "executor" / (g.name + ".json"));
          if (!flow::journal_may_hold(j, boot)) continue;
          auto keep = *was;
          keep.monitor = g.monitor;
          g = std::move(keep);
          pending.insert(g.name);
          log.warning("group " + g.name + ": still holds resources of the flow it ran; the configuration file's new flow waits until it holds nothing");
        }
      }
    }
    try {
      daemon::write_file_atomically(running_file(), config::to_toml(cfg), 0600);
    } catch (const std::exception& e) {
      log.warning(std::string("cannot keep the configuration it runs: ") + e.what());
    }
  }

  // ---- a new configuration (issue 11) ----
  // Process monitors' start commands are read from cfg at each request: taken at once. A group
  // whose flow settings changed needs a new flow machine: the executor starts itself again (the
  // ordinary restart, adopting what runs) — but only once each such group holds nothing on this
  // node: a flow is never changed under resources it started (its journal counts its nodes).
  std::set<std::string> pending;  // groups waiting to hold nothing
  bool restarting = false;
  bool restart_wanted = false;

  // Equal but for what the executor does not use: the monitors (taken live) and the
  // heartbeat's own settings (mode, priority, polling, its wait for a flow run).
  static bool same_flow_settings(config::group_config a, const config::group_config& b) {
    a.monitor = b.monitor;
    a.mode = b.mode;
    a.active_priority = b.active_priority;
    a.polling_period = b.polling_period;
    a.polling_count = b.polling_count;
    a.start_window = b.start_window;
    a.flow_timeout = b.flow_timeout;
    return a == b;
  }

  proto::config_daemon_outcome take_config(const config::load_result& loaded) {
    proto::config_daemon_outcome o{1, "executor", "unchanged", "its settings did not change"};
    if (!loaded.config) {
      o.status = "failed";
      o.text = "the file is not valid here: " + loaded.errors.front().to_string();
      return o;
    }
    const auto& next = *loaded.config;
    bool monitors = false;
    std::set<std::string> changed;
    for (auto& g : cfg.groups) {
      const config::group_config* n = nullptr;
      for (const auto& x : next.groups)
        if (x.name == g.name) n = &x;
      if (!n) continue;  // groups come and go only with a restart of the node's services
      if (!(g.monitor == n->monitor)) {
        g.monitor = n->monitor;  // in place: the restart service holds a reference to g
        monitors = true;
      }
      if (!same_flow_settings(g, *n)) changed.insert(g.name);
    }
    pending = changed;
    if (changed.empty()) {
      if (monitors) o = {1, "executor", "applied", "process monitors' start commands taken"};
      return o;
    }
    std::string held;
    for (const auto& name : changed)
      if (auto* g = find(name); g && g->observed().holding) held += (held.empty() ? "" : ", ") + name;
    if (held.empty()) {
      o = {1, "executor", "restarting", "starts again with the new flow; what runs is adopted"};
    } else {
      o = {1, "executor", "pending",
           "the new flow takes over once " + held +
               " holds nothing on this node (after a failover or a stop): a flow is never changed under running resources"};
      for (const auto& name : changed)
        event(name, cluster::severity::information, "config_pending",
              "Configuration change waits for the resources to be released [" + o.text + "]", {});
    }
    return o;
  }

  void maybe_restart_for_config() {
    if (pending.empty() || restarting) return;
    for (const auto& name : pending)
      if (auto* g = find(name); g && g->observed().holding) return;
    restarting = true;
    daemon::spawn_or_die(ioc.get_executor(), restart_for_config(), "restart for a new configuration");
  }

  asio::awaitable<void> restart_for_config() {
    restarting = true;
    log.info("configuration changed: starting again with the new file once the work in progress is done");
    for (const auto& name : pending)
      event(name, cluster::severity::information, "config_flow_taken",
            "Executor starts again to take the new flow", {});
    if (!co_await events.drain(std::chrono::seconds(2))) log.warning("events not yet stored before the restart");
    if (bus) co_await bus->flush(std::chrono::seconds(2));
    restart_wanted = true;
    ++signals_seen;  // the orderly stop: finish what runs, keep what is up
    for (auto& g : groups) g->stop(false);
    maybe_exit();
  }

  asio::awaitable<void> serve_config(bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      // The file is read and checked (scripts, users: file system and NSS) on a lane, never on
      // this thread, which refreshes the leases.
      auto read = [file = opts.config_file] { return config::load_file(file); };
      auto loaded = co_await lanes.disk.run(std::move(read), std::chrono::seconds(10));
      proto::config_daemon_outcome o{1, "executor", "restarting", "already starting again"};
      if (!loaded)
        o = {1, "executor", "failed", "the file could not be read within 10 s"};
      else if (!restarting)
        o = take_config(*loaded);
      if (!m->reply.empty() && bus) bus->respond(*m, proto::to_json(o));
      if (o.status == "restarting" && !restarting) {
        restarting = true;
        daemon::spawn_or_die(ioc.get_executor(), restart_for_config(), "restart for a new configuration");
      }
    }
  }

  void event(const std::string& group, cluster::severity level, std::string code, std::string text,
             std::map<std::string, std::string> details) override {
    proto::event_msg e{proto::unix_ms_now(), group, cfg.name, "executor", level, std::move(code),
                       std::move(text), std::move(details)};
    std::string line = "event " + group + " " + std::string(cluster::to_string(level)) + " " + e.code + ": " + e.text;
    for (const auto& [k, v] : e.details)
      if (k != "output") line += " " + k + "=\"" + v + "\"";
    log.info(line);
    events.raise(e);
  }

  // hasys.<group>.<node>.exec.<verb>: common_start, common_stop (menu items 6 and 7), status.
  asio::awaitable<void> serve(group_shell& g, bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      const std::string verb = m->subject.substr(m->subject.rfind('.') + 1);
      proto::command_reply reply{false, "unknown request \"" + verb + "\""};
      if (verb == "common_start" || verb == "common_stop") {
        auto r = co_await g.common_program(verb == "common_start");
        reply = {r.ok, r.detail};
      } else if (verb == "status") {
        reply = {true, proto::to_json(with_counters(g.observed()))};
      } else if (verb == "reboot") {  // D13, from the heartbeat daemon
        auto rq = proto::from_json<proto::reboot_request>(m->data);
        if (!rq || rq->group != g.name()) {
          reply = {false, "a reboot request that cannot be read"};
        } else {
          reply = co_await reboot(rq->group, rq->reason);
        }
      } else if (verb == "drbd_reconnect") {  // D11 manual reconnect: hasysctl drbd reconnect
        const config::group_config* gc = nullptr;
        for (const auto& x : cfg.groups)
          if (x.name == g.name()) gc = &x;
        std::vector<std::string> resources;
        for (const auto& n : gc->flow)
          if (const auto* d = std::get_if<config::drbd_node>(&n)) resources.push_back(d->resource);
        reply = {!resources.empty(), resources.empty() ? "no drbd node in the flow" : ""};
        for (auto& res : resources) {
          std::string origin = "operator";
          std::string resource = res;
          auto r = co_await drbd_connect(*gc, std::move(resource), std::move(origin));
          reply.accepted = reply.accepted && r.ok;
          reply.text += (reply.text.empty() ? "" : "; ") + res + ": " + r.detail;
        }
      } else if (verb == "ready") {  // issue 9: hasysctl ready
        auto r = co_await g.readiness(true);
        std::string text = r.summary;
        for (const auto& c : r.checks) text += "\n  " + std::string(c.ok ? "ok    " : "FAILED") + "  " + c.what + ": " + c.detail;
        reply = {r.ready, text};
        send(g.observed());  // the heartbeat's status shows it at once
      }
      if (!m->reply.empty()) bus->respond(*m, proto::to_json(reply));
    }
  }

  // hasys.local.<group>.<node>.restart (D6, issue 9): hasys-monitor asks for a process monitor's
  // start command to run. The command comes from this daemon's own configuration: the request
  // only names the monitor. Each runs in its own coroutine, bounded by the monitor's start time.
  asio::awaitable<void> serve_restarts(const config::group_config& g, bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto rq = proto::from_json<proto::restart_request>(m->data);
      if (!rq || rq->group != g.name) {
        if (!m->reply.empty())
          bus->respond(*m, proto::to_json(proto::restart_reply{1, false, "a restart request that cannot be read"}));
        continue;
      }
      daemon::spawn_or_die(ioc.get_executor(), restart(g, *rq, *m), "restart");
    }
  }

  // D11: `drbdadm connect <resource>` for a drbd node of the group's flow, with its event.
  asio::awaitable<proto::restart_reply> drbd_connect(const config::group_config& g, std::string resource,
                                                      std::string origin) {
    bool known = false;
    for (const auto& n : g.flow)
      if (const auto* d = std::get_if<config::drbd_node>(&n)) known = known || d->resource == resource;
    if (!known) co_return proto::restart_reply{1, false, "no drbd node with resource \"" + resource + "\" in the flow"};
    sys::run_options o;
    o.argv = {cfg.drbdadm.string(), "connect", resource};
    o.timeout = std::chrono::seconds(20);
    auto r = co_await sys::run_process(ioc.get_executor(), o);
    const std::string detail = sys::describe(r, true);
    event(g.name, r.ok() ? cluster::severity::information : cluster::severity::warning,
          r.ok() ? "drbd_connect_ran" : "drbd_connect_failed",
          std::string(r.ok() ? "Data sync connect ran" : "Data sync connect failed") + " [" + resource + ": " +
              detail + "]",
          {{"origin", origin}});
    co_return proto::restart_reply{1, r.ok(), detail};
  }

  asio::awaitable<void> serve_drbd_connects(const config::group_config& g, bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto rq = proto::from_json<proto::drbd_connect_request>(m->data);
      proto::restart_reply reply{1, false, "a request that cannot be read"};
      if (rq && rq->group == g.name) {
        std::string resource = rq->resource, origin = "monitor";  // named: see GCC 12 in docs/monitor.md
        reply = co_await drbd_connect(g, std::move(resource), std::move(origin));
      }
      if (!m->reply.empty() && bus) bus->respond(*m, proto::to_json(reply));
    }
  }

  asio::awaitable<void> restart(const config::group_config& g, proto::restart_request rq, bus::message m) {
    const config::process_monitor* pm = nullptr;
    for (const auto& p : g.monitor.processes)
      if (p.name == rq.monitor) pm = &p;
    proto::restart_reply reply{1, false, ""};
    if (!pm || !pm->recovery || pm->start.empty()) {
      reply.detail = "no process monitor \"" + rq.monitor + "\" with recovery in this node's configuration";
    } else {
      sys::run_options o;
      o.argv = {"/bin/sh", "-c", pm->start};
      if (!pm->user.empty()) o.user = pm->user;
      o.env = {{"HASYS_GROUP", g.name}, {"HASYS_NODE", cfg.name}, {"HASYS_MONITOR", pm->name},
               {"HASYS_ATTEMPT", std::to_string(rq.attempt)}};
      o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(pm->start_time);
      auto r = co_await sys::run_process(ioc.get_executor(), o);
      reply.ok = r.ok();
      reply.detail = r.ok() ? sys::describe(r) + " in " + std::to_string(r.elapsed.count()) + " ms"
                            : sys::describe(r, true);
      std::map<std::string, std::string> details{{"attempt", std::to_string(rq.attempt)}, {"command", pm->start}};
      if (!r.output.empty()) details["output"] = r.output;
      event(g.name, reply.ok ? cluster::severity::information : cluster::severity::warning,
            reply.ok ? "process_start_ran" : "process_start_failed",
            std::string(reply.ok ? "Process start command ran" : "Process start command failed") + " [" +
                pm->name + ": " + reply.detail + "]",
            std::move(details));
    }
    if (!m.reply.empty() && bus) bus->respond(m, proto::to_json(reply));
  }

  // D13: the service is handed over because of a monitor that asks for it. The event goes out
  // first (and is stored in the node's EVENTS stream: the machine is about to go away), then the
  // node's reboot command.
  asio::awaitable<proto::command_reply> reboot(const std::string& group, const std::string& reason) {
    event(group, cluster::severity::critical, "node_reboot",
          "Server is rebooting after failover [" + reason + "]", {{"command", cfg.reboot_command.string()}});
    if (!co_await events.drain(std::chrono::seconds(2))) log.warning("events not yet stored before the reboot");
    if (bus) co_await bus->flush(std::chrono::seconds(2));
    sys::run_options o;
    o.argv = {cfg.reboot_command.string()};
    o.env = {{"HASYS_GROUP", group}, {"HASYS_NODE", cfg.name}, {"HASYS_REASON", reason}};
    o.timeout = std::chrono::seconds(60);
    auto r = co_await sys::run_process(ioc.get_executor(), o);
    if (!r.ok()) {
      const std::string why = sys::describe(r);
      event(group, cluster::severity::critical, "node_reboot_failed",
            "Server reboot after failover failed [" + cfg.reboot_command.string() + ": " + why + "]",
            {{"output", r.output}});
      co_return proto::command_reply{false, why};
    }
    co_return proto::command_reply{true, "reboot command ran"};
  }

  asio::awaitable<void> bus_loop() {
    auto o = bus::node_options(cfg.bus_url, cfg.bus_credentials, "hasys-executor@" + cfg.name);
    bus = co_await bus::connection::open(ioc.get_executor(), std::move(o));
    events.attach(*bus);
    // The monitor's subjects first, exec.* last: one connection's subscriptions reach the server
    // in order, so an answered exec.status means the others are in place too (tests wait so).
    for (const auto& g : cfg.groups) {
      daemon::spawn_or_die(ioc.get_executor(), serve_restarts(g, bus->subscribe(proto::restart_subject(g.name, cfg.name))),
                           "restart requests");
      daemon::spawn_or_die(ioc.get_executor(),
                           serve_drbd_connects(g, bus->subscribe(proto::drbd_connect_subject(g.name, cfg.name))),
                           "drbd connect requests");
    }
    if (!opts.config_file.empty())
      daemon::spawn_or_die(ioc.get_executor(), serve_config(bus->subscribe(proto::config_apply_subject(cfg.name, "executor"))),
                           "configuration");
    for (auto& g : groups)
      daemon::spawn_or_die(ioc.get_executor(),
                           serve(*g, bus->subscribe("hasys." + g->name() + "." + cfg.name + ".exec.*")),
                           "exec requests");
    for (;;) {
      auto e = co_await bus->next_event();
      log.info(std::string("bus ") + std::string(bus::to_string(e)));
      if (e == bus::conn_event::closed) co_return;
    }
  }

  // SIGTERM/SIGINT: the groups finish what runs (a release, a node's start or stop) and keep
  // what is up — a restarted executor takes it over. A second signal stops at once.
  asio::awaitable<void> signal_loop() {
    for (;;) {
      auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++signals_seen;
      log.info(std::string("signal ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
               (signals_seen == 1 ? ": stopping once the work in progress is done; resources that are up stay up"
                                  : ": stopping now"));
      for (auto& g : groups) g->stop(signals_seen > 1);
      maybe_exit();
    }
  }

  void maybe_exit() {
    if (signals_seen == 0) return;
    for (auto& g : groups)
      if (!g->stopped()) return;
    log.info(restart_wanted ? "hasys-executor stopped: starting again with the new configuration" : "hasys-executor stopped");
    asio::post(ioc, [this] { ioc.stop(); });
  }

  void start() {
    log.info("hasys-executor starting: node " + cfg.name + ", " + std::to_string(groups.size()) + " group(s)" +
             (opts.simulate ? ", SIMULATE (stand-in kernel, no system changes)" : ""));
    if (faults.enabled())
      log.warning("FAULT INJECTION enabled from " + faults.file().string() + " (test rig only)");
    daemon::spawn_or_die(ioc.get_executor(), signal_loop(), "signals");
    for (auto& g : groups) {
      g->drain_control = [this] { control->drain(); };
      g->start();
    }
    daemon::spawn_or_die(ioc.get_executor(), control->run(), "control server");
    daemon::spawn_or_die(ioc.get_executor(), bus_loop(), "bus");
  }
};

executor_daemon::executor_daemon(asio::io_context& ioc, const config::node_config& cfg, daemon_options opts)
    : impl_(std::make_unique<impl>(ioc, cfg, std::move(opts))) {}

executor_daemon::~executor_daemon() = default;

void executor_daemon::start() { impl_->start(); }

bool executor_daemon::restart_wanted() const noexcept { return impl_->restart_wanted; }

}  // namespace hasys::executor
