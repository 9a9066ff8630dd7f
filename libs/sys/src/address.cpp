// Interface addresses through rtnetlink: add (with a lifetime), refresh, remove, list.
#include <hasys/sys/address.hpp>

#include "netlink.hpp"

#include <linux/if_addr.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace hasys::sys {

namespace {

namespace sys_errc = boost::system::errc;
using detail::netlink_request;

constexpr std::uint32_t infinity_life_time = 0xFFFFFFFFU;

std::uint8_t family_of(const boost::asio::ip::address& ip) {
  return ip.is_v4() ? AF_INET : AF_INET6;
}

int max_prefix(const boost::asio::ip::address& ip) { return ip.is_v4() ? 32 : 128; }

// The raw bytes of ip (4 or 16).
std::vector<std::uint8_t> address_bytes(const boost::asio::ip::address& ip) {
  if (ip.is_v4()) {
    const auto b = ip.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  const auto b = ip.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

// "203.0.113.5/24 on veth0 (ifindex 3)"
std::string where(int ifindex, const ip_prefix& a) {
  return to_string(a) + " on " + describe_interface(ifindex);
}

boost::system::error_code fail(diagnostics& diag, boost::system::error_code ec, std::string text) {
  diag.message = std::move(text);
  return ec;
}

boost::system::error_code check_prefix(int ifindex, const ip_prefix& a, diagnostics& diag) {
  if (a.ip.is_v6() && a.ip.to_v6().is_v4_mapped()) {
    return fail(diag, make_error_code(sys_errc::invalid_argument),
                where(ifindex, a) + ": an IPv4-mapped IPv6 address; give the IPv4 address");
  }
  if (a.prefix < 0 || a.prefix > max_prefix(a.ip)) {
    return fail(diag, make_error_code(sys_errc::invalid_argument),
                where(ifindex, a) + ": prefix length " + std::to_string(a.prefix) +
                    " is outside 0.." + std::to_string(max_prefix(a.ip)));
  }
  return {};
}

boost::system::error_code check_label(int ifindex, const ip_prefix& a, std::string_view label,
                                      diagnostics& diag) {
  if (label.empty()) return {};
  char name[IF_NAMESIZE] = {};
  const std::string_view ifname = ::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr
                                      ? std::string_view(name)
                                      : std::string_view();
  std::string rule;
  if (a.ip.is_v6()) {
    rule = "labels exist for IPv4 addresses only";
  } else if (label.size() >= IF_NAMESIZE) {
    rule = "longer than " + std::to_string(IF_NAMESIZE - 1) + " characters";
  } else if (!ifname.empty() && label.substr(0, ifname.size()) != ifname) {
    rule = "must start with the interface name \"" + std::string(ifname) + "\"";
  }
  if (rule.empty()) return {};
  return fail(diag, make_error_code(sys_errc::invalid_argument),
              where(ifindex, a) + ": label \"" + std::string(label) + "\": " + rule);
}

netlink_request address_request(std::uint16_t type, std::uint16_t flags, int ifindex,
                                const ip_prefix& a) {
  ifaddrmsg h{};
  h.ifa_family = family_of(a.ip);
  h.ifa_prefixlen = static_cast<std::uint8_t>(a.prefix);
  h.ifa_index = static_cast<std::uint32_t>(ifindex);
  if (a.ip.is_v6()) h.ifa_flags = IFA_F_NODAD;
  netlink_request req(type, flags, h);
  const auto bytes = address_bytes(a.ip);
  req.add(IFA_LOCAL, bytes);
  // IPv4 matches the prefix through IFA_ADDRESS (the peer, equal to local when not point-to-point).
  if (a.ip.is_v4()) req.add(IFA_ADDRESS, bytes);
  return req;
}

// Sends RTM_NEWADDR with lifetime and flags; flags decide between create and replace.
boost::system::error_code new_address(int ifindex, const ip_prefix& a,
                                      std::chrono::seconds lifetime, std::string_view label,
                                      std::uint16_t flags, std::string_view what,
                                      diagnostics& diag) {
  if (lifetime.count() < 0 || lifetime.count() >= infinity_life_time) {
    return fail(diag, make_error_code(sys_errc::invalid_argument),
                where(ifindex, a) + ": lifetime " + std::to_string(lifetime.count()) +
                    " s is outside 0 (forever)..4294967294 s");
  }
  auto req = address_request(RTM_NEWADDR, flags, ifindex, a);
  ifa_cacheinfo ci{};
  ci.ifa_valid = ci.ifa_prefered =
      lifetime.count() == 0 ? infinity_life_time : static_cast<std::uint32_t>(lifetime.count());
  req.add(IFA_CACHEINFO, &ci, sizeof ci);
  if (a.ip.is_v6()) req.add_u32(IFA_FLAGS, IFA_F_NODAD);
  if (!label.empty()) req.add_string(IFA_LABEL, label);
  const auto status = detail::netlink_transact(req);
  if (status.ec) {
    diag.message = detail::describe_status(std::string(what) + " " + where(ifindex, a), status);
  }
  return status.ec;
}

std::optional<address_entry> parse_entry(const nlmsghdr& m, int ifindex) {
  ifaddrmsg h{};
  if (m.nlmsg_type != RTM_NEWADDR || !detail::family_header(m, h)) return std::nullopt;
  if (static_cast<int>(h.ifa_index) != ifindex) return std::nullopt;
  const auto attrs = detail::attributes_after<ifaddrmsg>(m, IFA_MAX);
  const auto local =
      attrs.get(IFA_LOCAL) != nullptr ? attrs.bytes(IFA_LOCAL) : attrs.bytes(IFA_ADDRESS);
  const auto ip = detail::address_from(h.ifa_family, local);
  if (!ip) return std::nullopt;
  address_entry e;
  e.address = {*ip, h.ifa_prefixlen};
  e.label = std::string(attrs.string(IFA_LABEL));
  std::uint32_t flags = h.ifa_flags;
  if (attrs.bytes(IFA_FLAGS).size() == sizeof flags)
    std::memcpy(&flags, attrs.bytes(IFA_FLAGS).data(), sizeof flags);
  e.tentative = (flags & IFA_F_TENTATIVE) != 0;
  ifa_cacheinfo ci{};
  if (attrs.bytes(IFA_CACHEINFO).size() >= sizeof ci) {
    std::memcpy(&ci, attrs.bytes(IFA_CACHEINFO).data(), sizeof ci);
    if (ci.ifa_valid != infinity_life_time) e.valid = std::chrono::seconds(ci.ifa_valid);
  }
  return e;
}

boost::system::result<std::vector<address_entry>> dump_addresses(int ifindex, std::uint8_t family,
                                                                 diagnostics& diag) {
  ifaddrmsg h{};
  h.ifa_family = family;
  h.ifa_index = static_cast<std::uint32_t>(ifindex);
  netlink_request req(RTM_GETADDR, NLM_F_DUMP, h);
  std::vector<address_entry> out;
  const auto status = detail::netlink_transact(req, [&](const nlmsghdr& m) {
    if (auto e = parse_entry(m, ifindex)) out.push_back(std::move(*e));
  });
  if (status.ec) {
    diag.message =
        detail::describe_status("listing the addresses of " + describe_interface(ifindex), status);
    return status.ec;
  }
  // A dump names no interface when there is none: say so rather than "no addresses".
  char name[IF_NAMESIZE];
  if (out.empty() && ::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    diag.message =
        "listing the addresses of ifindex " + std::to_string(ifindex) + ": no such interface";
    return make_error_code(sys_errc::no_such_device);
  }
  std::stable_sort(out.begin(), out.end(), [](const address_entry& x, const address_entry& y) {
    return x.address.ip.is_v4() && y.address.ip.is_v6();
  });
  return out;
}

// The entry of ip on the interface, with whatever prefix, if it is there.
// what names the operation for the message when the interface cannot be read.
boost::system::result<std::optional<address_entry>> find_address(int ifindex,
                                                                 const boost::asio::ip::address& ip,
                                                                 const std::string& what,
                                                                 diagnostics& diag) {
  auto entries = dump_addresses(ifindex, family_of(ip), diag);
  if (!entries) {
    diag.message = what + ": " + entries.error().message();
    return {boost::system::in_place_error, entries.error()};
  }
  const auto it = std::find_if(entries->begin(), entries->end(),
                               [&](const address_entry& e) { return e.address.ip == ip; });
  if (it == entries->end()) return std::optional<address_entry>();
  return std::optional<address_entry>(*it);
}

// errc::prefix_mismatch when ip is on the interface with another prefix than a's.
boost::system::error_code check_same_prefix(int ifindex, const ip_prefix& a,
                                            const std::optional<address_entry>& present,
                                            std::string_view what, std::string_view outcome,
                                            diagnostics& diag) {
  if (!present || present->address.prefix == a.prefix) return {};
  return fail(diag, make_error_code(errc::prefix_mismatch),
              std::string(what) + " " + where(ifindex, a) + ": the address is there as /" +
                  std::to_string(present->address.prefix) + "; " + std::string(outcome));
}

}  // namespace

std::string to_string(const ip_prefix& a) {
  return a.ip.to_string() + "/" + std::to_string(a.prefix);
}

boost::system::result<int> interface_index(std::string_view name) {
  diagnostics diag;
  return interface_index(name, diag);
}

boost::system::result<int> interface_index(std::string_view name, diagnostics& diag) {
  if (name.empty() || name.size() >= IF_NAMESIZE || name.find('\0') != std::string_view::npos) {
    diag.message = "interface name \"" + std::string(name) + "\": must be 1.." +
                   std::to_string(IF_NAMESIZE - 1) + " characters";
    return make_error_code(sys_errc::invalid_argument);
  }
  const std::string z(name);
  const unsigned index = ::if_nametoindex(z.c_str());
  if (index == 0) {
    const boost::system::error_code ec(errno, boost::system::system_category());
    diag.message =
        "interface \"" + z +
        "\": " + (ec == sys_errc::no_such_device ? std::string("no such interface") : ec.message());
    return ec;
  }
  return static_cast<int>(index);
}

std::string describe_interface(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex > 0 && ::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) {
    return std::string(name) + " (ifindex " + std::to_string(ifindex) + ")";
  }
  return "ifindex " + std::to_string(ifindex);
}

boost::system::error_code add_address(int ifindex, const ip_prefix& a,
                                      std::chrono::seconds lifetime, std::string_view label) {
  diagnostics diag;
  return add_address(ifindex, a, lifetime, label, diag);
}

boost::system::error_code add_address(int ifindex, const ip_prefix& a,
                                      std::chrono::seconds lifetime, std::string_view label,
                                      diagnostics& diag) {
  diag.message.clear();
  if (auto ec = check_prefix(ifindex, a, diag)) return ec;
  if (auto ec = check_label(ifindex, a, label, diag)) return ec;
  // IPv4 would add a second copy with the other prefix: refuse rather than pile up.
  const auto present = find_address(ifindex, a.ip, "adding " + where(ifindex, a), diag);
  if (!present) return present.error();
  if (auto ec = check_same_prefix(ifindex, a, *present, "adding", "not added", diag)) return ec;
  // CREATE|REPLACE: a new address is created, an existing one gets the new lifetime.
  return new_address(ifindex, a, lifetime, label, NLM_F_CREATE | NLM_F_REPLACE, "adding", diag);
}

boost::system::error_code refresh_address(int ifindex, const ip_prefix& a,
                                          std::chrono::seconds lifetime) {
  diagnostics diag;
  return refresh_address(ifindex, a, lifetime, diag);
}

boost::system::error_code refresh_address(int ifindex, const ip_prefix& a,
                                          std::chrono::seconds lifetime, diagnostics& diag) {
  diag.message.clear();
  if (auto ec = check_prefix(ifindex, a, diag)) return ec;
  const auto present = find_address(ifindex, a.ip, "refreshing " + where(ifindex, a), diag);
  if (!present) return present.error();
  // The kernel would create a missing address even under NLM_F_REPLACE: an expired lease must
  // stay expired, so refresh only what is there. (The address can still expire between this
  // check and the request: a window of one netlink round trip.)
  if (!*present) {
    return fail(diag, make_error_code(errc::address_absent),
                "refreshing " + where(ifindex, a) +
                    ": not on the interface (expired or removed); not added back");
  }
  if (auto ec = check_same_prefix(ifindex, a, *present, "refreshing", "not refreshed", diag)) {
    return ec;
  }
  return new_address(ifindex, a, lifetime, {}, NLM_F_REPLACE, "refreshing", diag);
}

boost::system::error_code remove_address(int ifindex, const ip_prefix& a) {
  diagnostics diag;
  return remove_address(ifindex, a, diag);
}

boost::system::error_code remove_address(int ifindex, const ip_prefix& a, diagnostics& diag) {
  diag.message.clear();
  if (auto ec = check_prefix(ifindex, a, diag)) return ec;
  auto req = address_request(RTM_DELADDR, 0, ifindex, a);
  const auto status = detail::netlink_transact(req);
  if (!status.ec) return {};
  if (status.ec != sys_errc::address_not_available) {
    diag.message = detail::describe_status("removing " + where(ifindex, a), status);
    return status.ec;
  }
  const auto present = find_address(ifindex, a.ip, "removing " + where(ifindex, a), diag);
  if (!present) return present.error();
  return check_same_prefix(ifindex, a, *present, "removing", "not removed", diag);
}

boost::system::result<bool> has_address(int ifindex, const boost::asio::ip::address& ip) {
  diagnostics diag;
  return has_address(ifindex, ip, diag);
}

boost::system::result<bool> has_address(int ifindex, const boost::asio::ip::address& ip,
                                        diagnostics& diag) {
  diag.message.clear();
  const auto present = find_address(
      ifindex, ip, "looking for " + ip.to_string() + " on " + describe_interface(ifindex), diag);
  if (!present) return {boost::system::in_place_error, present.error()};
  return present->has_value();
}

boost::system::result<std::vector<ip_prefix>> addresses(int ifindex) {
  diagnostics diag;
  return addresses(ifindex, diag);
}

boost::system::result<std::vector<ip_prefix>> addresses(int ifindex, diagnostics& diag) {
  auto entries = address_entries(ifindex, diag);
  if (!entries) return entries.error();
  std::vector<ip_prefix> out;
  out.reserve(entries->size());
  for (const auto& e : *entries) out.push_back(e.address);
  return out;
}

boost::system::result<std::vector<address_entry>> address_entries(int ifindex) {
  diagnostics diag;
  return address_entries(ifindex, diag);
}

boost::system::result<std::vector<address_entry>> address_entries(int ifindex, diagnostics& diag) {
  diag.message.clear();
  return dump_addresses(ifindex, AF_UNSPEC, diag);
}

}  // namespace hasys::sys
