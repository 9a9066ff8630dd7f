// hasys-heartbeat as a whole: the fast thread (peer sockets, gateway probes, role machines,
// executor link) and the slow side (bus: status, events, commands; command files; logging).
#pragma once

#include <hasys/config/node_config.hpp>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>

namespace hasys::heartbeat {

struct daemon_options {
  bool standalone = false;  // no executor: flows are acknowledged at once (membership only)
  bool realtime = true;     // SCHED_FIFO fast thread + mlockall
  int realtime_priority = 50;
  // The file the configuration came from: remote configuration (issue 11) reads and replaces
  // it. Empty: remote configuration is refused.
  std::filesystem::path config_file;
};

class heartbeat_daemon {
 public:
  // Resolves keys, boot ids and sockets; throws std::runtime_error with a clear text on any
  // start-up problem (nothing runs then).
  heartbeat_daemon(boost::asio::io_context& slow, boost::asio::io_context& fast,
                   const config::node_config& cfg, daemon_options opts);
  ~heartbeat_daemon();
  void start();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::heartbeat
