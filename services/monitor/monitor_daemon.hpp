// hasys-monitor as a whole (issue 9, DESIGN §2.2): observes and never changes the machine. Per
// group: the verdict machine (libs/health) fed by /proc scans, pid exits (pidfds), CPU/memory
// samples and interface checks; the verdict to the heartbeat, restarts asked of the executor,
// events, metrics. One io_context, one thread; every blocking read on a worker lane.
#pragma once

#include <hasys/config/node_config.hpp>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>

namespace hasys::monitor {

class monitor_daemon {
 public:
  // config_file: read again when the heartbeat says it changed (issue 11); empty: never.
  monitor_daemon(boost::asio::io_context& ioc, const config::node_config& cfg,
                 std::filesystem::path config_file = {});
  ~monitor_daemon();
  void start();
  // run() returned because the monitors changed: main() starts the process again in place.
  bool restart_wanted() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::monitor
