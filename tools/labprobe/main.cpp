// hasys-labprobe: the lab's client. Pings a virtual IP and connects to its name service, and
// prints, per probe kind, the largest interval without a success and which node answered.
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "icmp_pinger.hpp"
#include "success_log.hpp"
#include "tcp_prober.hpp"

namespace {

using namespace std::chrono_literals;
using namespace hasys::labprobe;
using steady = std::chrono::steady_clock;

constexpr std::string_view usage_text =
    "usage: hasys-labprobe [--target 198.51.100.100] [--port 8080] [--icmp-every 1000us]\n"
    "                      [--tcp-every 10ms] [--tcp-timeout 200ms] [--max-in-flight 64]\n"
    "                      [--for 60s] [--settle 0s] [--ready FILE]\n"
    "Probes until SIGINT/SIGTERM, --for, or --settle after a node other than the first one\n"
    "answered TCP; then prints one JSON object (gaps in ms, times in unix ms, CLOCK_REALTIME).\n";

struct options {
  in_addr target{};
  std::uint16_t port = 8080;
  std::chrono::microseconds icmp_every = 1000us;
  std::chrono::microseconds tcp_every = 10ms;
  std::chrono::microseconds tcp_timeout = 200ms;
  std::size_t max_in_flight = 64;
  std::chrono::microseconds run_for = 60s;
  std::chrono::microseconds settle = 0s;
  std::string ready_file;
};

// "1000us", "10ms", "1.5s": a duration in microseconds, or nothing.
std::optional<std::chrono::microseconds> parse_duration(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || value < 0) return std::nullopt;
  const std::string_view unit(end, text.data() + text.size() - end);
  double scale = 0;
  if (unit == "us")
    scale = 1;
  else if (unit == "ms")
    scale = 1e3;
  else if (unit == "s")
    scale = 1e6;
  else
    return std::nullopt;
  return std::chrono::microseconds(std::llround(value * scale));
}

[[noreturn]] void refuse(const std::string& message) {
  std::cerr << "hasys-labprobe: " << message << "\n" << usage_text;
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options o;
  ::inet_pton(AF_INET, "198.51.100.100", &o.target);
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (name == "-h" || name == "--help") {
      std::cout << usage_text;
      std::exit(0);
    }
    if (i + 1 >= argc) refuse(std::string(name) + " needs a value");
    const std::string_view value = argv[++i];
    const auto duration = [&](std::chrono::microseconds& out, std::chrono::microseconds min) {
      auto d = parse_duration(value);
      if (!d || *d < min)
        refuse(std::string(name) + ": '" + std::string(value) + "' is not a duration of at least " +
               std::to_string(min.count()) + "us (like 1000us, 10ms, 1.5s)");
      out = *d;
    };
    if (name == "--target") {
      if (::inet_pton(AF_INET, std::string(value).c_str(), &o.target) != 1)
        refuse("--target: '" + std::string(value) + "' is not an IPv4 address");
    } else if (name == "--port") {
      unsigned port = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (ec != std::errc{} || p != value.data() + value.size() || port == 0 || port > 65535)
        refuse("--port: '" + std::string(value) + "' is not a port 1..65535");
      o.port = static_cast<std::uint16_t>(port);
    } else if (name == "--max-in-flight") {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || p != value.data() + value.size() || n < 1 || n > 1000)
        refuse("--max-in-flight: '" + std::string(value) + "' must be 1..1000");
      o.max_in_flight = n;
    } else if (name == "--icmp-every")
      duration(o.icmp_every, 100us);
    else if (name == "--tcp-every")
      duration(o.tcp_every, 1000us);
    else if (name == "--tcp-timeout")
      duration(o.tcp_timeout, 1000us);
    else if (name == "--for")
      duration(o.run_for, 1000us);
    else if (name == "--settle")
      duration(o.settle, 0us);
    else if (name == "--ready")
      o.ready_file = value;
    else
      refuse("unknown option '" + std::string(name) + "'");
  }
  return o;
}

double unix_ms(const stamp& s) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(s.wall.time_since_epoch()).count();
  return static_cast<double>(us) / 1000.0;
}

double ms(std::chrono::nanoseconds d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) /
         1000.0;
}

boost::json::object gaps_json(const success_log& log, const stamp& end) {
  boost::json::object o;
  o["successes"] = log.count();
  if (const auto& g = log.largest_gap()) {
    o["largest_gap_ms"] = ms(g->length);
    o["gap_start_unix_ms"] = unix_ms(g->from);
    o["gap_end_unix_ms"] = unix_ms(g->to);
  } else {
    o["largest_gap_ms"] = nullptr;
  }
  if (const auto& l = log.last()) {
    o["last_success_unix_ms"] = unix_ms(*l);
    o["since_last_success_ms"] = ms(end.mono - l->mono);  // a gap still open at the end
  }
  return o;
}

// The main loop: one thread, ppoll with microsecond timeouts over the signalfd, the raw ICMP
// socket and every TCP attempt in flight.
struct prober {
  options opt;
  unique_fd signals;
  icmp_pinger pinger;
  tcp_prober tcp;
  success_log icmp_log, tcp_log;
  std::string stopped_by;

  explicit prober(const options& o, int signal_fd)
      : opt(o),
        signals(signal_fd),
        pinger(o.target),
        tcp(tcp_target(o), std::chrono::duration_cast<std::chrono::milliseconds>(o.tcp_timeout),
            o.max_in_flight) {}

  static sockaddr_in tcp_target(const options& o) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr = o.target;
    a.sin_port = htons(o.port);
    return a;
  }

  void write_ready_once(bool& written) {
    if (written || opt.ready_file.empty() || icmp_log.count() == 0 || tcp_log.count() == 0) return;
    std::ofstream(opt.ready_file) << tcp_log.node_after() << '\n';
    written = true;
  }

  // Sends what is due and returns the next instant anything is due.
  steady::time_point send_due(steady::time_point now, steady::time_point& next_icmp,
                              steady::time_point& next_tcp) {
    // After a stall (a frozen machine), resume the rhythm instead of bursting to catch up.
    if (now - next_icmp > opt.icmp_every * 10) next_icmp = now;
    if (now - next_tcp > opt.tcp_every * 10) next_tcp = now;
    while (next_icmp <= now) {
      pinger.send();
      next_icmp += opt.icmp_every;
    }
    while (next_tcp <= now) {
      tcp.start(now);
      next_tcp += opt.tcp_every;
    }
    auto next = std::min(next_icmp, next_tcp);
    if (auto d = tcp.expire(now)) next = std::min(next, *d);
    return next;
  }

  void run() {
    const auto start = steady::now();
    const auto end = start + opt.run_for;
    auto next_icmp = start, next_tcp = start;
    bool ready_written = false;
    std::vector<pollfd> fds;
    while (stopped_by.empty()) {
      auto now = steady::now();
      if (now >= end) {
        stopped_by = "for";
        break;
      }
      auto next = std::min(send_due(now, next_icmp, next_tcp), end);
      if (opt.settle.count() > 0 && tcp_log.moved_at()) {
        const auto settled = tcp_log.moved_at()->mono + opt.settle;
        if (now >= settled) {
          stopped_by = "settled";
          break;
        }
        next = std::min(next, settled);
      }
      fds.assign({pollfd{signals.get(), POLLIN, 0}, pollfd{pinger.fd(), POLLIN, 0}});
      tcp.fill(fds);
      const auto wait = std::max(next - steady::now(), steady::duration::zero());
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(wait);
      const timespec timeout{secs.count(), static_cast<long>((wait - secs).count())};
      if (::ppoll(fds.data(), fds.size(), &timeout, nullptr) < 0 && errno != EINTR)
        throw std::system_error(errno, std::system_category(), "ppoll");
      if (fds[0].revents) stopped_by = "signal";
      if (fds[1].revents) pinger.receive(icmp_log);
      tcp.handle(fds.data() + 2, fds.size() - 2, tcp_log);
      write_ready_once(ready_written);
    }
  }

  std::string report(const stamp& started, const stamp& ended) const {
    char target[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &opt.target, target, sizeof target);
    boost::json::object icmp = gaps_json(icmp_log, ended);
    icmp["every_us"] = opt.icmp_every.count();
    icmp["sent"] = pinger.sent();
    icmp["send_errors"] = pinger.send_errors();
    boost::json::object t = gaps_json(tcp_log, ended);
    const auto& c = tcp.counters();
    t["every_ms"] = static_cast<double>(opt.tcp_every.count()) / 1000.0;
    t["timeout_ms"] = static_cast<double>(opt.tcp_timeout.count()) / 1000.0;
    t["attempts"] = c.attempts;
    t["timeouts"] = c.timeouts;
    t["refused"] = c.refused;
    t["errors"] = c.errors;
    t["skipped"] = c.skipped;
    t["node_before"] = tcp_log.node_before();
    t["node_after"] = tcp_log.node_after();
    if (tcp_log.moved_at())
      t["moved_unix_ms"] = unix_ms(*tcp_log.moved_at());
    else
      t["moved_unix_ms"] = nullptr;
    boost::json::object o;
    o["target"] = target;
    o["port"] = opt.port;
    o["start_unix_ms"] = unix_ms(started);
    o["end_unix_ms"] = unix_ms(ended);
    o["stopped_by"] = stopped_by;
    o["icmp"] = std::move(icmp);
    o["tcp"] = std::move(t);
    return boost::json::serialize(o);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const auto opt = parse_options(argc, argv);
  try {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
      throw std::system_error(errno, std::system_category(), "sigprocmask");
    const int signal_fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0) throw std::system_error(errno, std::system_category(), "signalfd");
    prober p(opt, signal_fd);
    const auto started = stamp::now();
    p.run();
    std::cout << p.report(started, stamp::now()) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "hasys-labprobe: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
