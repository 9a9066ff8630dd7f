// The executor's slow side: the bus connection, the event outbox, and the requests that arrive on
// the bus (exec.* from hasysctl and the heartbeat, restarts and DRBD connects from the monitor, a
// new configuration) — anything of a group's flow is asked of the fast side. The bus is never on
// the failover path.
#include "executor_impl.hpp"

#include <hasys/daemon/spawn.hpp>
#include <hasys/sys/process.hpp>

namespace asio = boost::asio;

namespace hasys::executor {

namespace {
// Durations passed into coroutines are of the type they take, never converted inside a co_await
// (GCC 12, flush_events below).
constexpr std::chrono::milliseconds flush_limit{2000};
constexpr std::chrono::steady_clock::duration read_limit = std::chrono::seconds(10);
}  // namespace

// The timeout is the type drain() takes: a converted temporary argument inside a co_await
// (std::chrono::seconds -> milliseconds) crashed GCC 12's coroutine with a wild `this`.
asio::awaitable<void> executor_daemon::impl::flush_events() {
  const bool stored = co_await events.drain(std::chrono::milliseconds(2000));
  if (!stored) log.warning("events not yet stored before the restart");
  if (bus) co_await bus->flush(flush_limit);
}

// hasys.<group>.<node>.exec.<verb>: common_start, common_stop (menu items 6 and 7), status,
// reboot (D13, from the heartbeat), drbd_reconnect (D11), ready (issue 9).
asio::awaitable<void> executor_daemon::impl::serve(group_shell& g, bus::subscription sub) {
  while (auto m = co_await sub.next()) {
    const std::string verb = m->subject.substr(m->subject.rfind('.') + 1);
    proto::command_reply reply{false, "unknown request \"" + verb + "\""};
    if (verb == "common_start" || verb == "common_stop") {
      auto run = g.common_program(verb == "common_start");
      auto r = co_await asio::co_spawn(fast, std::move(run), asio::use_awaitable);
      reply = {r.ok, r.detail};
    } else if (verb == "status") {
      auto status = status_of(&g);
      // Named: a temporary that owns memory in a full-expression with co_await is freed twice by
      // GCC 12 ("free(): invalid pointer").
      const proto::observed_state st = co_await asio::co_spawn(fast, std::move(status), asio::use_awaitable);
      reply = {true, proto::to_json(st)};
    } else if (verb == "reboot") {
      auto rq = proto::from_json<proto::reboot_request>(m->data);
      if (!rq || rq->group != g.name()) {
        reply = {false, "a reboot request that cannot be read"};
      } else {
        auto rebooted = co_await reboot(rq->group, rq->reason);
        reply = std::move(rebooted);
      }
    } else if (verb == "drbd_reconnect") {
      const config::group_config* gc = group_config_of(g.name());
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
    } else if (verb == "ready") {
      auto ready = ready_of(&g);
      auto r = co_await asio::co_spawn(fast, std::move(ready), asio::use_awaitable);
      std::string text = r.summary;
      for (const auto& c : r.checks)
        text += "\n  " + std::string(c.ok ? "ok    " : "FAILED") + "  " + c.what + ": " + c.detail;
      reply = {r.ready, text};
    }
    if (!m->reply.empty()) bus->respond(*m, proto::to_json(reply));
  }
}

// hasys.local.<group>.<node>.restart (D6, issue 9): hasys-monitor asks for a process monitor's
// start command to run. The command comes from this daemon's own configuration: the request only
// names the monitor. Each runs in its own coroutine, bounded by the monitor's start time.
asio::awaitable<void> executor_daemon::impl::serve_restarts(const config::group_config& g, bus::subscription sub) {
  while (auto m = co_await sub.next()) {
    auto rq = proto::from_json<proto::restart_request>(m->data);
    if (!rq || rq->group != g.name) {
      if (!m->reply.empty())
        bus->respond(*m, proto::to_json(proto::restart_reply{1, false, "a restart request that cannot be read"}));
      continue;
    }
    daemon::spawn_or_die(slow.get_executor(), restart(g, *rq, *m), "restart");
  }
}

asio::awaitable<void> executor_daemon::impl::restart(const config::group_config& g, proto::restart_request rq,
                                                     bus::message m) {
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
    o.env = {{"HASYS_GROUP", g.name},
             {"HASYS_NODE", cfg.name},
             {"HASYS_MONITOR", pm->name},
             {"HASYS_ATTEMPT", std::to_string(rq.attempt)}};
    o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(pm->start_time);
    auto r = co_await sys::run_process(slow.get_executor(), o);
    reply.ok = r.ok();
    reply.detail =
        r.ok() ? sys::describe(r) + " in " + std::to_string(r.elapsed.count()) + " ms" : sys::describe(r, true);
    std::map<std::string, std::string> details{{"attempt", std::to_string(rq.attempt)}, {"command", pm->start}};
    if (!r.output.empty()) details["output"] = r.output;
    event(g.name, reply.ok ? cluster::severity::information : cluster::severity::warning,
          reply.ok ? "process_start_ran" : "process_start_failed",
          std::string(reply.ok ? "Process start command ran" : "Process start command failed") + " [" + pm->name +
              ": " + reply.detail + "]",
          std::move(details));
  }
  if (!m.reply.empty() && bus) bus->respond(m, proto::to_json(reply));
}

// D11: `drbdadm connect <resource>` for a drbd node of the group's flow, with its event.
asio::awaitable<proto::restart_reply> executor_daemon::impl::drbd_connect(const config::group_config& g,
                                                                          std::string resource, std::string origin) {
  bool known = false;
  for (const auto& n : g.flow)
    if (const auto* d = std::get_if<config::drbd_node>(&n)) known = known || d->resource == resource;
  if (!known) co_return proto::restart_reply{1, false, "no drbd node with resource \"" + resource + "\" in the flow"};
  sys::run_options o;
  o.argv = {cfg.drbdadm.string(), "connect", resource};
  o.timeout = std::chrono::seconds(20);
  auto r = co_await sys::run_process(slow.get_executor(), o);
  const std::string detail = sys::describe(r, true);
  event(g.name, r.ok() ? cluster::severity::information : cluster::severity::warning,
        r.ok() ? "drbd_connect_ran" : "drbd_connect_failed",
        std::string(r.ok() ? "Data sync connect ran" : "Data sync connect failed") + " [" + resource + ": " + detail +
            "]",
        {{"origin", origin}});
  co_return proto::restart_reply{1, r.ok(), detail};
}

asio::awaitable<void> executor_daemon::impl::serve_drbd_connects(const config::group_config& g,
                                                                 bus::subscription sub) {
  while (auto m = co_await sub.next()) {
    auto rq = proto::from_json<proto::drbd_connect_request>(m->data);
    proto::restart_reply reply{1, false, "a request that cannot be read"};
    if (rq && rq->group == g.name) {
      std::string resource = rq->resource, origin = "monitor";  // named: see GCC 12 in docs/monitor.md
      auto connected = co_await drbd_connect(g, std::move(resource), std::move(origin));
      reply = std::move(connected);
    }
    if (!m->reply.empty() && bus) bus->respond(*m, proto::to_json(reply));
  }
}

// D13: the service is handed over because of a monitor that asks for it. The event goes out first
// (and is stored in the node's EVENTS stream: the machine is about to go away), then the node's
// reboot command.
asio::awaitable<proto::command_reply> executor_daemon::impl::reboot(const std::string& group,
                                                                    const std::string& reason) {
  event(group, cluster::severity::critical, "node_reboot", "Server is rebooting after failover [" + reason + "]",
        {{"command", cfg.reboot_command.string()}});
  const bool stored = co_await events.drain(std::chrono::milliseconds(2000));
  if (!stored) log.warning("events not yet stored before the reboot");
  if (bus) co_await bus->flush(flush_limit);
  sys::run_options o;
  o.argv = {cfg.reboot_command.string()};
  o.env = {{"HASYS_GROUP", group}, {"HASYS_NODE", cfg.name}, {"HASYS_REASON", reason}};
  o.timeout = std::chrono::seconds(60);
  auto r = co_await sys::run_process(slow.get_executor(), o);
  if (!r.ok()) {
    const std::string why = sys::describe(r);
    event(group, cluster::severity::critical, "node_reboot_failed",
          "Server reboot after failover failed [" + cfg.reboot_command.string() + ": " + why + "]",
          {{"output", r.output}});
    co_return proto::command_reply{false, why};
  }
  co_return proto::command_reply{true, "reboot command ran"};
}

// A new configuration file (issue 11): read and checked on a lane; the monitors' start commands
// taken here at once, a changed flow handed to the fast side (it waits until its group holds
// nothing).
asio::awaitable<void> executor_daemon::impl::serve_config(bus::subscription sub) {
  while (auto m = co_await sub.next()) {
    // The file is read and checked (scripts, users: file system and NSS) on a lane, never on a
    // thread that runs a loop.
    auto read = [file = opts.config_file] { return config::load_file(file); };
    auto loaded = co_await lanes.disk.run(std::move(read), read_limit);
    proto::config_daemon_outcome o{1, "executor", "failed", "the file could not be read within 10 s"};
    if (loaded && !loaded->config) {
      o.text = "the file is not valid here: " + loaded->errors.front().to_string();
    } else if (loaded) {
      const auto& next = *loaded->config;
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
      proto::config_daemon_outcome unchanged{1, "executor", "unchanged", "its settings did not change"};
      if (monitors) unchanged = {1, "executor", "applied", "process monitors' start commands taken"};
      auto take = take_flow_change(std::move(changed), std::move(unchanged));
      auto taken = co_await asio::co_spawn(fast, std::move(take), asio::use_awaitable);
      o = std::move(taken);
    }
    if (!m->reply.empty() && bus) bus->respond(*m, proto::to_json(o));
  }
}

asio::awaitable<void> executor_daemon::impl::bus_loop() {
  auto o = bus::node_options(cfg.bus_url, cfg.bus_credentials, "hasys-executor@" + cfg.name);
  bus = co_await bus::connection::open(slow.get_executor(), std::move(o));
  events.attach(*bus);
  // The monitor's subjects first, exec.* last: one connection's subscriptions reach the server in
  // order, so an answered exec.status means the others are in place too (tests wait so).
  for (const auto& g : cfg.groups) {
    daemon::spawn_or_die(slow.get_executor(),
                         serve_restarts(g, bus->subscribe(proto::restart_subject(g.name, cfg.name))),
                         "restart requests");
    daemon::spawn_or_die(slow.get_executor(),
                         serve_drbd_connects(g, bus->subscribe(proto::drbd_connect_subject(g.name, cfg.name))),
                         "drbd connect requests");
  }
  if (!opts.config_file.empty())
    daemon::spawn_or_die(slow.get_executor(),
                         serve_config(bus->subscribe(proto::config_apply_subject(cfg.name, "executor"))),
                         "configuration");
  for (auto& g : groups)
    daemon::spawn_or_die(slow.get_executor(),
                         serve(*g, bus->subscribe("hasys." + g->name() + "." + cfg.name + ".exec.*")),
                         "exec requests");
  for (;;) {
    auto e = co_await bus->next_event();
    log.info(std::string("bus ") + std::string(bus::to_string(e)));
    if (e == bus::conn_event::closed) co_return;
  }
}

}  // namespace hasys::executor
