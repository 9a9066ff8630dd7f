// hasys-monitor: wires the configuration, the io_context and the signals.
#include "monitor_daemon.hpp"

#include <hasys/daemon/reexec.hpp>
#include <malloc.h>

#include <cstdio>
#include <string>

namespace {

void usage() {
  std::puts(
      "usage: hasys-monitor [--config FILE]\n"
      "  --config FILE  node configuration (default /etc/hasys/node.toml)\n"
      "Watches each group's [group.monitor] processes, CPU/memory and networks; publishes the\n"
      "verdict to hasys-heartbeat and asks hasys-executor to restart what has recovery.\n"
      "It never changes the machine itself. SIGTERM/SIGINT: exit.");
}

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena for the I/O thread, the scan lane and nats.c's threads: each extra arena
  // keeps its own freed pages (the footprint target is 10 MB RSS with 2,000 processes).
  mallopt(M_ARENA_MAX, 1);
  hasys::daemon::remember_command_line(argc, argv);
  std::string config_file = "/etc/hasys/node.toml";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc)
      config_file = argv[++i];
    else if (a == "--help" || a == "-h")
      return usage(), 0;
    else
      return std::fprintf(stderr, "hasys-monitor: unknown argument %s\n", a.c_str()), usage(), 2;
  }
  auto loaded = hasys::config::load_file(config_file);
  if (!loaded.config) {
    std::fprintf(stderr, "hasys-monitor: %s is not valid:\n", config_file.c_str());
    for (const auto& e : loaded.errors) std::fprintf(stderr, "  %s\n", e.to_string().c_str());
    return 2;
  }
  try {
    boost::asio::io_context ioc(1);
    hasys::monitor::monitor_daemon d(ioc, *loaded.config, config_file);
    d.start();
    ioc.run();
    if (d.restart_wanted()) {
      const auto why = hasys::daemon::restart_in_place();
      std::fprintf(stderr, "hasys-monitor: cannot start again with the new configuration: %s\n", why.c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hasys-monitor: %s\n", e.what());
    return 1;
  }
  return 0;
}
