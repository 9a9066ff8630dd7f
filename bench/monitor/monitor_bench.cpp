// hasys-monitor's figures (issue 9): from a managed process's death to the unhealthy verdict on the
// bus, and to the process running again through the executor's restart; and the monitor's own CPU
// and memory while 2,000 other processes run. A real nats-server, hasys-monitor, hasys-executor
// (--simulate: restarts are real processes, no root needed) and real processes.
//
//   build/bench/monitor/hasys-bench-monitor [--runs 50] [--processes 2000] [--seconds 60]
//
// Prints a Markdown table for docs/benchmarks.md.
#include <hasys/bus/bus.hpp>
#include <hasys/proto/messages.hpp>
#include <hasys/proto/monitor_messages.hpp>
#include <hasys/test/child_process.hpp>
#include <hasys/test/nats_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace proto = hasys::proto;
using hasys::test::child_process;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Everything on hasys.> (health, events, metrics), stamped on arrival, in a thread of its own.
class tap {
 public:
  struct entry {
    std::string subject, data;
    clock_type::time_point at;
  };
  explicit tap(const std::string& url) {
    thread_ = std::thread([this, url] {
      boost::asio::co_spawn(ioc_, listen(url), boost::asio::detached);
      ioc_.run();
    });
    std::unique_lock lock(m_);
    cv_.wait_for(lock, 10s, [&] { return ready_; });
  }
  ~tap() {
    boost::asio::post(ioc_, [this] {
      if (conn_) conn_->close();
      ioc_.stop();
    });
    thread_.join();
  }
  std::size_t size() {
    std::lock_guard lock(m_);
    return entries_.size();
  }
  std::optional<entry> wait_for(const std::function<bool(const entry&)>& pred,
                                std::chrono::milliseconds timeout, std::size_t from) {
    std::unique_lock lock(m_);
    std::optional<entry> found;
    cv_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < entries_.size(); ++i)
        if (pred(entries_[i])) return found = entries_[i], true;
      return false;
    });
    return found;
  }

 private:
  boost::asio::awaitable<void> listen(std::string url) {
    hasys::bus::options o;
    o.url = url;
    o.name = "monitor-bench";
    conn_.emplace(co_await hasys::bus::connection::open(ioc_.get_executor(), o));
    auto all = conn_->subscribe("hasys.>", 1000000);
    co_await conn_->flush(5s);
    {
      std::lock_guard lock(m_);
      ready_ = true;
    }
    cv_.notify_all();
    while (auto m = co_await all.next()) {
      {
        std::lock_guard lock(m_);
        entries_.push_back({m->subject, m->data, clock_type::now()});
      }
      cv_.notify_all();
    }
  }
  boost::asio::io_context ioc_;
  std::optional<hasys::bus::connection> conn_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  bool ready_ = false;
  std::vector<entry> entries_;
};

std::optional<proto::health_msg> health_of(const tap::entry& e) {
  if (e.subject != proto::health_subject("g", "node-a")) return std::nullopt;
  auto h = proto::from_json<proto::health_msg>(e.data);
  if (!h) return std::nullopt;
  return *h;
}

bool event_is(const tap::entry& e, const std::string& code) {
  if (e.subject != "hasys.evt.g.node-a") return false;
  auto ev = proto::from_json<proto::event_msg>(e.data);
  return ev && ev->code == code;
}

struct stats {
  std::vector<double> v;
  double pct(double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(
        std::max(0.0, std::ceil(p / 100.0 * static_cast<double>(v.size())) - 1));
    return v[std::min(i, v.size() - 1)];
  }
};

std::string fmt(double ms) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", ms);
  return b;
}

struct rig {
  fs::path dir;
  hasys::test::nats_server nats{hasys::test::nats_server_options{.jetstream = true}};
  std::optional<tap> bus;
  std::string app;

  rig() {
    dir = fs::temp_directory_path() / ("hmb" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "scripts");
    std::ofstream(dir / "key") << std::string(64, 'a') << "\n";
    fs::permissions(dir / "key", fs::perms::owner_read | fs::perms::owner_write);
    app = script("app.sh", "while :; do sleep 1; done");
    bus.emplace(nats.url());
  }
  ~rig() {
    bus.reset();
    std::system(("pkill -KILL -f '" + app + "' 2>/dev/null").c_str());
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string script(const std::string& name, const std::string& body) {
    const auto p = dir / "scripts" / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
  }
  void config(const std::string& period, const std::string& process_extra) {
    std::ofstream(dir / "node.toml", std::ios::trunc)
        << "[node]\nname = \"node-a\"\nstate_dir = \"" << (dir / "state").string()
        << "\"\ncommand_dir = \"" << (dir / "cmd").string() << "\"\nbus_url = \"" << nats.url()
        << "\"\ncontrol_socket_dir = \"" << (dir / "run").string()
        << "\"\n\n[[group]]\nname = \"g\"\npeer = \"node-b\"\nkey_file = \"key\"\npolling_period = "
           "\"100ms\"\n"
           "public_interface = \"eth0\"\n\n[group.public]\nself = \"203.0.113.11\"\npeer = "
           "\"203.0.113.12\"\n"
           "port = 29955\n\n[[group.flow]]\ntype = \"wait\"\nname = \"w\"\nseconds = "
           "1\n\n[group.monitor]\nperiod = \""
        << period
        << "\"\n\n[[group.monitor.process]]\nname = \"app\"\nmatch = \"cmdline\"\npattern = \""
        << app << "\"\non = \"both\"\nmanaged = true\n"
        << process_extra << "\n";
  }
  child_process daemon(const char* program, std::vector<std::string> extra,
                       const std::string& log) {
    std::vector<std::string> args{"--config", (dir / "node.toml").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return child_process({program, args, dir / log});
  }
  child_process start_app() { return child_process({"/bin/sh", {app}, dir / "app.log"}); }
  bool wait_running(std::size_t from) {
    return bus
        ->wait_for(
            [](const tap::entry& e) {
              auto h = health_of(e);
              return h && h->healthy && !h->processes.empty() && h->processes[0].running >= 1 &&
                     h->processes[0].phase == "up";
            },
            15s, from)
        .has_value();
  }
};

// Kill → unhealthy on the bus (no recovery): the pidfd path.
void detection(int runs, const std::string& period, stats& out) {
  rig r;
  r.config(period, "");
  auto monitor = r.daemon(HASYS_MONITOR, {}, "monitor.log");
  for (int i = 0; i < runs; ++i) {
    const auto from = r.bus->size();
    auto app = r.start_app();
    if (!r.wait_running(from)) {
      std::fprintf(stderr, "run %d: the app was never seen running\n", i);
      continue;
    }
    const auto mark = r.bus->size();
    const auto killed = clock_type::now();
    app.signal(SIGKILL);
    auto e = r.bus->wait_for(
        [](const tap::entry& x) {
          auto h = health_of(x);
          return h && !h->healthy;
        },
        5s, mark);
    if (!e) {
      std::fprintf(stderr, "run %d: no unhealthy verdict within 5 s\n", i);
      continue;
    }
    out.v.push_back(std::chrono::duration<double, std::milli>(e->at - killed).count());
  }
}

// Kill → the executor ran the start command → the process is seen again (process_recovered).
void restart(int runs, stats& detect, stats& back) {
  rig r;
  const auto start =
      r.script("start.sh", "setsid /bin/sh " + r.app + " >/dev/null 2>&1 </dev/null &");
  r.config("1s", "recovery = true\nstart = \"" + start + "\"\nstart_time = \"5s\"\nretries = 3\n");
  auto executor = r.daemon(HASYS_EXECUTOR, {"--simulate"}, "executor.log");
  auto monitor = r.daemon(HASYS_MONITOR, {}, "monitor.log");
  auto app = std::optional<child_process>(r.start_app());
  if (!r.wait_running(0)) return;
  for (int i = 0; i < runs; ++i) {
    // The running copy: the first is ours, later ones were started by the executor.
    std::string pids;
    {
      std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(("pgrep -f '" + r.app + "'").c_str(), "r"),
                                              ::pclose);
      char buf[64];
      while (p && std::fgets(buf, sizeof buf, p.get())) pids += std::string(buf);
    }
    const int pid = std::atoi(pids.c_str());
    if (pid <= 0) break;
    const auto mark = r.bus->size();
    const auto killed = clock_type::now();
    ::kill(pid, SIGKILL);
    if (app && app->pid() == pid) app->wait_exit(1s);
    auto down =
        r.bus->wait_for([](const tap::entry& x) { return event_is(x, "process_down"); }, 5s, mark);
    auto up = r.bus->wait_for([](const tap::entry& x) { return event_is(x, "process_recovered"); },
                              10s, mark);
    if (!down || !up) {
      std::fprintf(stderr, "restart run %d: no %s\n", i,
                   !down ? "process_down" : "process_recovered");
      continue;
    }
    detect.v.push_back(std::chrono::duration<double, std::milli>(down->at - killed).count());
    back.v.push_back(std::chrono::duration<double, std::milli>(up->at - killed).count());
    r.wait_running(r.bus->size() > 0 ? mark : 0);
  }
}

struct footprint {
  double cpu_percent = 0;
  long rss_kb = 0, hwm_kb = 0;
  std::size_t processes = 0;
};

long status_kb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::atol(line.c_str() + key.size() + 1);
  return 0;
}

long cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto close = text.rfind(')');
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) {
      stime = std::atol(field.c_str());
      break;
    }
  }
  return utime + stime;
}

footprint measure_footprint(int processes, int seconds) {
  rig r;
  r.config("1s", "");
  std::vector<pid_t> crowd;
  for (int i = 0; i < processes; ++i) {
    pid_t p = ::fork();
    if (p == 0) {
      ::execlp("sleep", "sleep", "3600", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (p > 0) crowd.push_back(p);
  }
  auto app = r.start_app();
  auto monitor = r.daemon(HASYS_MONITOR, {}, "monitor.log");
  r.wait_running(0);
  std::this_thread::sleep_for(5s);  // past the first full reads
  footprint f;
  const long t0 = cpu_ticks(monitor.pid());
  const auto w0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const long t1 = cpu_ticks(monitor.pid());
  const double wall = std::chrono::duration<double>(clock_type::now() - w0).count();
  f.cpu_percent =
      100.0 * static_cast<double>(t1 - t0) / static_cast<double>(::sysconf(_SC_CLK_TCK)) / wall;
  f.rss_kb = status_kb(monitor.pid(), "VmRSS");
  f.hwm_kb = status_kb(monitor.pid(), "VmHWM");
  f.processes = crowd.size();
  for (pid_t p : crowd) ::kill(p, SIGKILL);
  for (pid_t p : crowd) ::waitpid(p, nullptr, 0);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 50, processes = 2000, seconds = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (a == "--processes")
      processes = std::atoi(argv[i + 1]);
    else if (a == "--seconds")
      seconds = std::atoi(argv[i + 1]);
  }
  std::signal(SIGPIPE, SIG_IGN);
  stats det1s, det_restart, back;
  detection(runs, "1s", det1s);
  restart(runs, det_restart, back);
  auto f = measure_footprint(processes, seconds);
  std::printf("hasys-monitor, %d runs each, %s\n\n", runs, "(ms: p50 / p95 / p99 / max)");
  std::printf("| measure | runs | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|\n");
  auto row = [](const char* name, stats& s) {
    std::printf("| %s | %zu | %s | %s | %s | %s |\n", name, s.v.size(), fmt(s.pct(50)).c_str(),
                fmt(s.pct(95)).c_str(), fmt(s.pct(99)).c_str(), fmt(s.pct(100)).c_str());
  };
  row("kill -9 -> unhealthy verdict on the bus (no recovery, period 1 s)", det1s);
  row("kill -9 -> process_down event (recovery on, period 1 s)", det_restart);
  row("kill -9 -> running again (executor ran the start command; process_recovered)", back);
  std::printf(
      "\nfootprint with %zu other processes, period 1 s, %d s window: CPU %.2f %% of one core, "
      "RSS %ld kB (peak %ld kB)\n",
      f.processes, seconds, f.cpu_percent, f.rss_kb, f.hwm_kb);
  return 0;
}
