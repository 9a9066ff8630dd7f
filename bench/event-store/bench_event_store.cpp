// hasys-bench-event-store: fills an event database the way nodes do (batches of 500, one
// transaction each, synchronous FULL) and measures the ingest rate, the commit time of each
// batch, and the queries of the UI over what is stored: the latest 100 (all groups; one group)
// and a filtered time-range search (one group, critical, one day of a month).
//
//   hasys-bench-event-store [--events 10000000] [--batch 500] [--db FILE] [--runs 1000]
#include "event_db.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace proto = hasys::proto;
using hasys::event_store::event_db;
using clock_type = std::chrono::steady_clock;

namespace {

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct stats {
  std::vector<double> v;
  double pct(double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1,
                      static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())))];
  }
};

constexpr std::int64_t t0 = 1'790'000'000'000;          // the first event's node time
constexpr std::int64_t span = 30LL * 24 * 3600 * 1000;  // a month of events

const char* texts[] = {"This node is Standby [node-%d]", "Subnode is not responding [node-%d]",
                       "Virtual IP is normal [VIP: 198.51.100.%d]", "Data sync is normal [r%d]",
                       "Active node is not in standby [%d]"};
const char* codes[] = {"standby", "peer_lost", "vip_up", "drbd_normal", "two_actives"};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t events = 10'000'000;
  int batch = 500, runs = 1000;
  fs::path db_file = fs::temp_directory_path() / "hasys-bench-events.db";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--events")
      events = std::stoull(argv[i + 1]);
    else if (a == "--batch")
      batch = std::stoi(argv[i + 1]);
    else if (a == "--runs")
      runs = std::stoi(argv[i + 1]);
    else if (a == "--db")
      db_file = argv[i + 1];
    else
      return std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2;
  }
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(db_file.string() + s);
  event_db db(db_file);
  // As the store does: checkpoints on a connection and thread of their own.
  std::atomic<bool> stop{false};
  std::thread checkpointer([&] {
    event_db c(db_file);
    while (!stop) {
      c.checkpoint();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  std::mt19937_64 rng(42);
  const int nodes = 40, groups = 20;
  std::vector<std::uint64_t> seq(nodes, 0);

  // ---- ingest ----
  stats commit;
  const auto started = clock_type::now();
  std::uint64_t done = 0;
  while (done < events) {
    const int node = static_cast<int>(rng() % nodes);
    std::vector<proto::stored_event> b;
    const auto n = static_cast<std::uint64_t>(std::min<std::uint64_t>(batch, events - done));
    for (std::uint64_t i = 0; i < n; ++i) {
      proto::event_msg e;
      const auto k = done + i;
      e.time_unix_ms =
          t0 + static_cast<std::int64_t>(k * static_cast<std::uint64_t>(span) / events);
      e.group = "g" + std::to_string(node % groups);
      e.node = "node-" + std::to_string(node);
      e.source = "heartbeat";
      const int kind = static_cast<int>(rng() % 5);
      e.level = kind == 1 || kind == 4 ? hasys::cluster::severity::critical
                                       : hasys::cluster::severity::information;
      e.code = codes[kind];
      char text[96];
      std::snprintf(text, sizeof text, texts[kind], static_cast<int>(rng() % 200));
      e.text = text;
      b.push_back({1, ++seq[static_cast<std::size_t>(node)], std::move(e)});
    }
    const auto c0 = clock_type::now();
    auto r = db.insert("node-" + std::to_string(node), b, proto::unix_ms_now());
    commit.v.push_back(ms(clock_type::now() - c0));
    if (!r.ok) return std::fprintf(stderr, "insert failed: %s\n", r.error.c_str()), 1;
    done += n;
    if (done % 1'000'000 < static_cast<std::uint64_t>(batch))
      std::fprintf(stderr, "  %llu events, %.0f /s\n", static_cast<unsigned long long>(done),
                   static_cast<double>(done) /
                       std::chrono::duration<double>(clock_type::now() - started).count());
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - started).count();
  stop = true;
  checkpointer.join();
  std::printf(
      "ingest: %llu events in %.1f s = %.0f events/s; batch of %d committed (synchronous FULL) "
      "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      static_cast<unsigned long long>(events), secs, static_cast<double>(events) / secs, batch,
      commit.pct(50), commit.pct(99), commit.pct(100));

  // ---- queries ----
  auto measure = [&](const char* what, auto make) {
    stats s;
    std::uint64_t rows = 0;
    for (int i = 0; i < runs; ++i) {
      proto::event_query q = make(i);
      const auto q0 = clock_type::now();
      auto page = db.query(q, t0 + span);
      s.v.push_back(ms(clock_type::now() - q0));
      rows += page.events.size();
    }
    std::printf("%s: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%.1f rows per page)\n", what, s.pct(50),
                s.pct(99), s.pct(100), static_cast<double>(rows) / runs);
  };
  measure("latest 100, every group", [](int) {
    proto::event_query q;
    q.scope = {"*"};
    return q;
  });
  measure("latest 100, one group", [&](int i) {
    proto::event_query q;
    q.scope = {"g" + std::to_string(i % groups)};
    return q;
  });
  measure("one group, critical, one day of the month, page 1", [&](int i) {
    proto::event_query q;
    q.scope = {"*"};
    q.groups = {"g" + std::to_string(i % groups)};
    q.severities = {"critical"};
    q.from_unix_ms = t0 + (i % 29) * 24LL * 3600 * 1000;
    q.to_unix_ms = q.from_unix_ms + 24LL * 3600 * 1000;
    return q;
  });
  measure("keyword in every group, one day, page 1", [&](int i) {
    proto::event_query q;
    q.scope = {"*"};
    q.keyword = "not responding";
    q.from_unix_ms = t0 + (i % 29) * 24LL * 3600 * 1000;
    q.to_unix_ms = q.from_unix_ms + 24LL * 3600 * 1000;
    return q;
  });
  std::printf("database: %s, %.0f MB\n", db_file.c_str(),
              static_cast<double>(fs::file_size(db_file)) / 1e6);
  return 0;
}
