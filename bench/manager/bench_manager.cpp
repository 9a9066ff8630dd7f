// hasys-bench-manager: the manager under a fleet's load (issue 11, docs/benchmarks.md).
//
//   hasys-bench-manager [--groups 1000] [--seconds 30] [--clients 50] [--rest-seconds 10]
//                       [--rest-connections 2]
//
// A real nats-server as the hub and the real hasys-manager-api. A load generator publishes, for
// every node of --groups HA groups (two nodes each), a status (the size of a real one) and a
// metrics message every second, spread evenly. --clients WebSocket clients (TLS, the session
// cookie) read /api/v1/stream: the delta latency is the time from a status's publication (its
// time_unix_ms) to its node's line arriving at a client. Meanwhile the manager's CPU and RSS are
// sampled from /proc. Then --rest-connections kept-alive HTTPS connections ask
// GET /api/v1/groups as fast as they can: requests per second and latency.
#include <hasys/bus/bus.hpp>
#include <hasys/test/child_process.hpp>
#include <hasys/test/file_wait.hpp>
#include <hasys/test/https_client.hpp>
#include <hasys/test/nats_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * v.size()))];
}

// A status as a real node sends it (the lab's, ~1.6 KB), with its own names and clock.
std::string status(const std::string& g, const std::string& n, const std::string& peer, bool active,
                   std::int64_t t, std::uint64_t count) {
  const std::string role = active ? "active" : "standby", peer_role = active ? "standby" : "active";
  const std::string c = std::to_string(count);
  return R"({"v":1,"group":")" + g + R"(","node":")" + n + R"(","time_unix_ms":)" +
         std::to_string(t) + R"(,"boot_id":1796167429734700796,"role":")" + role +
         R"(","mode":"auto","epoch":1,"role_for_ms":)" + std::to_string(count * 1000) +
         R"(,"healthy":true,"held":false,"handover":false,"handover_request":false,"active_priority":)" +
         (active ? "true" : "false") +
         R"(,"period_ms":1000,"count":3,"gateway":{"configured":true,"address":"198.51.100.1","ok":true},)"
         R"("links":{"heartbeat":{"configured":true,"up":true,"sent":)" +
         c + R"(,"send_errors":0,"received":)" + c +
         R"(,"last_seen_ms_ago":97},"public":{"configured":true,"up":true,"sent":)" + c +
         R"(,"send_errors":0,"received":)" + c + R"(,"last_seen_ms_ago":97}},"peer":{"name":")" +
         peer + R"(","alive":true,"role":")" + peer_role +
         R"(","mode":"auto","epoch":1,"boot_id":1796167429736761378,"gateway_ok":true,"healthy":true,)"
         R"("health_failing":0,"active_priority":false,"held":false,"clock_unix_ms":)" +
         std::to_string(t) + R"(},"flow":{"pending":false,"want_up":)" +
         (active ? "true" : "false") +
         R"(,"epoch":1,"observed":"done","detail":"","standalone":false,"executor_connected":true,)"
         R"("holding":)" +
         (active ? "true" : "false") + R"(,"resources":[{"name":"svc-vip","kind":"vip","state":")" +
         (active ? "present" : "absent") +
         R"(","verified_ms_ago":13,"error":"","errors":0}],"executor_counters":{},"ready":"ready","ready_unix_ms":0},)"
         R"("dropped":{},"health":{"monitor":true,"monitor_seen_ms_ago":152,"failing":0,"reason":"",)"
         R"("findings":[],"processes":[{"name":"web","phase":"up","running":1,"attempt":0,"managed":true}]}})";
}

std::string metrics(const std::string& g, const std::string& n, std::int64_t t, int cpu) {
  return R"({"v":1,"group":")" + g + R"(","node":")" + n + R"(","time_unix_ms":)" +
         std::to_string(t) + R"(,"cpu_percent":)" + std::to_string(cpu) +
         R"(,"memory_percent":41,"processes_total":212,"processes":[{"name":"web","phase":"up","running":1,"attempt":0,"managed":true}],)"
         R"("interfaces":[{"name":"eth0","up":true,"rx_bytes":10676,"tx_bytes":14969,"rx_bytes_per_s":3407.2,"tx_bytes_per_s":11713.1},)"
         R"({"name":"eth1","up":true,"rx_bytes":4830,"tx_bytes":5334,"rx_bytes_per_s":1257.1,"tx_bytes_per_s":2514.2}],)"
         R"("filesystems":[{"mount_point":"/","device":"/dev/vda","size_bytes":270553174016,"used_bytes":20087107584,"used_percent":7}],)"
         R"("facts":{"hardware_model":"","os":"Debian GNU/Linux 12","kernel":"6.1.0","cpu_model":"AMD EPYC","cpu_count":2,"memory_bytes":25275953152}})";
}

struct proc_sample {
  double cpu_seconds;
  long rss_kb;
};
proc_sample sample(pid_t pid) {
  proc_sample s{0, 0};
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  std::istringstream rest(line.substr(close + 2));
  std::string f;
  std::vector<std::string> fields;
  while (rest >> f) fields.push_back(f);
  if (fields.size() > 13)
    s.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / sysconf(_SC_CLK_TCK);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line))
    if (line.starts_with("VmRSS:")) s.rss_kb = std::stol(line.substr(6));
  return s;
}

// The load: every node's status and metrics once a second, spread over the second.
void generate(const std::string& url, int groups, std::atomic<bool>& stop,
              std::atomic<std::uint64_t>& published) {
  asio::io_context ioc;
  auto op = [&]() -> asio::awaitable<void> {
    auto o = hasys::bus::options{};
    o.url = url;
    o.retry_on_failed_connect = false;
    auto c = co_await hasys::bus::connection::open(ioc.get_executor(), o);
    const int nodes = groups * 2;
    asio::steady_timer tick(ioc);
    auto next = std::chrono::steady_clock::now();
    std::uint64_t round = 0;
    int cursor = 0;
    const int per_tick = std::max(1, nodes / 100);  // 100 ticks per second
    while (!stop) {
      next += 10ms;
      for (int k = 0; k < per_tick; ++k) {
        const int i = cursor;
        cursor = (cursor + 1) % nodes;
        if (cursor == 0) ++round;
        char gname[16], nname[16], pname[16];
        std::snprintf(gname, sizeof gname, "g%04d", i / 2);
        std::snprintf(nname, sizeof nname, "n%04d%c", i / 2, i % 2 ? 'b' : 'a');
        std::snprintf(pname, sizeof pname, "n%04d%c", i / 2, i % 2 ? 'a' : 'b');
        const auto t = unix_ms();
        c.publish(std::string("hasys.") + gname + "." + nname + ".status",
                  status(gname, nname, pname, i % 2 == 0, t, round));
        c.publish(std::string("hasys.") + gname + "." + nname + ".metrics",
                  metrics(gname, nname, t, static_cast<int>((round + i) % 100)));
        published += 2;
      }
      tick.expires_at(next);
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    c.close();
  };
  asio::co_spawn(ioc, op(), [](std::exception_ptr e) {
    if (e) std::fprintf(stderr, "load generator stopped\n");
  });
  ioc.run();
}

// The WebSocket clients: each line's time_unix_ms against the clock when it arrives.
struct stream_results {
  std::mutex m;
  std::vector<double> latency_ms;
  std::uint64_t messages = 0, bytes = 0, lines = 0;
  int connected = 0;
};

void clients(std::uint16_t port, const std::string& cookie, int count, std::atomic<bool>& stop,
             std::atomic<bool>& measuring, stream_results& out) {
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  auto one = [&]() -> asio::awaitable<void> {
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, ctx);
    beast::get_lowest_layer(ws).expires_after(10s);
    co_await beast::get_lowest_layer(ws).async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
    co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::decorator(
        [cookie](websocket::request_type& r) { r.set(http::field::cookie, cookie); }));
    co_await ws.async_handshake("127.0.0.1", "/api/v1/stream", asio::use_awaitable);
    {
      std::lock_guard lock(out.m);
      ++out.connected;
    }
    beast::flat_buffer buf;
    std::vector<double> local;
    while (!stop) {
      auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      const auto now = unix_ms();
      const std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (!measuring) continue;
      // Each node line carries "time_unix_ms":N of the status it shows.
      std::uint64_t lines = 0;
      for (auto p = text.find("\"time_unix_ms\":"); p != std::string::npos;
           p = text.find("\"time_unix_ms\":", p + 15)) {
        const auto t = std::strtoll(text.c_str() + p + 15, nullptr, 10);
        if (t > 0) local.push_back(static_cast<double>(now - t));
        ++lines;
      }
      std::lock_guard lock(out.m);
      ++out.messages;
      out.bytes += n;
      out.lines += lines;
      out.latency_ms.insert(out.latency_ms.end(), local.begin(), local.end());
      local.clear();
    }
  };
  for (int i = 0; i < count; ++i) asio::co_spawn(ioc, one(), [](std::exception_ptr) {});
  while (!stop) ioc.run_for(200ms);
  ioc.stop();
}

// Kept-alive HTTPS GETs, as fast as they come back.
void rest_load(std::uint16_t port, const std::string& cookie, std::chrono::seconds span,
               std::vector<double>& latency_ms, std::uint64_t& bytes) {
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> s(ioc, ctx);
  beast::get_lowest_layer(s).connect({asio::ip::make_address("127.0.0.1"), port});
  s.handshake(asio::ssl::stream_base::client);
  const auto end = std::chrono::steady_clock::now() + span;
  beast::flat_buffer buf;
  while (std::chrono::steady_clock::now() < end) {
    http::request<http::empty_body> rq{http::verb::get, "/api/v1/groups", 11};
    rq.set(http::field::host, "127.0.0.1");
    rq.set(http::field::cookie, cookie);
    rq.keep_alive(true);
    const auto t0 = std::chrono::steady_clock::now();
    http::write(s, rq);
    http::response_parser<http::string_body> p;
    p.body_limit(512 * 1024 * 1024);
    http::read(s, buf, p);
    latency_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    bytes += p.get().body().size();
  }
}

}  // namespace

int main(int argc, char** argv) {
  int groups = 1000, seconds = 30, client_count = 50, rest_seconds = 10, rest_connections = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--groups")
      groups = v;
    else if (a == "--seconds")
      seconds = v;
    else if (a == "--clients")
      client_count = v;
    else if (a == "--rest-seconds")
      rest_seconds = v;
    else if (a == "--rest-connections")
      rest_connections = v;
    else
      return std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2;
  }
  const fs::path dir =
      fs::temp_directory_path() / ("hasys-bench-manager-" + std::to_string(getpid()));
  fs::create_directories(dir);
  hasys::test::nats_server hub;
  std::optional<hasys::test::child_process> api;
  std::uint16_t port = 0;
  {
    hasys::test::file_watch watch(dir);
    api.emplace(hasys::test::child_process::spec{
        HASYS_MANAGER_API,
        {"--listen", "127.0.0.1:0", "--port-file", (dir / "port").string(), "--db",
         (dir / "manager.db").string(), "--tls-cert", (dir / "tls.crt").string(), "--tls-key",
         (dir / "tls.key").string(), "--bus", hub.url(), "--bcrypt-cost", "4"},
        dir / "manager-api.log"});
    auto p = watch.wait_for(dir / "port", *api, 20s);
    if (!p) return std::fprintf(stderr, "hasys-manager-api did not start\n"), 1;
    port = static_cast<std::uint16_t>(std::stoi(*p));
  }
  hasys::test::https_client c("127.0.0.1", port);
  c.login("hasys", "manager");
  c.request("PUT", "/api/v1/session/password",
            R"({"current_password":"manager","new_password":"bench-pass-1"})");
  const std::string cookie = c.cookie;

  std::atomic<bool> stop{false}, measuring{false};
  std::atomic<std::uint64_t> published{0};
  std::thread load([&] { generate(hub.url(), groups, stop, published); });
  stream_results sr;
  std::thread streams([&] { clients(port, cookie, client_count, stop, measuring, sr); });

  std::printf("warming up: %d groups (%d nodes), %d stream clients\n", groups, groups * 2,
              client_count);
  std::this_thread::sleep_for(5s);  // every node heard, every client connected
  measuring = true;
  const auto s0 = sample(api->pid());
  const auto t0 = std::chrono::steady_clock::now();
  const auto p0 = published.load();
  long rss_max = s0.rss_kb;
  std::vector<double> cpu_per_second;
  auto prev = s0;
  for (int i = 0; i < seconds; ++i) {
    std::this_thread::sleep_for(1s);
    auto s = sample(api->pid());
    cpu_per_second.push_back((s.cpu_seconds - prev.cpu_seconds) * 100.0);
    rss_max = std::max(rss_max, s.rss_kb);
    prev = s;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto s1 = sample(api->pid());
  measuring = false;
  const double rate = (published.load() - p0) / elapsed;

  // REST while the load goes on (the stream clients stay connected).
  std::vector<std::vector<double>> rest_lat(rest_connections);
  std::vector<std::uint64_t> rest_bytes(rest_connections);
  std::vector<std::thread> rest;
  for (int i = 0; i < rest_connections; ++i)
    rest.emplace_back([&, i] {
      rest_load(port, cookie, std::chrono::seconds(rest_seconds), rest_lat[i], rest_bytes[i]);
    });
  for (auto& t : rest) t.join();
  std::vector<double> all_rest;
  std::uint64_t body_bytes = 0;
  for (int i = 0; i < rest_connections; ++i) {
    all_rest.insert(all_rest.end(), rest_lat[i].begin(), rest_lat[i].end());
    body_bytes += rest_bytes[i];
  }
  const auto s2 = sample(api->pid());

  stop = true;
  load.join();
  streams.join();

  std::lock_guard lock(sr.m);
  std::printf("\nload: %.0f messages/s published (status + metrics of %d nodes)\n", rate,
              groups * 2);
  std::printf("manager CPU: %.1f %% of a core on average over %d s (max of 1 s samples %.1f %%)\n",
              (s1.cpu_seconds - s0.cpu_seconds) / elapsed * 100.0, seconds,
              *std::max_element(cpu_per_second.begin(), cpu_per_second.end()));
  std::printf("manager RSS: %.1f MB at most (%.1f MB at the end of the REST phase)\n",
              rss_max / 1024.0, s2.rss_kb / 1024.0);
  std::printf(
      "stream: %d clients connected, %.1f messages/s per client, %.0f KB/s per client, "
      "%.0f node lines/s per client\n",
      sr.connected, sr.messages / elapsed / std::max(1, sr.connected),
      sr.bytes / elapsed / 1024.0 / std::max(1, sr.connected),
      sr.lines / elapsed / std::max(1, sr.connected));
  std::printf(
      "stream delta latency (status published -> line at the client): p50 %.0f ms, "
      "p99 %.0f ms, max %.0f ms over %zu lines\n",
      percentile(sr.latency_ms, 50), percentile(sr.latency_ms, 99), percentile(sr.latency_ms, 100),
      sr.latency_ms.size());
  std::printf(
      "REST GET /api/v1/groups (%d kept-alive connections, %d s): %.1f requests/s, "
      "p50 %.1f ms, p99 %.1f ms, %.1f MB per answer\n",
      rest_connections, rest_seconds, all_rest.size() / static_cast<double>(rest_seconds),
      percentile(all_rest, 50), percentile(all_rest, 99),
      all_rest.empty() ? 0.0 : body_bytes / 1048576.0 / all_rest.size());
  api->stop();
  fs::remove_all(dir);
  return 0;
}
