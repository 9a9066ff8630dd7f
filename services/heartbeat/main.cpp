// hasys-heartbeat: wires the configuration, the two io_contexts and the signals.
#include "daemon.hpp"

#include <hasys/daemon/realtime.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

void usage() {
  std::puts(
      "usage: hasys-heartbeat [--config FILE] [--standalone] [--no-realtime]\n"
      "  --config FILE   node configuration (default /etc/hasys/node.toml)\n"
      "  --standalone    no executor on this node: flow runs are acknowledged at once\n"
      "  --no-realtime   do not ask for SCHED_FIFO and locked memory");
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file = "/etc/hasys/node.toml";
  hasys::heartbeat::daemon_options opts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config_file = argv[++i];
    else if (a == "--standalone") opts.standalone = true;
    else if (a == "--no-realtime") opts.realtime = false;
    else if (a == "--help" || a == "-h") return usage(), 0;
    else return std::fprintf(stderr, "hasys-heartbeat: unknown argument %s\n", a.c_str()), usage(), 2;
  }
  opts.config_file = config_file;
  auto loaded = hasys::config::load_file(config_file);
  if (!loaded.config) {
    std::fprintf(stderr, "hasys-heartbeat: %s is not valid:\n", config_file.c_str());
    for (const auto& e : loaded.errors) std::fprintf(stderr, "  %s\n", e.to_string().c_str());
    return 2;
  }
  try {
    boost::asio::io_context slow(1), fast(1);
    auto fast_work = boost::asio::make_work_guard(fast);
    hasys::heartbeat::heartbeat_daemon d(slow, fast, *loaded.config, opts);
    if (opts.realtime) {
      if (auto why = hasys::daemon::lock_memory(); !why.empty())
        std::fprintf(stderr, "hasys-heartbeat: warning: %s\n", why.c_str());
    }
    std::thread fast_thread([&] {
      if (opts.realtime) {
        if (auto why = hasys::daemon::make_this_thread_realtime(opts.realtime_priority); !why.empty())
          std::fprintf(stderr, "hasys-heartbeat: warning: %s\n", why.c_str());
      }
      fast.run();
    });
    boost::asio::signal_set signals(slow, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      fast.stop();  // the daemon is destroyed after both threads are done
      slow.stop();
    });
    d.start();
    slow.run();
    fast.stop();
    fast_thread.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hasys-heartbeat: %s\n", e.what());
    return 1;
  }
  return 0;
}
