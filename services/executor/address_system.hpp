// How the executor reaches virtual IPs: the kernel (rtnetlink, ARP) or, with --simulate, a
// stand-in kernel kept in a file. Every call runs on a worker lane with a deadline — the
// executor's own thread never waits for a netlink reply — and passes through the test rig's
// fault rules. Lease refreshes and releases have a lane of their own, so a slow reply to a
// check or an add never delays them.
#pragma once

#include "faults.hpp"

#include <hasys/daemon/blocking_lane.hpp>
#include <hasys/flow/types.hpp>
#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace hasys::executor {

// The worker lanes of one executor process. The address lanes run at the executor's own
// real-time priority: a takeover's add and a fence's removal must not queue behind busy loops.
struct executor_lanes {
  static constexpr int realtime_priority = 40;  // the executor's (main.cpp), below the heartbeat's
  daemon::blocking_lane lease{"lease", realtime_priority};      // refresh, release: time-critical
  daemon::blocking_lane changes{"changes", realtime_priority};  // add, remove, checks, link lookups
  daemon::blocking_lane disk{"disk"};                           // journal writes, mount table reads
};

struct vip_target {
  std::string node;       // the flow node's name (fault rules, messages)
  std::string interface;  // on this server
  sys::ip_prefix address;
  std::chrono::seconds lease{};
};

struct verify_result {
  flow::presence seen = flow::presence::unknown;
  std::string error;  // why it could not be told, or what failed on the way
};
struct change_result {
  bool ok = false;
  std::string error;
};
struct probe_result {
  bool ok = false;  // the probe ran; false: nobody knows who else claims the address
  std::vector<sys::mac_address> strangers;
  std::string error;
};

class address_system {
 public:
  virtual ~address_system() = default;
  virtual bool simulated() const noexcept = 0;
  virtual boost::asio::awaitable<verify_result> query(const vip_target& t) = 0;
  // Extends the lease of an address that is there; never adds it back (absent: it expired).
  virtual boost::asio::awaitable<verify_result> refresh(const vip_target& t) = 0;
  // Removes it, then looks: absent only when seen absent after the removal.
  virtual boost::asio::awaitable<verify_result> release(const vip_target& t) = 0;
  virtual boost::asio::awaitable<change_result> add(const vip_target& t) = 0;
  virtual boost::asio::awaitable<change_result> remove(const vip_target& t) = 0;
  // RFC 5227 probe: who else (not this node, not the peer) answers for the address.
  virtual boost::asio::awaitable<probe_result> probe(const vip_target& t, const std::string& peer_address,
                                                     std::chrono::milliseconds wait) = 0;
  // One burst of gratuitous ARPs / unsolicited NAs.
  virtual boost::asio::awaitable<change_result> announce(const vip_target& t) = 0;
};

std::unique_ptr<address_system> make_kernel_addresses(executor_lanes& lanes, const fault_plan& faults);
// The stand-in kernel of --simulate: addresses with their leases in `file`, which outlives the
// executor process (so a restart finds what it left, as it would on a real machine).
std::unique_ptr<address_system> make_simulated_addresses(executor_lanes& lanes, const fault_plan& faults,
                                                         std::filesystem::path file);

}  // namespace hasys::executor
