// Link state, hardware addresses and the neighbour table, read through rtnetlink.
#pragma once

#include <hasys/sys/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace hasys::sys {

struct link_state {
  bool admin_up = false;  // IFF_UP: set up by an administrator
  bool carrier = false;   // IFF_LOWER_UP: up and the lower layer has carrier
  friend bool operator==(const link_state&, const link_state&) = default;
};
boost::system::result<link_state> link(int ifindex);
boost::system::result<link_state> link(int ifindex, diagnostics& diag);

using mac_address = std::array<std::uint8_t, 6>;
std::string to_string(const mac_address& mac);  // "02:00:5e:10:00:01"
// Parses "02:00:5e:10:00:01" (case-insensitive); nullopt when it is not six hex pairs.
std::optional<mac_address> parse_mac(std::string_view text);

// errc::no_ethernet_address when the interface has no 6-byte address.
boost::system::result<mac_address> hardware_address(int ifindex);
boost::system::result<mac_address> hardware_address(int ifindex, diagnostics& diag);

// The neighbour table's entry for ip (RTM_GETNEIGH, any interface), in any NUD state that has a
// link-layer address; nullopt when there is none or the table cannot be read.
std::optional<mac_address> neighbour(const boost::asio::ip::address& ip);

}  // namespace hasys::sys
