// hasys-executor: wires the configuration, the io_context and the signals.
#include "executor_daemon.hpp"

#include <hasys/daemon/realtime.hpp>
#include <hasys/daemon/reexec.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

namespace {

void usage() {
  std::puts(
      "usage: hasys-executor [--config FILE] [--simulate] [--faults FILE]\n"
      "  --config FILE  node configuration (default /etc/hasys/node.toml)\n"
      "  --simulate     no privileges needed: virtual IPs go to a stand-in kernel (a file in the\n"
      "                 state directory), disk changes are pretended; it says so\n"
      "  --faults FILE  test rig only: make system calls fail or answer late (docs/executor.md)\n"
      "SIGTERM/SIGINT: finish the work in progress, keep what is up, exit; a second one: exit now.");
}

// Real-time priority below the heartbeat's for the main thread (the fast side), not inherited by
// the threads it starts (the slow side, nats.c's) nor by the scripts the executor runs; its pages
// locked, so a page fault never waits for the disk on the failover path.
void prefer_realtime() {
  sched_param sp{};
  sp.sched_priority = 40;
  if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0)
    std::fprintf(stderr, "hasys-executor: warning: SCHED_FIFO refused; running at normal priority\n");
  if (auto why = hasys::daemon::lock_memory(); !why.empty())
    std::fprintf(stderr, "hasys-executor: warning: %s\n", why.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  hasys::daemon::remember_command_line(argc, argv);
  std::string config_file = "/etc/hasys/node.toml";
  hasys::executor::daemon_options opts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config_file = argv[++i];
    else if (a == "--simulate") opts.simulate = true;
    else if (a == "--faults" && i + 1 < argc) opts.faults_file = argv[++i];
    else if (a == "--help" || a == "-h") return usage(), 0;
    else return std::fprintf(stderr, "hasys-executor: unknown argument %s\n", a.c_str()), usage(), 2;
  }
  opts.config_file = config_file;
  auto loaded = hasys::config::load_file(config_file);
  if (!loaded.config) {
    std::fprintf(stderr, "hasys-executor: %s is not valid:\n", config_file.c_str());
    for (const auto& e : loaded.errors) std::fprintf(stderr, "  %s\n", e.to_string().c_str());
    return 2;
  }
  if (!opts.simulate && geteuid() != 0)
    std::fprintf(stderr, "hasys-executor: warning: not root: virtual IP and disk nodes will fail "
                         "(use --simulate for a demo without privileges)\n");
  prefer_realtime();
  try {
    boost::asio::io_context fast(1), slow(1);
    auto slow_work = boost::asio::make_work_guard(slow);
    hasys::executor::executor_daemon d(fast, slow, *loaded.config, opts);
    // Started after the scheduler was set: at normal priority (SCHED_RESET_ON_FORK).
    std::thread slow_thread([&] { slow.run(); });
    d.start();
    fast.run();  // returns after an orderly stop (signals, or a restart for a new configuration)
    boost::asio::post(slow, [&slow] { slow.stop(); });  // after the log lines queued before it
    slow_thread.join();
    if (d.restart_wanted()) {
      const auto why = hasys::daemon::restart_in_place();
      std::fprintf(stderr, "hasys-executor: cannot start again with the new configuration: %s\n", why.c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hasys-executor: %s\n", e.what());
    return 1;
  }
  return 0;
}
