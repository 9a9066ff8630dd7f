// Registration (M4, issue 11): each node's heartbeat daemon tells the manager, per group, who it
// is, its addresses and versions — at start, every 5 minutes, and at once when the manager says
// hello (hasys.mgr.hello, sent when the manager starts or reconnects).
#pragma once

#include <boost/describe/class.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::proto {

// hasys.reg.<group>.<node>
struct registration_msg {
  int v = 1;
  std::string group, node, peer;
  std::string public_address, heartbeat_address;  // "" when the network is not configured
  std::vector<std::string> virtual_ips;           // of the group's flow
  std::string version;                            // the node's hasys version
  int protocol = 1;                               // its bus protocol ("v")
  std::uint64_t boot_id = 0;                      // the heartbeat daemon's
  std::int64_t time_unix_ms = 0;                  // the node's clock
  std::string reason;                             // "start", "hello", "periodic"
  bool operator==(const registration_msg&) const = default;
};
BOOST_DESCRIBE_STRUCT(registration_msg, (),
                      (v, group, node, peer, public_address, heartbeat_address, virtual_ips,
                       version, protocol, boot_id, time_unix_ms, reason))

inline constexpr std::string_view hello_subject = "hasys.mgr.hello";
std::string registration_subject(std::string_view group, std::string_view node);
std::string to_json(const registration_msg& m);

}  // namespace hasys::proto
