#include "manager_store.hpp"

#include "event_db.hpp"
#include "event_export.hpp"

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

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <optional>
#include <thread>

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
  std::uint64_t batches = 0, refused = 0, exports = 0, filtered = 0, forwarded = 0;
  std::vector<proto::fault_rule> rules;  // E4, as in the database
  std::filesystem::path export_dir;

  // Checkpoints of the write-ahead log on a connection and thread of their own: a commit never
  // pays for one (docs/benchmarks.md: batch commits p99 under 10 ms with them off the path).
  std::atomic<bool> stopping{false};
  std::thread checkpointer;

  impl(asio::io_context& i, manager_options o)
      : ioc(i), opt(std::move(o)), log(i.get_executor()), signals(i, SIGINT, SIGTERM) {
    db = std::make_unique<event_db>(opt.database);  // throws: a clear start-up error
    rules = db->rules();
    export_dir = opt.export_dir.empty() ? opt.database.parent_path() / "exports" : opt.export_dir;
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
    // E4: what is kept and what goes to integrators, by server and code.
    std::vector<proto::stored_event> kept, to_forward;
    for (auto& e : rq->events) {
      const auto r = rule_for(e.event.node, e.event.code);
      if (r.forward) to_forward.push_back(e);
      if (r.store)
        kept.push_back(std::move(e));
      else
        ++filtered;
    }
    const std::uint64_t last = rq->events.empty() ? 0 : rq->events.back().seq;
    auto task = [this, node, events = std::move(kept)] {
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
      reply.last_seq = std::max(r->last_seq, last);
      // After the commit, as kept events are: a batch sent again is forwarded again, and
      // integrators tell the two apart by (node, seq).
      for (const auto& e : to_forward)
        bus->publish(proto::itsm_subject(e.event.group, e.event.node), proto::to_json(e));
      forwarded += to_forward.size();
    }
    if (!reply.ok) log.warning("ingest of " + node + " failed: " + reply.error);
    co_return reply;
  }

  // E4: the rule for an event of a server: exact, then the server's "*", then "*" for the code,
  // then "*" for both; none: kept, not forwarded.
  proto::fault_rule rule_for(const std::string& server, const std::string& code) const {
    const proto::fault_rule* best = nullptr;
    int best_rank = 0;
    for (const auto& r : rules) {
      const int rank = r.server == server && r.code == code  ? 4
                       : r.server == server && r.code == "*" ? 3
                       : r.server == "*" && r.code == code   ? 2
                       : r.server == "*" && r.code == "*"    ? 1
                                                             : 0;
      if (rank > best_rank) best = &r, best_rank = rank;
    }
    return best ? *best : proto::fault_rule{server, code, true, false};
  }

  static std::string check_rules(const std::vector<proto::fault_rule>& rs) {
    if (rs.size() > 10000) return std::to_string(rs.size()) + " rules; at most 10000";
    auto name_ok = [](const std::string& s, std::size_t max, bool dots) {
      if (s == "*") return true;
      if (s.empty() || s.size() > max) return false;
      for (unsigned char c : s)
        if (!(std::isalnum(c) || c == '_' || c == '-' || (dots && c == '.'))) return false;
      return true;
    };
    for (std::size_t i = 0; i < rs.size(); ++i) {
      const auto& r = rs[i];
      const std::string at = "rules[" + std::to_string(i) + "]";
      if (!name_ok(r.server, 15, true))
        return at + ".server \"" + r.server + "\" is not a server name or *";
      if (!name_ok(r.code, 40, false))
        return at + ".code \"" + r.code + "\" is not an event code or *";
      for (std::size_t j = 0; j < i; ++j)
        if (rs[j].server == r.server && rs[j].code == r.code)
          return at + " repeats rules[" + std::to_string(j) + "] (" + r.server + ", " + r.code +
                 ")";
    }
    return {};
  }

  asio::awaitable<void> serve_faults_get(bus::subscription get) {
    while (auto m = co_await get.next()) {
      proto::fault_rules_reply reply;
      reply.ok = true;
      reply.rules = rules;
      bus->respond(*m, proto::to_json(reply));
    }
  }

  asio::awaitable<void> serve_faults_set(bus::subscription set) {
    while (auto m = co_await set.next()) {
      proto::fault_rules_reply reply;
      auto rq = proto::from_json<proto::fault_rules>(m->data);
      std::string why =
          rq ? check_rules(rq->rules) : "the rules cannot be read: " + rq.error().message();
      if (why.empty()) {
        auto task = [this, rs = rq->rules] {
          std::string error;
          return db->replace_rules(rs, error) ? std::string() : error;
        };
        auto r = co_await lane.run(std::move(task), 30s);
        why = !r ? "the database did not answer within 30 s" : *r;
        if (why.empty()) rules = rq->rules;
      }
      if (!why.empty()) {
        ++refused;
        log.warning("fault rules refused: " + why);
      } else {
        log.info("fault rules: " + std::to_string(rules.size()) + " in force");
      }
      reply.ok = why.empty();
      reply.error = why;
      reply.rules = rules;
      bus->respond(*m, proto::to_json(reply));
    }
  }

  // What is wrong with a query, or "" (E3 limits).
  static std::string check(const proto::event_query& q) {
    if (q.kind != "detailed" && q.kind != "basic" && q.kind != "window")
      return "kind \"" + q.kind + "\" is not detailed, basic or window";
    if (q.kind == "basic" && q.field != "text" && q.field != "code" && q.field != "group" &&
        q.field != "server")
      return "field \"" + q.field + "\" is not text, code, group or server";
    if (q.page < 1) return "page " + std::to_string(q.page) + " is not 1 or more";
    if (q.page_size < 1 || q.page_size > 1000)
      return "page_size " + std::to_string(q.page_size) + " is out of range 1..1000";
    for (const auto& s : q.severities)
      if (s != "information" && s != "warning" && s != "critical")
        return "severity \"" + s + "\" is not information, warning or critical";
    if (q.keyword.size() > 200) return "the keyword is over 200 bytes";
    return {};
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
    if (auto why = check(*q); !why.empty()) co_return refuse_query(why);
    auto task = [this, q = *q] { return db->query(q, proto::unix_ms_now()); };
    auto r = co_await lane.run(std::move(task), 30s);
    if (!r) co_return refuse_query("the query took over 30 s");
    co_return std::move(*r);
  }

  // An export (E3): the query's rows written as they are read, on the database lane.
  asio::awaitable<proto::export_reply> export_events(const bus::message& m) {
    proto::export_reply reply;
    auto rq = proto::from_json<proto::export_request>(m.data);
    std::string why;
    if (!rq)
      why = "the export request cannot be read: " + rq.error().message();
    else if (rq->format != "csv" && rq->format != "xlsx")
      why = "format \"" + rq->format + "\" is not csv or xlsx";
    else if (rq->max_rows < 1 || rq->max_rows > 1'000'000)
      why = "max_rows " + std::to_string(rq->max_rows) + " is out of range 1..1000000";
    else if (rq->query.kind == "window")
      why = "a window cannot be exported: use a detailed or basic query";
    else
      why = check(rq->query);
    if (!why.empty()) {
      ++refused;
      log.warning("export refused: " + why);
      reply.error = why;
      co_return reply;
    }
    std::error_code ec;
    std::filesystem::create_directories(export_dir, ec);
    const auto file = export_dir / ("events-" + std::to_string(proto::unix_ms_now()) + "-" +
                                    std::to_string(++exports) + "." + rq->format);
    auto task = [this, q = rq->query, max = rq->max_rows, format = rq->format, file] {
      proto::export_reply r;
      try {
        auto sink = format == "csv" ? csv_sink(file) : xlsx_sink(file);
        r.rows = db->for_each_row(q, max, [&](const proto::event_row& row) { sink->row(row); });
        r.error = sink->finish();
      } catch (const std::exception& e) {
        r.error = e.what();
      }
      std::error_code fec;
      r.ok = r.error.empty();
      if (r.ok) {
        r.file = file.string();
        r.bytes = std::filesystem::file_size(file, fec);
      } else {
        std::filesystem::remove(file, fec);
      }
      return r;
    };
    auto r = co_await lane.run(std::move(task), 10min);
    if (!r)
      reply.error = "the export took over 10 minutes";
    else
      reply = std::move(*r);
    if (!reply.ok) log.warning("export failed: " + reply.error);
    co_return reply;
  }

  asio::awaitable<void> serve_exports(bus::subscription sub) {
    while (auto m = co_await sub.next()) {
      auto reply = co_await export_events(*m);
      bus->respond(*m, proto::to_json(reply));
    }
  }

  // Exports older than an hour are removed (the manager API has sent them long before).
  void remove_old_exports() {
    std::error_code ec;
    const auto limit = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
    for (const auto& e : std::filesystem::directory_iterator(export_dir, ec))
      if (e.is_regular_file(ec) && e.last_write_time(ec) < limit)
        std::filesystem::remove(e.path(), ec);
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
    asio::steady_timer every(ioc);
    for (;;) {
      remove_old_exports();
      if (opt.retention_days <= 0) {
        every.expires_after(60s);
        co_await every.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
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
    daemon::spawn_or_die(
        ioc.get_executor(),
        serve_faults_get(bus->subscribe(std::string(proto::faults_get_subject), 64)), "faults.get");
    daemon::spawn_or_die(
        ioc.get_executor(),
        serve_faults_set(bus->subscribe(std::string(proto::faults_set_subject), 64)), "faults.set");
    daemon::spawn_or_die(ioc.get_executor(),
                         serve_exports(bus->subscribe(std::string(proto::export_subject), 64)),
                         "exports");
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
