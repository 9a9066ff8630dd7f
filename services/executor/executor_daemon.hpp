// hasys-executor as a whole: the groups' flows, the control server, the bus (events out, exec.*
// requests in) and the signals. Two io_contexts, one thread each: `fast` (real-time: the control
// socket, the flows and their drivers) and `slow` (normal priority: the bus, events, the log);
// blocking system calls on worker lanes, scripts as child processes. fast.run() returns after an
// orderly stop.
#pragma once

#include <hasys/config/node_config.hpp>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>

namespace hasys::executor {

struct daemon_options {
  bool simulate = false;  // no privileges: VIPs go to a stand-in kernel (a file), and it says so
  std::filesystem::path faults_file;  // test rig only: fault rules (faults.hpp); empty: none
  std::filesystem::path config_file;  // read again when the heartbeat says it changed (issue 11)
};

class executor_daemon {
 public:
  executor_daemon(boost::asio::io_context& fast, boost::asio::io_context& slow, const config::node_config& cfg,
                  daemon_options opts);
  ~executor_daemon();
  void start();
  // run() returned because a new configuration needs a fresh start of the process (issue 11):
  // main() then starts itself again in place.
  bool restart_wanted() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::executor
