// hasys-manager-api's shell (see manager_service.hpp).
#include "manager_service.hpp"

#include "fleet.hpp"
#include "http_server.hpp"
#include "manager_db.hpp"
#include "tls.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/daemon/blocking_lane.hpp>
#include <hasys/daemon/boot_id.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>
#include <hasys/proto/messages.hpp>
#include <hasys/proto/registration_messages.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <fstream>
#include <optional>

namespace asio = boost::asio;

namespace hasys::manager {

struct manager_service::impl {
  asio::io_context& ioc;
  service_options opt;
  daemon::logger log;
  daemon::blocking_lane lane{"manager-db"};
  std::unique_ptr<manager_db> db;
  std::unique_ptr<asio::ssl::context> tls;
  fleet live;
  std::unique_ptr<api> rest;
  std::unique_ptr<http_server> server;
  std::optional<bus::connection> bus;
  asio::signal_set signals;

  impl(asio::io_context& i, service_options o)
      : ioc(i), opt(std::move(o)), log(i.get_executor()), signals(i, SIGINT, SIGTERM) {
    if (!opt.database.parent_path().empty())
      std::filesystem::create_directories(opt.database.parent_path());
    db = std::make_unique<manager_db>(opt.database, opt.rest.bcrypt_cost);
    tls = make_tls_context(opt.tls_cert, opt.tls_key, opt.tls_host);
    opt.rest.metrics_token =
        metrics_token(opt.metrics_token_file.empty() ? opt.database.parent_path() / "metrics.token"
                                                     : opt.metrics_token_file);
    opt.rest.more_metrics = [this](std::string& out) {
      if (server) server_metrics(server->stats(), out);
    };
    rest = std::make_unique<api>(*db, lane, live, bus_request(), opt.rest);
    http_server::options so;
    so.address = opt.listen_address;
    so.port = opt.port;
    so.stream_write_timeout = opt.stream_write_timeout;
    auto handler = [this](http_request r) { return rest->handle(std::move(r)); };
    auto streams = [this](http_request r) { return rest->open_stream(std::move(r)); };
    server = std::make_unique<http_server>(ioc.get_executor(), *tls, so, std::move(handler),
                                           std::move(streams));
    if (!opt.port_file.empty()) {
      std::ofstream(opt.port_file) << server->port() << '\n';
    }
  }

  // The HTTPS server's own counters, for GET /metrics.
  static void server_metrics(const http_server::counters& c, std::string& out) {
    auto family = [&out](const char* name, const char* help, const char* type, std::uint64_t v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
             name + " " + std::to_string(v) + "\n";
    };
    family("hasys_api_connections", "Open HTTPS connections.", "gauge", c.open);
    family("hasys_api_connections_refused_total",
           "Connections closed at once: the connection limit was reached.", "counter",
           c.refused_full);
    family("hasys_api_tls_handshake_failures_total", "TLS handshakes that failed.", "counter",
           c.handshake_failures);
    family("hasys_api_streams", "Open live streams (WebSocket).", "gauge", c.streams_open);
    family("hasys_api_streams_dropped_slow_total",
           "Live streams closed because the client did not take a message within the write "
           "timeout.",
           "counter", c.streams_dropped_slow);
  }

  // The bearer token of GET /metrics: read, or made (random, 0600) at the first start.
  static std::string metrics_token(const std::filesystem::path& file) {
    // Written whole or not at all: a manager killed while making it finds no half token.
    if (!std::filesystem::exists(file))
      daemon::write_file_atomically(file, random_hex(24) + "\n", 0600);
    std::ifstream in(file);
    std::string t;
    std::getline(in, t);
    if (t.size() < 16)
      throw std::runtime_error("the metrics token " + file.string() + " is too short");
    return t;
  }

  // Requests to the nodes through the hub, for the API's operations.
  bus_request_fn bus_request() {
    return [this](std::string subject, std::string body,
                  std::chrono::milliseconds timeout) -> asio::awaitable<bus_reply> {
      if (!bus) co_return bus_reply{false, {}, "the manager is not connected to the hub"};
      auto r = co_await bus->request(std::move(subject), std::move(body), timeout);
      if (!r) co_return bus_reply{false, {}, r.error().message()};
      co_return bus_reply{true, std::move(r->data), {}};
    };
  }

  // The fleet's live state from the hub: every node's status and metrics (M5, M6).
  asio::awaitable<void> follow_status(bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto why = live.on_status(m->subject, m->data, fleet::clock::now(), proto::unix_ms_now());
      if (!why.empty()) log.warning("status refused: " + why);
    }
  }
  asio::awaitable<void> follow_metrics(bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto why = live.on_metrics(m->subject, m->data, fleet::clock::now(), proto::unix_ms_now());
      if (!why.empty()) log.warning("metrics refused: " + why);
    }
  }

  asio::awaitable<void> follow_registrations(bus::subscription sub) {
    while (auto m = co_await sub.next()) rest->on_registration(m->subject, m->data);
  }

  asio::awaitable<void> follow_events(bus::subscription sub) {
    while (auto m = co_await sub.next()) rest->on_event(m->subject, m->data);
  }

  // A node gone silent changes nothing by itself: the sweep marks it stale, which the streams
  // then carry.
  asio::awaitable<void> stale_sweep() {
    asio::steady_timer every(ioc);
    for (;;) {
      every.expires_after(std::chrono::milliseconds(500));
      co_await every.async_wait(asio::use_awaitable);
      live.sweep(fleet::clock::now());
      rest->flush_registrations();
    }
  }

  asio::awaitable<void> bus_loop() {
    auto o = bus::options{};
    o.url = opt.bus_url;
    o.name = "hasys-manager-api";
    if (!opt.bus_credentials.empty())
      o = bus::node_options(opt.bus_url, opt.bus_credentials, "hasys-manager-api");
    bus = co_await bus::connection::open(ioc.get_executor(), std::move(o));
    rest->bus_connected(bus->connected());
    daemon::spawn_or_die(ioc.get_executor(),
                         follow_status(bus->subscribe("hasys.*.*.status", 65536)), "status");
    daemon::spawn_or_die(ioc.get_executor(),
                         follow_metrics(bus->subscribe("hasys.*.*.metrics", 65536)), "metrics");
    daemon::spawn_or_die(ioc.get_executor(), follow_events(bus->subscribe("hasys.evt.*.*", 65536)),
                         "events");
    daemon::spawn_or_die(ioc.get_executor(),
                         follow_registrations(bus->subscribe("hasys.reg.*.*", 65536)),
                         "registrations");
    for (;;) {
      auto e = co_await bus->next_event();
      log.info(std::string("bus ") + std::string(bus::to_string(e)));
      const bool up = e == bus::conn_event::connected || e == bus::conn_event::reconnected;
      rest->bus_connected(up);
      // M4: every node registers again within seconds of hearing the manager is (back) up.
      if (up) bus->publish(proto::hello_subject, R"({"v":1})");
      if (e == bus::conn_event::closed) co_return;
    }
  }

  asio::awaitable<void> signal_loop() {
    auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    log.info("signal: stopping");
    server->stop();
    if (bus) bus->close();
    asio::post(ioc, [this] { ioc.stop(); });
  }
};

manager_service::manager_service(asio::io_context& ioc, service_options o)
    : impl_(std::make_unique<impl>(ioc, std::move(o))) {}
manager_service::~manager_service() = default;

void manager_service::start() {
  auto& i = *impl_;
  daemon::spawn_or_die(i.ioc.get_executor(), i.signal_loop(), "signals");
  daemon::spawn_or_die(i.ioc.get_executor(), i.bus_loop(), "bus");
  daemon::spawn_or_die(i.ioc.get_executor(), i.server->run(), "https");
  daemon::spawn_or_die(i.ioc.get_executor(), i.stale_sweep(), "stale sweep");
  i.log.info("hasys-manager-api listening on https://" + i.opt.listen_address + ":" +
             std::to_string(i.server->port()) + " (database " + i.opt.database.string() + ")");
}

}  // namespace hasys::manager
