// hasys-executor: wires the configuration, the io_context and the signals.
#include "executor_daemon.hpp"

#include <hasys/daemon/reexec.hpp>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <string>

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

// Real-time priority below the heartbeat's, not inherited by the scripts the executor runs.
void prefer_realtime() {
  sched_param sp{};
  sp.sched_priority = 40;
  if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0)
    std::fprintf(stderr, "hasys-executor: warning: SCHED_FIFO refused; running at normal priority\n");
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
    boost::asio::io_context ioc(1);
    hasys::executor::executor_daemon d(ioc, *loaded.config, opts);
    d.start();
    ioc.run();
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
