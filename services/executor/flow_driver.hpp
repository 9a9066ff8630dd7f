// The resource flow's drivers (W2-W7): each flow node brings its resource up and down, with the
// group-level facts it needs in a flow_context.
#pragma once

#include <hasys/cluster/types.hpp>
#include <hasys/config/node_config.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace hasys::executor {

struct step_result {
  bool ok = true;
  std::string detail;  // why it failed, or what it did
};

// Where drivers and flows report events (E1); implemented by the daemon.
class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void event(const std::string& group, cluster::severity level, std::string code,
                     std::string text, std::map<std::string, std::string> details = {}) = 0;
};

// The group-level facts a driver works with; stable while the executor runs.
struct flow_context {
  boost::asio::any_io_executor ex;
  std::string group;
  std::string node;                 // this server
  std::string peer;                 // the other server of the group
  std::string peer_public_address;  // to tell the peer's MAC from a stranger's (W2)
  event_sink* events = nullptr;
  bool simulate = false;            // no privileges: pretend system changes, say so
  // A driver lost its resource on its own (a VIP lease expired): the flow fences the group.
  std::function<void(const std::string& why)> lost;
};

class flow_driver {
 public:
  virtual ~flow_driver() = default;
  virtual const std::string& name() const = 0;
  virtual std::string_view kind() const = 0;  // the flow node's type: vip, application, ...
  virtual bool stop_on_error() const = 0;
  virtual std::chrono::milliseconds timeout() const = 0;
  virtual boost::asio::awaitable<step_result> up(const flow_context& c, std::uint64_t epoch) = 0;
  virtual boost::asio::awaitable<step_result> down(const flow_context& c, std::uint64_t epoch) = 0;
  // Synchronous release of what clients see at once (the virtual IP): the first thing a fence
  // does, before the slower bottom-up flow.
  virtual void release_now(const flow_context&) {}
  // Whether the resource is held right now, when the driver can tell (nullopt: scripts).
  virtual std::optional<bool> held(const flow_context&) const { return std::nullopt; }
  // Tell the network again that this node holds the resource (gratuitous ARP for a VIP): the
  // peer came back or stood down, and clients may still point at it.
  virtual void announce_again(const flow_context&) {}
  // A duty for as long as the executor runs (VIP lease refresh, duplicate-address guard).
  virtual boost::asio::awaitable<void> run(const flow_context&) { co_return; }
};

std::unique_ptr<flow_driver> make_driver(const config::flow_node& node);

}  // namespace hasys::executor

namespace hasys::executor {
// Runs a group-level program (W8 common start/stop, D12 failover condition), with its event.
boost::asio::awaitable<step_result> run_group_program(const flow_context& c, std::uint64_t epoch,
                                                      std::string what,
                                                      const std::filesystem::path& program,
                                                      std::chrono::milliseconds timeout);
}  // namespace hasys::executor
