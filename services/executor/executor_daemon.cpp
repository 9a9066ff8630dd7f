// Wiring of the executor: control server -> group flows -> control server; events and
// exec.* commands on the bus (the bus is never on the failover path).
#include "executor_daemon.hpp"

#include "control_server.hpp"
#include "group_flow.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/bus/outbox.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>

#include <boost/asio/post.hpp>

namespace asio = boost::asio;

namespace hasys::executor {

struct executor_daemon::impl final : event_sink {
  asio::io_context& ioc;
  config::node_config cfg;
  daemon_options opts;
  daemon::logger log;
  std::vector<std::unique_ptr<group_flow>> groups;
  std::unique_ptr<control_server> control;
  std::optional<bus::connection> bus;
  bus::outbox events;  // the first events come before the bus opens: none is lost (E5)

  impl(asio::io_context& i, const config::node_config& c, daemon_options o)
      : ioc(i), cfg(c), opts(o), log(i.get_executor()) {
    for (const auto& g : cfg.groups)
      groups.push_back(std::make_unique<group_flow>(
          ioc.get_executor(), cfg, g, *this, opts.simulate,
          [this](const proto::observed_state& s) { control->send(s); }));
    control = std::make_unique<control_server>(
        ioc.get_executor(), cfg.control_socket_dir / "executor.sock",
        control_server::handlers{
            [this](const proto::desired_state& d) {
              if (auto* g = find(d.group)) g->desired(d);
            },
            [this] { log.info("hasys-heartbeat connected"); },
            [this](const std::string& why) {
              log.warning(why);
              for (auto& g : groups) g->heartbeat_lost(why);
            }});
  }

  group_flow* find(std::string_view name) {
    for (auto& g : groups)
      if (g->name() == name) return g.get();
    return nullptr;
  }

  void event(const std::string& group, cluster::severity level, std::string code, std::string text,
             std::map<std::string, std::string> details) override {
    proto::event_msg e{proto::unix_ms_now(), group, cfg.name, "executor", level, std::move(code),
                       std::move(text), std::move(details)};
    log.info("event " + group + " " + std::string(cluster::to_string(level)) + " " + e.code + ": " + e.text);
    events.publish("hasys.evt." + group + "." + cfg.name, proto::to_json(e));
  }

  // hasys.<group>.<node>.exec.<verb>: common_start, common_stop (menu items 6 and 7), status.
  asio::awaitable<void> serve(group_flow& g, bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      const std::string verb = m->subject.substr(m->subject.rfind('.') + 1);
      proto::command_reply reply{false, "unknown request \"" + verb + "\""};
      if (verb == "common_start" || verb == "common_stop") {
        auto r = co_await g.common_program(verb == "common_start");
        reply = {r.ok, r.detail};
      } else if (verb == "status") {
        reply = {true, proto::to_json(g.observed())};
      }
      if (!m->reply.empty()) bus->respond(*m, proto::to_json(reply));
    }
  }

  asio::awaitable<void> bus_loop() {
    auto o = bus::node_options(cfg.bus_url, cfg.bus_credentials, "hasys-executor@" + cfg.name);
    bus = co_await bus::connection::open(ioc.get_executor(), std::move(o));
    events.attach(*bus);
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

  void start() {
    log.info("hasys-executor starting: node " + cfg.name + ", " + std::to_string(groups.size()) +
             " group(s)" + (opts.simulate ? ", SIMULATE (no system changes)" : ""));
    for (auto& g : groups) g->start();
    daemon::spawn_or_die(ioc.get_executor(), control->run(), "control server");
    daemon::spawn_or_die(ioc.get_executor(), bus_loop(), "bus");
  }
};

executor_daemon::executor_daemon(asio::io_context& ioc, const config::node_config& cfg, daemon_options opts)
    : impl_(std::make_unique<impl>(ioc, cfg, opts)) {}

executor_daemon::~executor_daemon() = default;

void executor_daemon::start() { impl_->start(); }

}  // namespace hasys::executor
