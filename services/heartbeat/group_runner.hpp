// One HA group on this node: its role machine, its two peer sockets, its gateway probe, and the
// loops that feed them; everything runs on the heartbeat's fast executor.
#pragma once

#include <hasys/cluster/role_machine.hpp>
#include <hasys/proto/heartbeat_packet.hpp>
#include <hasys/proto/messages.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace hasys::heartbeat {

class peer_socket;
class gateway_probe;

// What a group needs to run, resolved from the configuration at start.
struct group_setup {
  std::string group;
  std::string node;
  cluster::params params;
  std::vector<std::uint8_t> key;
  struct link {
    std::string self_address, peer_address;
    std::uint16_t port = 0;
  };
  std::optional<link> heartbeat_net;
  link public_net;
  std::optional<std::string> gateway;
  std::uint64_t peer_boot_floor = 0;  // persisted: older peer boots are replays
  std::uint64_t epoch = 0;            // persisted: epochs never repeat across restarts
  bool standalone = false;            // no executor: flow runs are acknowledged at once
  std::uint16_t icmp_ident = 0;
};

// Where a group's results go. Called on the fast executor: implementations must hand the work
// elsewhere (post) if it may block.
class group_output {
 public:
  virtual ~group_output() = default;
  virtual void event(proto::event_msg e) = 0;
  virtual void status(proto::status_msg s) = 0;
  virtual void desired(const proto::desired_state& d) = 0;
  virtual void peer_boot(const std::string& group, std::uint64_t boot_id) = 0;
  virtual void epoch(const std::string& group, std::uint64_t epoch) = 0;
  // D13: ask the executor to reboot the server (the service is handed over).
  virtual void reboot(const std::string& group, const std::string& reason) = 0;
};

class group_runner {
 public:
  group_runner(boost::asio::any_io_executor fast, group_setup setup, group_output& out);
  ~group_runner();
  group_runner(const group_runner&) = delete;
  group_runner& operator=(const group_runner&) = delete;

  void start();  // spawns the loops on the fast executor
  void stop();

  const std::string& name() const noexcept { return setup_.group; }
  // Operator command (R2-R6): fed to the machine; its reply.
  cluster::command_reply command(cluster::command_kind kind);
  // What command(kind) would answer now and the role it would step to, by the same pure step,
  // with nothing changed (the manager's preview, issue 11).
  std::pair<cluster::command_reply, cluster::role> preview(cluster::command_kind kind) const;
  // A remote configuration change (issue 11): new period, count, active priority, flow timeout,
  // taken live with the role kept. A new period or count starts a transition (params::
  // grace_timeout) as long as the old and the new detection time together, plus 2 s for the
  // peer's commit to land. A new mode in the file is set as an operator's mode command would.
  void reconfigure(const cluster::params& p, std::optional<cluster::failover_mode> mode);
  // The executor reported on this group's flow.
  void observed(const proto::observed_state& o);
  // hasys-monitor's verdict for this group (issue 9): fed to the role machine when it changes.
  void health(const proto::health_msg& h);
  // The executor's connection closed (it stopped or restarts): status says so.
  void executor_gone() { executor_connected_ = false; }
  std::function<std::uint64_t()> executor_bad_messages;  // the link's count, for status
  proto::status_msg status() const;
  proto::desired_state desired() const;

 private:
  boost::asio::awaitable<void> period_loop();
  boost::asio::awaitable<void> expiry_loop();
  void on_datagram(cluster::peer_link via, std::span<const std::uint8_t> d);
  // A loop of this daemon woke `late` after it was due at `due`: read what waits in the sockets
  // and tell the role machine the time it could not look (the self-stall guard, issue 8).
  void woke_late(std::chrono::steady_clock::time_point due, std::chrono::steady_clock::time_point now);
  void check_stall();
  void feed(const cluster::input& in);
  void send_heartbeats();
  void publish_status_if_changed(bool force);
  using status_key_t = std::tuple<int, int, std::uint64_t, bool, bool, bool, bool, bool, bool, bool,
                                  bool, bool, int, std::uint64_t, bool, int, int, std::uint64_t, bool, bool,
                                  int, std::string>;
  status_key_t status_key() const;

  boost::asio::any_io_executor fast_;
  group_setup setup_;
  group_output& out_;
  cluster::state state_;
  proto::packet_verifier verifier_;
  std::unique_ptr<peer_socket> links_[cluster::link_count];
  std::unique_ptr<gateway_probe> gateway_;
  struct timers;
  std::unique_ptr<timers> timers_;
  std::uint64_t seq_ = 0;
  std::uint64_t announce_ = 0;  // desired_state::announce
  std::uint64_t last_peer_boot_ = 0;
  std::int64_t peer_clock_unix_ms_ = 0;
  std::uint64_t received_[cluster::link_count] = {};
  proto::observed_state observed_;
  std::optional<proto::health_msg> health_;
  std::chrono::steady_clock::time_point health_at_{};
  bool executor_connected_ = false;
  proto::duration_histogram send_late_, gaps_[cluster::link_count];
  std::chrono::steady_clock::time_point next_period_at_ = std::chrono::steady_clock::time_point::max();
  bool in_stall_ = false;
  std::uint64_t newest_boot_ = 0, newest_seq_ = 0;  // the peer's newest report so far
  cluster::peer_report newest_report_;
  std::chrono::steady_clock::time_point last_rx_[cluster::link_count]{};
  cluster::command_reply last_reply_;
  status_key_t last_status_key_{};
  std::chrono::steady_clock::time_point last_status_{};
  bool stopped_ = false;
  std::chrono::steady_clock::time_point grace_until_{};
};

}  // namespace hasys::heartbeat
