// Interface addresses through rtnetlink, with the address lifetime used as a kernel-enforced lease.
#pragma once

#include <hasys/sys/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::sys {

// Every call here is synchronous: one netlink request and its reply, a local kernel round trip.
// Each opens its own socket in the calling thread's network namespace.

struct ip_prefix {
  boost::asio::ip::address ip;
  int prefix = 32;
  friend bool operator==(const ip_prefix&, const ip_prefix&) = default;
};
std::string to_string(const ip_prefix& a);  // "203.0.113.5/24"

// The index of the interface called name (ENODEV when there is none).
boost::system::result<int> interface_index(std::string_view name);
boost::system::result<int> interface_index(std::string_view name, diagnostics& diag);
// "veth0 (ifindex 3)", or "ifindex 3" when no interface has that index: for messages.
std::string describe_interface(int ifindex);

// Adds ip/prefix. lifetime > 0: valid_lft = preferred_lft = lifetime, so the kernel removes the
// address by itself unless it is refreshed in time (the self-fencing lease of a frozen node);
// 0 = forever. IPv6 gets IFA_F_NODAD (usable at once). Adding an address that is already there
// with the same prefix succeeds and sets its lifetime again. label: IPv4 only, must start with
// the interface name ("eth0:vip"), at most 15 characters.
boost::system::error_code add_address(int ifindex, const ip_prefix& a,
                                      std::chrono::seconds lifetime = {},
                                      std::string_view label = {});
boost::system::error_code add_address(int ifindex, const ip_prefix& a,
                                      std::chrono::seconds lifetime, std::string_view label,
                                      diagnostics& diag);

// Sets the lifetime of an address that is on the interface (NLM_F_REPLACE). An address that is
// no longer there (it expired: the lease ran out) is NOT added back: errc::address_absent.
boost::system::error_code refresh_address(int ifindex, const ip_prefix& a,
                                          std::chrono::seconds lifetime);
boost::system::error_code refresh_address(int ifindex, const ip_prefix& a,
                                          std::chrono::seconds lifetime, diagnostics& diag);

// Removes ip/prefix. Absent is success; present with another prefix is errc::prefix_mismatch.
boost::system::error_code remove_address(int ifindex, const ip_prefix& a);
boost::system::error_code remove_address(int ifindex, const ip_prefix& a, diagnostics& diag);

// Whether ip is on the interface, with any prefix.
boost::system::result<bool> has_address(int ifindex, const boost::asio::ip::address& ip);
boost::system::result<bool> has_address(int ifindex, const boost::asio::ip::address& ip,
                                        diagnostics& diag);

// All addresses of the interface, IPv4 then IPv6 (link-local included).
boost::system::result<std::vector<ip_prefix>> addresses(int ifindex);
boost::system::result<std::vector<ip_prefix>> addresses(int ifindex, diagnostics& diag);

// One address with what the kernel reports about it.
struct address_entry {
  ip_prefix address;
  std::string label;                          // IPv4 only; the interface name when none was set
  std::optional<std::chrono::seconds> valid;  // remaining valid lifetime; nullopt = forever
  bool tentative = false;                     // IPv6: duplicate address detection not finished
};
boost::system::result<std::vector<address_entry>> address_entries(int ifindex);
boost::system::result<std::vector<address_entry>> address_entries(int ifindex, diagnostics& diag);

}  // namespace hasys::sys
