// hasys-executor as a whole: the groups' flows, the control server, and the bus (events out,
// exec.* requests in). One io_context, one thread; scripts run as child processes.
#pragma once

#include <hasys/config/node_config.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>

namespace hasys::executor {

struct daemon_options {
  bool simulate = false;  // no privileges: VIP and disk changes are pretended, and said so
};

class executor_daemon {
 public:
  executor_daemon(boost::asio::io_context& ioc, const config::node_config& cfg, daemon_options opts);
  ~executor_daemon();
  void start();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::executor
