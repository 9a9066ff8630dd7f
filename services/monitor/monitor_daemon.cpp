// Wiring of hasys-monitor: scan loop -> verdict machines -> bus (health, restarts, events,
// metrics).
#include "monitor_daemon.hpp"

#include "system_probe.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/bus/outbox.hpp>
#include <hasys/events/outbox.hpp>
#include <hasys/daemon/blocking_lane.hpp>
#include <hasys/daemon/boot_id.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>
#include <hasys/health/health_machine.hpp>
#include <hasys/proto/messages.hpp>
#include <hasys/proto/config_messages.hpp>
#include <hasys/proto/monitor_messages.hpp>
#include <hasys/sys/process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <set>
#include <unordered_set>
#include <utility>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace hasys::monitor {

namespace {

health::time_point mono_now() { return std::chrono::steady_clock::now(); }

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

health::params params_of(const config::node_config& node, const config::group_config& g) {
  health::params p;
  p.node = node.name;
  const auto& m = g.monitor;
  p.process_policy =
      m.process_policy == config::monitor_policy::all ? health::policy::all : health::policy::one;
  p.network_policy =
      m.network_policy == config::monitor_policy::all ? health::policy::all : health::policy::one;
  for (const auto& pm : m.processes) {
    health::process_rule r;
    r.name = pm.name;
    r.what = std::string(pm.match == config::process_match::cmdline ? "cmdline " : "name ") +
             quoted(pm.pattern);
    r.multi = pm.multi;
    r.min = pm.multi ? pm.min : 1;
    r.max = pm.multi ? pm.max : 1;
    r.managed = pm.managed;
    r.only_when_active = pm.on == config::expected_on::active;
    r.recovery = pm.recovery;
    r.start_time = pm.start_time;
    r.retries = pm.retries;
    r.reboot_after_failover = pm.reboot_after_failover;
    p.processes.push_back(std::move(r));
  }
  for (const auto& lm : m.loads) {
    health::load_rule r;
    r.kind = lm.kind == config::load_kind::cpu ? health::load_kind::cpu : health::load_kind::memory;
    r.limit_percent = lm.limit_percent;
    r.repeat = lm.repeat;
    r.start_delay = lm.start_delay;
    r.managed = lm.managed;
    p.loads.push_back(r);
  }
  for (const auto& n : g.flow)
    if (const auto* d = std::get_if<config::drbd_node>(&n))
      p.drbd.push_back({d->name, d->resource, g.drbd_reconnect_count, g.drbd_reconnect_interval});
  for (const auto& nm : m.networks)
    p.networks.push_back(
        {nm.name, nm.interface + (nm.ip.empty() ? "" : " with " + nm.ip), nm.managed});
  for (const auto& dm : m.disks) {
    auto mp = dm.mount_point.lexically_normal();  // as the mount table writes it: no trailing /
    if (!mp.has_filename() && mp != mp.root_path()) mp = mp.parent_path();
    p.disks.push_back({dm.name, mp.string(), dm.managed});
  }
  return p;
}

// What one pass over the machine found (made on the lane, read on the I/O thread).
struct snapshot {
  std::vector<std::vector<std::vector<int>>> pids;  // [group][process rule] -> matching pids
  std::vector<std::vector<std::string>> networks;   // [group][network rule] -> "" or why down
  std::unordered_set<std::string> mounts;           // D10: every mount point (when watched)
  std::optional<int> cpu, memory;
  std::size_t processes_total = 0;
  std::size_t files_read = 0;
  std::vector<proto::interface_metrics> interfaces;
  std::vector<proto::filesystem_metrics> filesystems;
  std::chrono::steady_clock::duration took{};
};

}  // namespace

struct monitor_daemon::impl {
  struct group {
    const config::group_config& cfg;
    health::params params;
    health::state st;
    std::uint64_t seq = 0;
    std::optional<health::verdict> latest;
    std::optional<bool> active;  // as the heartbeat's status last said
    asio::steady_timer deadline;
    group(const config::group_config& c, health::params p, asio::any_io_executor ex)
        : cfg(c),
          params(std::move(p)),
          st(health::initial_state(params, mono_now())),
          deadline(ex) {}
  };

  asio::io_context& ioc;
  config::node_config cfg;
  daemon::logger log;
  daemon::blocking_lane lane{"monitor-scan"};
  process_table table;  // used on the lane only
  cpu_meter cpu;        // used on the lane only
  std::vector<std::unique_ptr<group>> groups;
  std::map<int, std::shared_ptr<asio::posix::stream_descriptor>> watches;
  std::optional<bus::connection> bus;
  bus::outbox out{8192};  // verdicts before the bus opens are kept, in order
  events::outbox events;  // kept until the node's EVENTS stream has them: none is lost (E5)
  asio::signal_set signals;
  asio::steady_timer wake;  // the scan loop's period; cancelled for a scan now
  bool scan_requested = false;
  std::uint64_t boot = 0;
  std::chrono::milliseconds period{1000};
  proto::node_facts node_facts;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> last_bytes;
  std::chrono::steady_clock::time_point last_bytes_at{};
  std::uint64_t slow_scans = 0;
  std::vector<int> exited_since_scan;  // pidfds that fired: the process table reads them again
  bool watch_mounts = false;           // some group has a disk monitor (D10)

  std::filesystem::path config_file;
  bool restart_wanted = false;

  impl(asio::io_context& i, const config::node_config& c, std::filesystem::path file)
      : ioc(i), cfg(c), config_file(std::move(file)), log(i.get_executor()), events(events::outbox::options{"monitor", std::uint64_t{cfg.log.size_mb} << 20, 65536, [this](const std::string& s) { log.warning(s); }}), signals(i, SIGINT, SIGTERM), wake(i) {
    boot = daemon::next_boot_id(cfg.state_dir / "monitor" / "boot_id");
    for (const auto& g : cfg.groups) {
      groups.push_back(std::make_unique<group>(g, params_of(cfg, g), ioc.get_executor()));
      period =
          std::min(period, std::chrono::duration_cast<std::chrono::milliseconds>(g.monitor.period));
      watch_mounts = watch_mounts || !g.monitor.disks.empty();
    }
  }

  // ---- the verdict machines ----

  void feed(group& g, const health::input& in) {
    auto t = health::step(g.params, g.st, in, mono_now());
    g.st = std::move(t.next);
    for (auto& a : t.actions) {
      if (auto* e = std::get_if<health::raise_event>(&a)) {
        event(g, e->level, e->code, e->text);
      } else if (auto* r = std::get_if<health::restart_process>(&a)) {
        daemon::spawn_or_die(ioc.get_executor(), restart(g, r->index, r->attempt),
                             "restart request");
      } else if (std::holds_alternative<health::scan_now>(a)) {
        scan_requested = true;
        wake.cancel();
      } else if (auto* c = std::get_if<health::reconnect_drbd>(&a)) {
        daemon::spawn_or_die(ioc.get_executor(), drbd_connect(g, c->index, c->attempt),
                             "drbd reconnect");
      } else if (auto* p = std::get_if<health::publish>(&a)) {
        g.latest = p->v;
        publish_health(g);
      }
    }
    g.deadline.expires_at(
        std::chrono::steady_clock::time_point(health::next_deadline(g.params, g.st)));
  }

  asio::awaitable<void> deadline_loop(group& g) {
    for (;;) {
      auto [ec] = co_await g.deadline.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!ec) feed(g, health::tick{});  // else: moved by a feed; wait for the new expiry
    }
  }

  void event(group& g, cluster::severity level, const std::string& code, const std::string& text) {
    proto::event_msg e{
        proto::unix_ms_now(), g.cfg.name, cfg.name, "monitor", level, code, text, {}};
    if (g.latest && !g.latest->healthy) e.details["health"] = g.latest->reason;
    log.info("event " + g.cfg.name + " " + std::string(cluster::to_string(level)) + " " + code +
             ": " + text);
    events.raise(e);
  }

  proto::health_msg health_of(group& g) {
    proto::health_msg m;
    m.group = g.cfg.name;
    m.node = cfg.name;
    m.monitor_boot = boot;
    m.seq = ++g.seq;
    m.time_unix_ms = proto::unix_ms_now();
    m.period_ms = period.count();
    const auto& v = *g.latest;
    m.healthy = v.healthy;
    m.failing_managed = v.failing_managed;
    m.reason = v.reason;
    m.reboot_after_failover = v.reboot_after_failover;
    for (const auto& f : v.findings) m.findings.push_back({f.monitor, f.managed, f.evidence});
    m.processes = process_views(g);
    return m;
  }

  std::vector<proto::process_view_msg> process_views(const group& g) const {
    std::vector<proto::process_view_msg> out;
    for (std::size_t i = 0; i < g.params.processes.size(); ++i) {
      const auto& r = g.params.processes[i];
      const auto& v = g.st.processes[i];
      out.push_back({r.name, std::string(health::to_string(v.phase)),
                     static_cast<int>(v.pids.size()), v.attempt, r.managed});
    }
    return out;
  }

  void publish_health(group& g) {
    if (!g.latest) return;
    out.publish(proto::health_subject(g.cfg.name, cfg.name), proto::to_json(health_of(g)));
  }

  // D6: the executor, the only writer, runs the start command of its own configuration.
  asio::awaitable<void> restart(group& g, std::size_t index, int attempt) {
    const auto& m = g.cfg.monitor.processes[index];
    health::restart_done done{index, attempt, false, {}};
    const proto::restart_request rq{1, g.cfg.name, m.name, attempt};
    if (!bus || !bus->connected()) {
      done.detail = "the bus is not connected: no restart";
    } else {
      std::string subject = proto::restart_subject(g.cfg.name, cfg.name);
      std::string body = proto::to_json(rq);
      const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(m.start_time) + 5s;
      auto r = co_await bus->request(std::move(subject), std::move(body), timeout);
      if (!r) {
        done.detail = "hasys-executor did not answer: " + r.error().message();
      } else if (auto rep = proto::from_json<proto::restart_reply>(r->data)) {
        done.ok = rep->ok;
        done.detail = rep->detail;
      } else {
        done.detail = "hasys-executor's answer cannot be read: " + rep.error().message();
      }
    }
    feed(g, done);
  }

  // ---- watching pids: an exit is seen at once ----

  void watch(int pid) {
    if (watches.contains(pid)) return;
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return;  // gone already: the next scan says so
    auto sd = std::make_shared<asio::posix::stream_descriptor>(ioc, fd);
    watches.emplace(pid, sd);
    sd->async_wait(asio::posix::stream_descriptor::wait_read,
                   [this, pid, sd](boost::system::error_code ec) {
                     if (ec) return;  // unwatched
                     watches.erase(pid);
                     exited_since_scan.push_back(pid);
                     for (auto& g : groups) feed(*g, health::exited{pid});
                   });
  }

  void watch_only(const std::set<int>& keep) {
    for (auto it = watches.begin(); it != watches.end();) {
      if (keep.contains(it->first)) {
        ++it;
        continue;
      }
      boost::system::error_code ec;
      it->second->close(ec);
      it = watches.erase(it);
    }
    for (int pid : keep) watch(pid);
  }

  // ---- the scan loop ----

  snapshot look(const std::vector<int>& exited) {  // on the lane
    const auto t0 = std::chrono::steady_clock::now();
    snapshot s;
    for (int pid : exited) table.forget(pid);  // read again: gone, or a zombie left out
    table.refresh(t0);
    s.files_read = table.files_read_last();
    s.processes_total = table.user_processes();
    const int self = ::getpid();
    for (const auto& g : cfg.groups) {
      auto& per_group = s.pids.emplace_back();
      for (const auto& pm : g.monitor.processes) {
        auto& pids = per_group.emplace_back();
        table.for_each([&](const process_entry& e) {
          if (e.pid != self && matches(pm, e)) pids.push_back(e.pid);
        });
      }
      auto& nets = s.networks.emplace_back();
      for (const auto& nm : g.monitor.networks) nets.push_back(check_network(nm));
    }
    if (watch_mounts) s.mounts = mount_points();
    s.cpu = cpu.sample();
    s.memory = memory_percent();
    s.interfaces = interfaces();
    s.filesystems = filesystems();
    s.took = std::chrono::steady_clock::now() - t0;
    return s;
  }

  void apply(snapshot& s) {
    std::set<int> keep;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      auto& g = *groups[gi];
      for (const auto& pids : s.pids[gi]) keep.insert(pids.begin(), pids.end());
      feed(g, health::scanned{s.pids[gi]});
      for (std::size_t ni = 0; ni < s.networks[gi].size(); ++ni)
        feed(g, health::network_seen{ni, s.networks[gi][ni].empty(), s.networks[gi][ni]});
      feed(g, health::load_sampled{s.cpu, s.memory});
      if (watch_mounts) feed(g, mounts_of(g, s.mounts));
      publish_health(g);  // level-triggered: every period, not only on change
    }
    watch_only(keep);
    publish_metrics(s);
  }

  void publish_metrics(snapshot& s) {
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_bytes_at).count();
    for (auto& i : s.interfaces) {
      auto it = last_bytes.find(i.name);
      if (it != last_bytes.end() && dt > 0 && i.rx_bytes >= it->second.first &&
          i.tx_bytes >= it->second.second) {
        i.rx_bytes_per_s = static_cast<double>(i.rx_bytes - it->second.first) / dt;
        i.tx_bytes_per_s = static_cast<double>(i.tx_bytes - it->second.second) / dt;
      }
      last_bytes[i.name] = {i.rx_bytes, i.tx_bytes};
    }
    last_bytes_at = now;
    for (auto& g : groups) {
      proto::metrics_msg m;
      m.group = g->cfg.name;
      m.node = cfg.name;
      m.time_unix_ms = proto::unix_ms_now();
      m.cpu_percent = s.cpu;
      m.memory_percent = s.memory;
      m.processes_total = s.processes_total;
      m.processes = process_views(*g);
      m.interfaces = s.interfaces;
      m.filesystems = s.filesystems;
      m.facts = node_facts;
      if (bus) bus->publish(proto::metrics_subject(g->cfg.name, cfg.name), proto::to_json(m));
    }
  }

  asio::awaitable<void> scan_loop() {
    auto f = co_await lane.run([] { return facts(); }, 10s);
    node_facts = f.value_or(proto::node_facts{});
    for (;;) {
      const auto started = std::chrono::steady_clock::now();
      scan_requested = false;
      // A named task: GCC 12 destroys a temporary closure with a non-trivial capture twice when
      // it is built inside the co_await expression ("free(): invalid pointer", seen in the lab).
      auto task = [this, exited = std::exchange(exited_since_scan, {})] { return look(exited); };
      auto s = co_await lane.run(std::move(task), period * 5);
      if (s) {
        apply(*s);
        if (s->took > period / 2 && ++slow_scans % 10 == 1)
          log.warning("a scan of the machine took " +
                      std::to_string(
                          std::chrono::duration_cast<std::chrono::milliseconds>(s->took).count()) +
                      " ms (period " + std::to_string(period.count()) + " ms)");
      } else {
        log.warning("the scan of the machine did not finish within 5 periods");
      }
      if (scan_requested) continue;
      wake.expires_at(started + period);
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  // ---- mount points (D10): a change is seen at once ----

  static health::mounts_seen mounts_of(const group& g,
                                       const std::unordered_set<std::string>& mounts) {
    health::mounts_seen seen;
    for (const auto& d : g.params.disks) seen.mounted.push_back(mounts.contains(d.mount_point));
    return seen;
  }

  void read_mounts() {
    const auto mounts = mount_points();
    for (auto& g : groups)
      if (!g->params.disks.empty()) feed(*g, mounts_of(*g, mounts));
  }

  // The kernel wakes a poll of /proc/self/mountinfo with POLLPRI|POLLERR when this mount
  // namespace's table changes. The table is read on the I/O thread: a few lines, no file system
  // is touched. A change that comes between the read and the next wait is caught by the scan,
  // which reads the table every period too.
  asio::awaitable<void> mount_loop() {
    const int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      log.warning("cannot watch /proc/self/mountinfo: mount points are read every period only");
      co_return;
    }
    asio::posix::stream_descriptor table(ioc, fd);
    for (;;) {
      read_mounts();
      auto [ec] = co_await table.async_wait(asio::posix::stream_descriptor::wait_error,
                                            asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
    }
  }

  // ---- DRBD (D11): `drbdadm status <resource>` every period, read, never changed here ----

  // Auto-reconnect: the executor (the only writer) runs `drbdadm connect`.
  asio::awaitable<void> drbd_connect(group& g, std::size_t index, int attempt) {
    health::drbd_reconnect_done done{index, attempt, false, {}};
    const proto::drbd_connect_request rq{1, g.cfg.name, g.params.drbd[index].resource, attempt};
    if (!bus || !bus->connected()) {
      done.detail = "the bus is not connected";
    } else {
      std::string subject = proto::drbd_connect_subject(g.cfg.name, cfg.name);
      std::string body = proto::to_json(rq);
      auto r = co_await bus->request(std::move(subject), std::move(body), std::chrono::seconds(30));
      if (!r) {
        done.detail = "hasys-executor did not answer: " + r.error().message();
      } else if (auto rep = proto::from_json<proto::restart_reply>(r->data)) {
        done.ok = rep->ok;
        done.detail = rep->detail;
      } else {
        done.detail = "hasys-executor's answer cannot be read";
      }
    }
    feed(g, done);
  }

  asio::awaitable<void> drbd_loop(group& g) {
    asio::steady_timer every(ioc);
    for (;;) {
      for (std::size_t i = 0; i < g.params.drbd.size(); ++i) {
        sys::run_options o;
        o.argv = {cfg.drbdadm.string(), "status", g.params.drbd[i].resource};
        o.timeout = std::chrono::seconds(5);
        o.output_limit = 64 * 1024;
        auto r = co_await sys::run_process(ioc.get_executor(), o);
        health::drbd_seen seen{i, std::nullopt, {}};
        if (!r.ok()) {
          seen.error = sys::describe(r, true);
        } else {
          for (auto& s : health::parse_drbd_status(r.output))
            if (s.name == g.params.drbd[i].resource) seen.status = std::move(s);
          if (!seen.status)
            seen.error = "no resource " + g.params.drbd[i].resource + " in its output";
        }
        feed(g, seen);
      }
      every.expires_after(period);
      co_await every.async_wait(asio::use_awaitable);
    }
  }

  // ---- the heartbeat's view of the role ----

  asio::awaitable<void> follow_role(group& g, bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto s = proto::from_json<proto::status_msg>(m->data);
      if (!s) continue;
      const bool active = s->role == cluster::role::active;
      if (g.active == active) continue;
      g.active = active;
      // The flow has just mounted what it mounts: judge the mount points as they are now.
      if (active && !g.params.disks.empty()) feed(g, mounts_of(g, mount_points()));
      feed(g, health::role_seen{active});
    }
  }

  asio::awaitable<void> bus_loop() {
    auto o = bus::node_options(cfg.bus_url, cfg.bus_credentials, "hasys-monitor@" + cfg.name);
    bus = co_await bus::connection::open(ioc.get_executor(), std::move(o));
    out.attach(*bus);
    events.attach(*bus);
    for (auto& g : groups)
      daemon::spawn_or_die(
          ioc.get_executor(),
          follow_role(*g, bus->subscribe("hasys." + g->cfg.name + "." + cfg.name + ".status")),
          "role");
    if (!config_file.empty())
      daemon::spawn_or_die(ioc.get_executor(),
                           serve_config(bus->subscribe(proto::config_apply_subject(cfg.name, "monitor"))),
                           "configuration");
    for (;;) {
      auto e = co_await bus->next_event();
      log.info(std::string("bus ") + std::string(bus::to_string(e)));
      if (e == bus::conn_event::closed) co_return;
    }
  }

  // A new configuration (issue 11): when this daemon's part of a group changed — its monitors, or
  // the flow's mount points and DRBD resources it watches — it starts again in place with the
  // new file: its verdicts follow within a period; it changes nothing on the machine.
  static auto watched(const config::group_config& g) {
    return std::tie(g.monitor, g.flow, g.drbd_reconnect_count, g.drbd_reconnect_interval, g.shared_disk_wait);
  }
  asio::awaitable<void> serve_config(bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      proto::config_daemon_outcome o{1, "monitor", "unchanged", "its settings did not change"};
      // Read and checked on the lane: this thread must not wait for the file system or NSS.
      auto read = [file = config_file] { return config::load_file(file); };
      auto result = co_await lane.run(std::move(read), std::chrono::seconds(10));
      if (!result) {
        o = {1, "monitor", "failed", "the file could not be read within 10 s"};
      } else if (const auto& loaded = *result; !loaded.config) {
        o = {1, "monitor", "failed", "the file is not valid here: " + loaded.errors.front().to_string()};
      } else {
        for (const auto& g : cfg.groups)
          for (const auto& n : loaded.config->groups)
            if (n.name == g.name && watched(n) != watched(g))
              o = {1, "monitor", "restarting", "starts again with the new monitors; its verdict follows within a period"};
      }
      if (!m->reply.empty()) bus->respond(*m, proto::to_json(o));
      if (o.status != "restarting") continue;
      log.info("configuration changed: starting again with the new file");
      const bool stored = co_await events.drain(std::chrono::milliseconds(2000));  // named: GCC 12
      if (!stored) log.warning("events not yet stored before the restart");
      co_await bus->flush(std::chrono::seconds(2));
      restart_wanted = true;
      asio::post(ioc, [this] { ioc.stop(); });
      co_return;
    }
  }

  asio::awaitable<void> signal_loop() {
    auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    log.info(std::string("signal ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": stopping");
    if (bus) bus->close();
    log.info("hasys-monitor stopped");
    asio::post(ioc, [this] { ioc.stop(); });
  }

  void start() {
    std::size_t n = 0;
    for (const auto& g : cfg.groups)
      n += g.monitor.processes.size() + g.monitor.loads.size() + g.monitor.networks.size() +
           g.monitor.disks.size();
    log.info("hasys-monitor starting: node " + cfg.name + ", " + std::to_string(groups.size()) +
             " group(s), " + std::to_string(n) + " monitor(s), period " +
             std::to_string(period.count()) + " ms");
    daemon::spawn_or_die(ioc.get_executor(), signal_loop(), "signals");
    for (auto& g : groups) daemon::spawn_or_die(ioc.get_executor(), deadline_loop(*g), "deadlines");
    for (auto& g : groups)
      if (!g->params.drbd.empty()) daemon::spawn_or_die(ioc.get_executor(), drbd_loop(*g), "drbd");
    if (watch_mounts) daemon::spawn_or_die(ioc.get_executor(), mount_loop(), "mounts");
    daemon::spawn_or_die(ioc.get_executor(), scan_loop(), "scan");
    daemon::spawn_or_die(ioc.get_executor(), bus_loop(), "bus");
  }
};

monitor_daemon::monitor_daemon(asio::io_context& ioc, const config::node_config& cfg,
                               std::filesystem::path config_file)
    : impl_(std::make_unique<impl>(ioc, cfg, std::move(config_file))) {}
bool monitor_daemon::restart_wanted() const noexcept { return impl_->restart_wanted; }
monitor_daemon::~monitor_daemon() = default;
void monitor_daemon::start() { impl_->start(); }

}  // namespace hasys::monitor
