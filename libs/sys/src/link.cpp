// Link flags, hardware addresses and neighbour-table lookups through rtnetlink.
#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>

#include "netlink.hpp"

#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

namespace hasys::sys {

namespace {

// IFF_LOWER_UP from <linux/if.h>, which cannot be included together with <net/if.h>.
constexpr unsigned iff_lower_up = 1U << 16;

struct link_reply {
  unsigned flags = 0;
  std::vector<std::uint8_t> hardware_address;
};

boost::system::result<link_reply> get_link(int ifindex, std::string_view what, diagnostics& diag) {
  diag.message.clear();
  ifinfomsg h{};
  h.ifi_family = AF_UNSPEC;
  h.ifi_index = ifindex;
  detail::netlink_request req(RTM_GETLINK, 0, h);
  req.add_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::optional<link_reply> reply;
  const auto status = detail::netlink_transact(req, [&](const nlmsghdr& m) {
    ifinfomsg info{};
    if (m.nlmsg_type != RTM_NEWLINK || !detail::family_header(m, info) ||
        info.ifi_index != ifindex) {
      return;
    }
    const auto attrs = detail::attributes_after<ifinfomsg>(m, IFLA_MAX);
    const auto mac = attrs.bytes(IFLA_ADDRESS);
    reply = link_reply{info.ifi_flags, {mac.begin(), mac.end()}};
  });
  if (status.ec) {
    diag.message =
        detail::describe_status(std::string(what) + " of " + describe_interface(ifindex), status);
    return status.ec;
  }
  if (!reply) {
    diag.message =
        std::string(what) + " of " + describe_interface(ifindex) + ": no link in the reply";
    return make_error_code(errc::bad_reply);
  }
  return *reply;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

boost::system::result<link_state> link(int ifindex) {
  diagnostics diag;
  return link(ifindex, diag);
}

boost::system::result<link_state> link(int ifindex, diagnostics& diag) {
  auto reply = get_link(ifindex, "reading the link state", diag);
  if (!reply) return reply.error();
  return link_state{(reply->flags & IFF_UP) != 0, (reply->flags & iff_lower_up) != 0};
}

std::string to_string(const mac_address& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

std::optional<mac_address> parse_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  mac_address mac{};
  for (std::size_t i = 0; i < mac.size(); ++i) {
    const int hi = hex_digit(text[i * 3]);
    const int lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) return std::nullopt;
    mac[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return mac;
}

boost::system::result<mac_address> hardware_address(int ifindex) {
  diagnostics diag;
  return hardware_address(ifindex, diag);
}

boost::system::result<mac_address> hardware_address(int ifindex, diagnostics& diag) {
  auto reply = get_link(ifindex, "reading the hardware address", diag);
  if (!reply) return reply.error();
  mac_address mac{};
  if (reply->hardware_address.size() != mac.size() ||
      std::all_of(reply->hardware_address.begin(), reply->hardware_address.end(),
                  [](std::uint8_t b) { return b == 0; })) {
    diag.message = "reading the hardware address of " + describe_interface(ifindex) + ": got " +
                   std::to_string(reply->hardware_address.size()) +
                   " bytes, not a non-zero 6-byte Ethernet address";
    return make_error_code(errc::no_ethernet_address);
  }
  std::copy(reply->hardware_address.begin(), reply->hardware_address.end(), mac.begin());
  return mac;
}

std::optional<mac_address> neighbour(const boost::asio::ip::address& ip) {
  ndmsg h{};
  h.ndm_family = ip.is_v4() ? AF_INET : AF_INET6;
  detail::netlink_request req(RTM_GETNEIGH, NLM_F_DUMP, h);
  std::optional<mac_address> found;
  (void)detail::netlink_transact(req, [&](const nlmsghdr& m) {
    ndmsg n{};
    if (found || m.nlmsg_type != RTM_NEWNEIGH || !detail::family_header(m, n)) return;
    const auto attrs = detail::attributes_after<ndmsg>(m, NDA_MAX);
    const auto dst = detail::address_from(n.ndm_family, attrs.bytes(NDA_DST));
    const auto lladdr = attrs.bytes(NDA_LLADDR);
    if (!dst || *dst != ip || lladdr.size() != 6) return;
    mac_address mac{};
    std::copy(lladdr.begin(), lladdr.end(), mac.begin());
    found = mac;
  });
  return found;
}

}  // namespace hasys::sys
