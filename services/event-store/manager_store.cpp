#include "manager_store.hpp"

#include "event_db.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/daemon/blocking_lane.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>
#include <hasys/proto/event_store_messages.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <optional>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace hasys::event_store {

struct manager_store::impl {
  asio::io_context& ioc;
  manager_options opt;
  daemon::logger log;
  daemon::blocking_lane lane{"event-db"};
  std::unique_ptr<event_db> db;
  std::optional<bus::connection> bus;
  asio::signal_set signals;
  std::uint64_t batches = 0, refused = 0;

  impl(asio::io_context& i, manager_options o)
      : ioc(i), opt(std::move(o)), log(i.get_executor()), signals(i, SIGINT, SIGTERM) {
    db = std::make_unique<event_db>(opt.database);  // throws: a clear start-up error
  }

  proto::ingest_reply refuse(const std::string& why) {
    ++refused;
    log.warning("ingest refused: " + why);
    proto::ingest_reply r;
    r.error = why;
    return r;
  }

  // One batch: checked whole (its node is the subject's, every event is that node's), then
  // committed on the database lane; the reply says what was kept.
  asio::awaitable<proto::ingest_reply> ingest(const bus::message& m) {
    const std::string node = m.subject.substr(m.subject.rfind('.') + 1);
    auto rq = proto::from_json<proto::ingest_request>(m.data);
    if (!rq) co_return refuse("a batch from " + node + " cannot be read: " + rq.error().message());
    if (rq->node != node)
      co_return refuse("a batch on " + node + "'s subject names node " + rq->node);
    for (const auto& e : rq->events)
      if (e.event.node != node)
        co_return refuse("a batch of " + node + " holds an event of " + e.event.node);
    auto task = [this, node, events = std::move(rq->events)] {
      return db->insert(node, events, proto::unix_ms_now());
    };
    auto r = co_await lane.run(std::move(task), 30s);
    proto::ingest_reply reply;
    if (!r) {
      reply.error = "the event database did not commit within 30 s";
    } else if (!r->ok) {
      reply.error = r->error;
    } else {
      reply.ok = true;
      reply.stored = r->stored;
      reply.duplicates = r->duplicates;
      reply.last_seq = r->last_seq;
    }
    if (!reply.ok) log.warning("ingest of " + node + " failed: " + reply.error);
    co_return reply;
  }

  asio::awaitable<void> serve(bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto reply = co_await ingest(*m);
      ++batches;
      bus->respond(*m, proto::to_json(reply));
    }
  }

  asio::awaitable<void> bus_loop() {
    auto o = bus::options{};
    o.url = opt.bus_url;
    o.name = "hasys-event-store@manager";
    if (!opt.bus_credentials.empty())
      o = bus::node_options(opt.bus_url, opt.bus_credentials, "hasys-event-store@manager");
    bus = co_await bus::connection::open(ioc.get_executor(), std::move(o));
    daemon::spawn_or_die(ioc.get_executor(), serve(bus->subscribe("hasys.mgr.evt.ingest.*", 4096)),
                         "ingest");
    log.info("hasys-event-store (manager) serving hasys.mgr.evt.ingest.* into " +
             opt.database.string() + " (" + std::to_string(db->count()) + " events kept)");
    for (;;) {
      auto e = co_await bus->next_event();
      log.info(std::string("bus ") + std::string(bus::to_string(e)));
      if (e == bus::conn_event::closed) co_return;
    }
  }

  asio::awaitable<void> signal_loop() {
    auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    log.info("signal: stopping");
    if (bus) bus->close();
    asio::post(ioc, [this] { ioc.stop(); });
  }
};

manager_store::manager_store(asio::io_context& ioc, manager_options o)
    : impl_(std::make_unique<impl>(ioc, std::move(o))) {}
manager_store::~manager_store() = default;

void manager_store::start() {
  daemon::spawn_or_die(impl_->ioc.get_executor(), impl_->signal_loop(), "signals");
  daemon::spawn_or_die(impl_->ioc.get_executor(), impl_->bus_loop(), "bus");
}

}  // namespace hasys::event_store
