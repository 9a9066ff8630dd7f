// Wiring of the executor and its fast side: control server -> group shells -> control server on
// the real-time thread; signals for an orderly stop; a new configuration's flow taken once its
// group holds nothing. The bus side is in bus_requests.cpp.
#include "executor_impl.hpp"

#include "journal_store.hpp"

#include <hasys/daemon/boot_id.hpp>
#include <hasys/daemon/spawn.hpp>
#include <hasys/flow/flow_machine.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>

#include <csignal>
#include <fstream>

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

executor_daemon::impl::impl(asio::io_context& f, asio::io_context& s, const config::node_config& c,
                            daemon_options o)
    : fast(f), slow(s), cfg(c), opts(std::move(o)), log(s.get_executor()), faults(opts.faults_file),
      events(events::outbox::options{"executor", std::uint64_t{cfg.log.size_mb} << 20, 65536,
                                     [this](const std::string& line) { log.warning(line); }}),
      signals(f, SIGINT, SIGTERM) {
  addresses = opts.simulate
                  ? make_simulated_addresses(lanes, faults, cfg.state_dir / "executor" / "simulated-kernel.json")
                  : make_kernel_addresses(lanes, faults);
  services = std::make_unique<resource_services>(resource_services{*addresses, lanes, faults, cfg.drbdadm});
  const auto boot = kernel_boot_id();
  keep_running_flows(boot);
  for (const auto& g : cfg.groups) {
    groups.push_back(std::make_unique<group_shell>(fast.get_executor(), cfg, g, *this, *services, opts.simulate, boot,
                                                   [this](const proto::observed_state& st) { send(st); }));
    groups.back()->on_stopped = [this] { maybe_exit(); };
  }
  control = std::make_unique<control_server>(
      fast.get_executor(), cfg.control_socket_dir / "executor.sock",
      control_server::handlers{[this](const proto::desired_state& d) {
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

group_shell* executor_daemon::impl::find(std::string_view name) {
  for (auto& g : groups)
    if (g->name() == name) return g.get();
  return nullptr;
}

const config::group_config* executor_daemon::impl::group_config_of(std::string_view name) const {
  for (const auto& g : cfg.groups)
    if (g.name == name) return &g;
  return nullptr;
}

// Every answer carries the process's own counters: dropped errors and bad messages are visible.
proto::observed_state executor_daemon::impl::with_counters(proto::observed_state s) const {
  if (auto n = control->bad_messages()) s.counters["bad_control_messages"] = n;
  if (auto n = control->send_failures()) s.counters["report_send_failures"] = n;
  if (auto n = events_dropped.load()) s.counters["events_dropped"] = n;
  return s;
}

void executor_daemon::impl::send(const proto::observed_state& s) {
  control->send(with_counters(s));
  if (!pending.empty() && !restarting) asio::post(fast, [this] { maybe_restart_for_config(); });
}

// ---- events: from either side, logged and raised through the slow side's outbox ----

void executor_daemon::impl::event(const std::string& group, cluster::severity level, std::string code,
                                  std::string text, std::map<std::string, std::string> details) {
  proto::event_msg e{proto::unix_ms_now(), group, cfg.name, "executor", level, std::move(code),
                     std::move(text), std::move(details)};
  std::string line = "event " + group + " " + std::string(cluster::to_string(level)) + " " + e.code + ": " + e.text;
  for (const auto& [k, v] : e.details)
    if (k != "output") line += " " + k + "=\"" + v + "\"";
  log.info(line);
  asio::post(slow, [this, e = std::move(e)]() mutable {
    events.raise(std::move(e));
    events_dropped = events.dropped();
  });
}

// ---- the flow it runs, kept across its restarts ----

// A flow is never changed under resources it started — not even across a restart of this daemon
// while such a change waits: the configuration it runs is kept in the state folder, and a group
// that still holds resources started by it (its journal says so, this machine boot) keeps that
// flow; the file's new one waits as `pending`, taken once the group holds nothing.
std::filesystem::path executor_daemon::impl::running_file() const {
  return cfg.state_dir / "executor" / "running.toml";
}

void executor_daemon::impl::keep_running_flows(const std::string& boot) {
  if (opts.config_file.empty()) return;
  if (std::filesystem::exists(running_file())) {
    // Read as the copy it is: a script of that flow deleted since (the new flow no longer names
    // it) must not lose the flow that started what runs (file checks off).
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
        log.warning("group " + g.name +
                    ": still holds resources of the flow it ran; the configuration file's new flow waits until it "
                    "holds nothing");
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
// Process monitors' start commands are read from cfg at each request: taken at once (slow side).
// A group whose flow settings changed needs a new flow machine: the executor starts itself again
// (the ordinary restart, adopting what runs) — but only once each such group holds nothing on
// this node: a flow is never changed under resources it started (its journal counts its nodes).

// Equal but for what the executor does not use: the monitors (taken live) and the heartbeat's own
// settings (mode, priority, polling, its start window and its wait for a flow run).
bool executor_daemon::impl::same_flow_settings(config::group_config a, const config::group_config& b) {
  a.monitor = b.monitor;
  a.mode = b.mode;
  a.active_priority = b.active_priority;
  a.polling_period = b.polling_period;
  a.polling_count = b.polling_count;
  a.start_window = b.start_window;
  a.flow_timeout = b.flow_timeout;
  return a == b;
}

// The groups whose flow changed (empty: none, which also drops a change still waiting).
asio::awaitable<proto::config_daemon_outcome> executor_daemon::impl::take_flow_change(
    std::set<std::string> changed, proto::config_daemon_outcome unchanged) {
  if (restarting) co_return proto::config_daemon_outcome{1, "executor", "restarting", "already starting again"};
  pending = changed;
  if (changed.empty()) co_return unchanged;
  std::string held;
  for (const auto& name : changed)
    if (auto* g = find(name); g && g->observed().holding) held += (held.empty() ? "" : ", ") + name;
  if (held.empty()) {
    restarting = true;
    daemon::spawn_or_die(fast.get_executor(), restart_for_config(), "restart for a new configuration");
    co_return proto::config_daemon_outcome{1, "executor", "restarting",
                                           "starts again with the new flow; what runs is adopted"};
  }
  proto::config_daemon_outcome o{
      1, "executor", "pending",
      "the new flow takes over once " + held +
          " holds nothing on this node (after a failover or a stop): a flow is never changed under running resources"};
  for (const auto& name : changed)
    event(name, cluster::severity::information, "config_pending",
          "Configuration change waits for the resources to be released [" + o.text + "]", {});
  co_return o;
}

void executor_daemon::impl::maybe_restart_for_config() {
  if (pending.empty() || restarting) return;
  for (const auto& name : pending)
    if (auto* g = find(name); g && g->observed().holding) return;
  restarting = true;
  daemon::spawn_or_die(fast.get_executor(), restart_for_config(), "restart for a new configuration");
}

asio::awaitable<void> executor_daemon::impl::restart_for_config() {
  restarting = true;
  log.info("configuration changed: starting again with the new file once the work in progress is done");
  for (const auto& name : pending)
    event(name, cluster::severity::information, "config_flow_taken", "Executor starts again to take the new flow", {});
  auto flushed = flush_events();
  co_await asio::co_spawn(slow, std::move(flushed), asio::use_awaitable);
  restart_wanted = true;
  ++signals_seen;  // the orderly stop: finish what runs, keep what is up
  for (auto& g : groups) g->stop(false);
  maybe_exit();
}

// ---- what bus requests ask of a group (run here, on the fast side) ----

asio::awaitable<proto::observed_state> executor_daemon::impl::status_of(group_shell* g) {
  co_return with_counters(g->observed());
}

asio::awaitable<group_shell::readiness_report> executor_daemon::impl::ready_of(group_shell* g) {
  auto r = co_await g->readiness(true);
  send(g->observed());  // the heartbeat's status shows it at once
  co_return r;
}

// ---- stopping ----

// SIGTERM/SIGINT: the groups finish what runs (a release, a node's start or stop) and keep what
// is up — a restarted executor takes it over. A second signal stops at once.
asio::awaitable<void> executor_daemon::impl::signal_loop() {
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

void executor_daemon::impl::maybe_exit() {
  if (signals_seen == 0) return;
  for (auto& g : groups)
    if (!g->stopped()) return;
  log.info(restart_wanted ? "hasys-executor stopped: starting again with the new configuration"
                          : "hasys-executor stopped");
  asio::post(fast, [this] { fast.stop(); });
}

void executor_daemon::impl::start() {
  log.info("hasys-executor starting: node " + cfg.name + ", " + std::to_string(groups.size()) + " group(s)" +
           (opts.simulate ? ", SIMULATE (stand-in kernel, no system changes)" : ""));
  if (faults.enabled()) log.warning("FAULT INJECTION enabled from " + faults.file().string() + " (test rig only)");
  daemon::spawn_or_die(fast.get_executor(), signal_loop(), "signals");
  for (auto& g : groups) {
    g->drain_control = [this] { control->drain(); };
    g->start();
  }
  daemon::spawn_or_die(fast.get_executor(), control->run(), "control server");
  daemon::spawn_or_die(slow.get_executor(), bus_loop(), "bus");
}

executor_daemon::executor_daemon(asio::io_context& fast, asio::io_context& slow, const config::node_config& cfg,
                                 daemon_options opts)
    : impl_(std::make_unique<impl>(fast, slow, cfg, std::move(opts))) {}

executor_daemon::~executor_daemon() = default;

void executor_daemon::start() { impl_->start(); }

bool executor_daemon::restart_wanted() const noexcept { return impl_->restart_wanted; }

}  // namespace hasys::executor
