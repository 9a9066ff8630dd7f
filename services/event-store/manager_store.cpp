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
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <csignal>
#include <thread>
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

  // Checkpoints of the write-ahead log on a connection and thread of their own: a commit never
  // pays for one (docs/benchmarks.md: batch commits p99 under 10 ms with them off the path).
  std::atomic<bool> stopping{false};
  std::thread checkpointer;

  impl(asio::io_context& i, manager_options o)
      : ioc(i), opt(std::move(o)), log(i.get_executor()), signals(i, SIGINT, SIGTERM) {
    db = std::make_unique<event_db>(opt.database);  // throws: a clear start-up error
    checkpointer = std::thread([this] {
      try {
        event_db c(opt.database);
        while (!stopping) {
          c.checkpoint();
          std::this_thread::sleep_for(200ms);
        }
        c.checkpoint();
      } catch (const std::exception& e) {
        log.error(std::string("checkpoints stopped: ") + e.what());
      }
    });
  }
  ~impl() {
    stopping = true;
    checkpointer.join();
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

  // A query (E2, E3), checked whole; a bad one gets ok=false and the reason, and is counted.
  asio::awaitable<proto::event_page> query(const bus::message& m) {
    proto::event_page bad;
    auto q = proto::from_json<proto::event_query>(m.data);
    auto refuse_query = [&](const std::string& why) {
      ++refused;
      log.warning("query refused: " + why);
      bad.error = why;
      return bad;
    };
    if (!q) co_return refuse_query("the query cannot be read: " + q.error().message());
    if (q->kind != "detailed" && q->kind != "basic" && q->kind != "window")
      co_return refuse_query("kind \"" + q->kind + "\" is not detailed, basic or window");
    if (q->kind == "basic" && q->field != "text" && q->field != "code" && q->field != "group" &&
        q->field != "server")
      co_return refuse_query("field \"" + q->field + "\" is not text, code, group or server");
    if (q->page < 1)
      co_return refuse_query("page " + std::to_string(q->page) + " is not 1 or more");
    if (q->page_size < 1 || q->page_size > 1000)
      co_return refuse_query("page_size " + std::to_string(q->page_size) +
                             " is out of range 1..1000");
    for (const auto& s : q->severities)
      if (s != "information" && s != "warning" && s != "critical")
        co_return refuse_query("severity \"" + s + "\" is not information, warning or critical");
    if (q->keyword.size() > 200) co_return refuse_query("the keyword is over 200 bytes");
    auto task = [this, q = *q] { return db->query(q, proto::unix_ms_now()); };
    auto r = co_await lane.run(std::move(task), 30s);
    if (!r) co_return refuse_query("the query took over 30 s");
    co_return std::move(*r);
  }

  asio::awaitable<void> serve_queries(bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto page = co_await query(*m);
      bus->respond(*m, proto::to_json(page));
    }
  }

  // Retention (E3): old events go in batches of 1,000, each its own job on the database lane, so
  // an ingest waits at most one batch behind it.
  asio::awaitable<void> retention_loop() {
    if (opt.retention_days <= 0) co_return;
    asio::steady_timer every(ioc);
    for (;;) {
      const std::int64_t before =
          proto::unix_ms_now() - std::int64_t{opt.retention_days} * 24 * 3600 * 1000;
      std::uint64_t deleted = 0;
      for (;;) {
        auto task = [this, before] { return db->delete_older(before, 1000); };
        auto n = co_await lane.run(std::move(task), 60s);
        if (!n || *n == 0) break;
        deleted += *n;
        if (*n < 1000) break;
      }
      if (deleted > 0)
        log.info("retention: deleted " + std::to_string(deleted) + " events older than " +
                 std::to_string(opt.retention_days) + " days");
      every.expires_after(60s);
      co_await every.async_wait(asio::as_tuple(asio::use_awaitable));
    }
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
    daemon::spawn_or_die(ioc.get_executor(),
                         serve_queries(bus->subscribe(std::string(proto::query_subject), 1024)),
                         "queries");
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
  daemon::spawn_or_die(impl_->ioc.get_executor(), impl_->retention_loop(), "retention");
}

}  // namespace hasys::event_store
