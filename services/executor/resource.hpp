// The resource flow's nodes (W2-W7) as the executor drives them: up and down runs, and for the
// ones it can verify (a VIP, a mount) check, refresh, release and announce. Which of these run,
// and when, is decided by the flow machine (libs/flow); a resource only does what it is told.
#pragma once

#include "address_system.hpp"

#include <hasys/cluster/types.hpp>
#include <hasys/config/node_config.hpp>
#include <hasys/flow/types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hasys::executor {

struct step_result {
  bool ok = true;
  std::string detail;  // why it failed, or what it did
};

// One check of the Standby readiness (issue 9): could this node take the resource over now?
struct readiness_check {
  std::string what;  // "app start program", "svc-vip duplicate check"
  bool ok = true;
  std::string detail;  // why not, or what was seen
};

// Where resources and flows report events (E1); implemented by the daemon.
class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void event(const std::string& group, cluster::severity level, std::string code,
                     std::string text, std::map<std::string, std::string> details = {}) = 0;
};

// The phases of a takeover (issue 18), on CLOCK_MONOTONIC, kept by the group's shell from the
// heartbeat's first desired state of an up epoch: when the peer was last heard before the
// decision, when the decision was taken, when the executor read it ({}: unknown).
struct takeover_clock {
  std::uint64_t epoch = 0;
  std::chrono::steady_clock::time_point peer_heard{}, decided{}, received{};
};

// The group-level facts a resource works with; stable while the executor runs.
struct resource_context {
  boost::asio::any_io_executor ex;
  std::string group;
  std::string node;                 // this server
  std::string peer;                 // the other server of the group
  std::string peer_public_address;  // to tell the peer's MAC from a stranger's (W2)
  event_sink* events = nullptr;
  bool simulate = false;  // no privileges: system changes go to the stand-in kernel
  const takeover_clock* takeover = nullptr;  // the latest up epoch's phases so far
};

// What resources need from the daemon.
struct resource_services {
  address_system& addresses;
  executor_lanes& lanes;
  const fault_plan& faults;
  std::filesystem::path drbdadm{"/usr/sbin/drbdadm"};  // node.drbdadm
};

class resource {
 public:
  virtual ~resource() = default;
  virtual flow::node_spec spec() const = 0;
  virtual std::chrono::milliseconds timeout() const = 0;
  virtual boost::asio::awaitable<step_result> up(const resource_context& c,
                                                 std::uint64_t epoch) = 0;
  virtual boost::asio::awaitable<step_result> down(const resource_context& c,
                                                   std::uint64_t epoch) = 0;
  // Observable resources only (spec().observable); the rest are never asked.
  virtual boost::asio::awaitable<verify_result> check(const resource_context& c);
  virtual boost::asio::awaitable<verify_result> refresh(const resource_context& c) {
    return check(c);
  }
  virtual boost::asio::awaitable<verify_result> release(const resource_context& c);
  virtual boost::asio::awaitable<change_result> announce(const resource_context& c,
                                                         std::string reason);
  // A duty for as long as the executor runs (the VIP's duplicate-address guard).
  virtual boost::asio::awaitable<void> run(const resource_context& c);
  // Standby readiness (issue 9): read-only checks that a takeover of this resource would work,
  // without touching the Active.
  virtual boost::asio::awaitable<std::vector<readiness_check>> ready(const resource_context& c);
};

// A resource for one node of the group's flow (the group's settings say, e.g., how long an
// unmount waits for its confirmation, D10).
std::unique_ptr<resource> make_resource(const config::flow_node& node,
                                        const config::group_config& group, resource_services& s);

// Readiness (issue 9): is each program executable by its run-as user? Checked on the disk lane —
// a script on a hung network file system must not stall the executor's thread; a lane that has
// not answered within 5 s makes every check fail ("could not be checked"), never pass.
struct program_to_check {
  std::string what;
  std::filesystem::path path;
  std::string user;  // empty: the executor's own user
};
boost::asio::awaitable<std::vector<readiness_check>> check_programs(
    resource_services& s, std::vector<program_to_check> programs);

// Runs a group-level program (W8 common start/stop, D12 failover condition), with its event.
boost::asio::awaitable<step_result> run_group_program(const resource_context& c,
                                                      std::uint64_t epoch, std::string what,
                                                      const std::filesystem::path& program,
                                                      std::chrono::milliseconds timeout);

}  // namespace hasys::executor
