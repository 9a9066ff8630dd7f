// The executor's two sides (issue 18). The fast side — the control socket, the group shells and
// their drivers — runs on the real-time thread and never touches the bus: nats.c takes locks that
// its own threads, at normal priority, hold, and a busy machine can leave the real-time thread
// waiting on one while the heartbeat's word waits unread. The slow side — the bus, the event
// outbox, the log writer and the requests that arrive on the bus — runs on a thread at normal
// priority and hops to the fast side for anything of a group's flow.
#pragma once

#include "address_system.hpp"
#include "control_server.hpp"
#include "executor_daemon.hpp"
#include "group_shell.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/events/outbox.hpp>
#include <hasys/proto/config_messages.hpp>
#include <hasys/proto/monitor_messages.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <optional>
#include <set>

namespace hasys::executor {

struct executor_daemon::impl final : event_sink {
  boost::asio::io_context& fast;  // real-time: control socket, group shells, their drivers
  boost::asio::io_context& slow;  // normal priority: bus, events, log, bus requests
  config::node_config cfg;        // after construction: the groups' monitors belong to the slow side
  daemon_options opts;
  daemon::logger log;
  executor_lanes lanes;
  fault_plan faults;
  std::unique_ptr<address_system> addresses;
  std::unique_ptr<resource_services> services;
  std::vector<std::unique_ptr<group_shell>> groups;  // fast side
  std::unique_ptr<control_server> control;           // fast side
  std::optional<bus::connection> bus;                 // slow side
  events::outbox events;  // slow side; kept until the node's EVENTS stream has them (E5)
  std::atomic<std::uint64_t> events_dropped{0};  // the outbox's count, for the fast side's reports
  boost::asio::signal_set signals;                // fast side
  int signals_seen = 0;

  impl(boost::asio::io_context& fast, boost::asio::io_context& slow, const config::node_config& c,
       daemon_options o);

  // A hop to the other side: `co_await asio::co_spawn(side, std::move(op), use_awaitable)` with op
  // a named awaitable of a member coroutine taking its arguments by value — never a capturing
  // lambda (GCC 12 frees its captures twice, docs/heartbeat.md).

  group_shell* find(std::string_view name);
  const config::group_config* group_config_of(std::string_view name) const;

  // ---- fast side (executor_daemon.cpp) ----
  proto::observed_state with_counters(proto::observed_state s) const;
  void send(const proto::observed_state& s);
  std::filesystem::path running_file() const;
  void keep_running_flows(const std::string& boot);
  static bool same_flow_settings(config::group_config a, const config::group_config& b);
  std::set<std::string> pending;  // groups whose new flow waits for them to hold nothing
  bool restarting = false;
  bool restart_wanted = false;
  boost::asio::awaitable<proto::config_daemon_outcome> take_flow_change(std::set<std::string> changed,
                                                                        proto::config_daemon_outcome unchanged);
  void maybe_restart_for_config();
  boost::asio::awaitable<void> restart_for_config();
  boost::asio::awaitable<proto::observed_state> status_of(group_shell* g);
  boost::asio::awaitable<group_shell::readiness_report> ready_of(group_shell* g);
  boost::asio::awaitable<void> signal_loop();
  void maybe_exit();
  void start();

  // ---- either side: an event is logged and handed to the slow side's outbox ----
  void event(const std::string& group, cluster::severity level, std::string code, std::string text,
             std::map<std::string, std::string> details) override;

  // ---- slow side (bus_requests.cpp) ----
  boost::asio::awaitable<void> bus_loop();
  boost::asio::awaitable<void> flush_events();
  boost::asio::awaitable<void> serve(group_shell& g, bus::subscription sub);
  boost::asio::awaitable<void> serve_restarts(const config::group_config& g, bus::subscription sub);
  boost::asio::awaitable<void> restart(const config::group_config& g, proto::restart_request rq, bus::message m);
  boost::asio::awaitable<proto::restart_reply> drbd_connect(const config::group_config& g, std::string resource,
                                                             std::string origin);
  boost::asio::awaitable<void> serve_drbd_connects(const config::group_config& g, bus::subscription sub);
  boost::asio::awaitable<proto::command_reply> reboot(const std::string& group, const std::string& reason);
  boost::asio::awaitable<void> serve_config(bus::subscription sub);
};

}  // namespace hasys::executor
