// hasys-bench-event-e2e: end-to-end latency of an event, node -> manager database (issue 10).
// A real nats-server with JetStream (the node's bus and, here, the hub in one), hasys-event-store
// in node and manager mode, and a daemon's outbox raising events at a steady rate. Each event
// carries its node time; the manager stores its receive time: the latency is their difference
// (one clock: one machine).
//
//   hasys-bench-event-e2e [--rate 1000] [--seconds 10] [--event-store PATH]
#include "event_db.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/events/outbox.hpp>
#include <hasys/test/child_process.hpp>
#include <hasys/test/nats_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;
namespace proto = hasys::proto;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  int rate = 1000, seconds = 10;
  std::string event_store = HASYS_EVENT_STORE;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rate")
      rate = std::stoi(argv[i + 1]);
    else if (a == "--seconds")
      seconds = std::stoi(argv[i + 1]);
    else if (a == "--event-store")
      event_store = argv[i + 1];
    else
      return std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2;
  }
  hasys::test::nats_server_options no;
  no.jetstream = true;
  hasys::test::nats_server nats(no);
  const fs::path dir = nats.dir() / "bench";
  fs::create_directories(dir);
  std::ofstream(dir / "key") << std::string(64, 'a') << "\n";
  fs::permissions(dir / "key", fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(dir / "node.toml")
      << "[node]\nname = \"node-a\"\nstate_dir = \"" << (dir / "state").string()
      << "\"\ncommand_dir = \"" << (dir / "cmd").string() << "\"\nbus_url = \"" << nats.url()
      << "\"\n\n[log]\nsize_mb = 256\n\n[[group]]\nname = \"g\"\npeer = \"node-b\"\nkey_file = "
         "\"key\"\n"
         "public_interface = \"eth0\"\n\n[group.public]\nself = \"203.0.113.11\"\npeer = "
         "\"203.0.113.12\"\n"
         "port = 29955\n\n[[group.flow]]\ntype = \"wait\"\nname = \"w\"\nseconds = 1\n";
  hasys::test::child_process store(
      {event_store,
       {"--manager", "--db", (dir / "events.db").string(), "--bus", nats.url()},
       dir / "store.log"});
  hasys::test::child_process forwarder(
      {event_store, {"--config", (dir / "node.toml").string()}, dir / "forwarder.log"});

  const int total = rate * seconds;
  boost::asio::io_context ioc;
  hasys::events::outbox out({"bench", 256 << 20, 1'000'000, {}});
  std::optional<hasys::bus::connection> conn;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        hasys::bus::options o;
        o.url = nats.url();
        conn.emplace(co_await hasys::bus::connection::open(ioc.get_executor(), o));
        out.attach(*conn);
        boost::asio::steady_timer t(ioc);
        auto next = std::chrono::steady_clock::now() + 1s;  // the forwarder settles first
        for (int i = 0; i < total; ++i) {
          t.expires_at(next);
          co_await t.async_wait(boost::asio::use_awaitable);
          proto::event_msg e;
          e.time_unix_ms = proto::unix_ms_now();
          e.group = "g";
          e.node = "node-a";
          e.source = "bench";
          e.code = "bench";
          e.text = std::to_string(i);
          out.raise(e);
          next += std::chrono::microseconds(1'000'000 / rate);
        }
        co_await out.drain(30s);
        conn->close();
        ioc.stop();  // the outbox waits for more events forever
      },
      boost::asio::detached);
  ioc.run();

  // Wait for all of them in the manager's database, then read each one's latency.
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    if (fs::exists(dir / "events.db") && hasys::event_store::event_db(dir / "events.db").count() >=
                                             static_cast<std::uint64_t>(total))
      break;
    std::this_thread::sleep_for(50ms);
  }
  sqlite3* db = nullptr;
  sqlite3_open((dir / "events.db").c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT recv_ms - time_ms FROM events", -1, &st, nullptr);
  std::vector<double> lat;
  while (sqlite3_step(st) == SQLITE_ROW)
    lat.push_back(static_cast<double>(sqlite3_column_int64(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (lat.size() != static_cast<std::size_t>(total)) {
    std::fprintf(stderr, "only %zu of %d events arrived\n", lat.size(), total);
    return 1;
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat[std::min(lat.size() - 1, static_cast<std::size_t>(p / 100 * lat.size()))];
  };
  std::printf(
      "end to end (raised on the node -> committed in the manager's database), %d events at %d/s: "
      "p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
      total, rate, pct(50), pct(99), pct(100));
  return 0;
}
