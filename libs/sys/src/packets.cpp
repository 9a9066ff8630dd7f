// Encoding and decoding ARP messages and IPv6 neighbour solicitations/advertisements.
#include "packets.hpp"

#include <algorithm>

namespace hasys::sys::detail {

namespace {

constexpr std::size_t arp_size = 28;
constexpr std::size_t ipv6_header_size = 40;
constexpr std::uint8_t next_header_icmpv6 = 58;
constexpr std::uint8_t icmpv6_neighbour_solicitation = 135;
constexpr std::uint8_t icmpv6_neighbour_advertisement = 136;
constexpr std::uint8_t option_target_lladdr = 2;
constexpr std::uint8_t na_flag_override = 0x20;

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

template <class Bytes>
void put(std::vector<std::uint8_t>& out, const Bytes& b) {
  out.insert(out.end(), b.begin(), b.end());
}

std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

template <class Array>
Array get_array(std::span<const std::uint8_t> b, std::size_t at) {
  Array a{};
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), a.size(), a.begin());
  return a;
}

// An IPv6 header with an ICMPv6 payload, hop limit 255 (required for neighbour discovery).
std::vector<std::uint8_t> ipv6_packet(const boost::asio::ip::address_v6& src,
                                      const boost::asio::ip::address_v6& dst,
                                      std::vector<std::uint8_t> icmp) {
  const std::uint16_t sum = icmpv6_checksum(src, dst, icmp);
  icmp[2] = static_cast<std::uint8_t>(sum >> 8);
  icmp[3] = static_cast<std::uint8_t>(sum & 0xff);
  std::vector<std::uint8_t> out{0x60, 0, 0, 0};
  put16(out, static_cast<std::uint16_t>(icmp.size()));
  out.push_back(next_header_icmpv6);
  out.push_back(255);
  put(out, src.to_bytes());
  put(out, dst.to_bytes());
  put(out, icmp);
  return out;
}

}  // namespace

std::vector<std::uint8_t> encode_arp(const arp_message& m) {
  std::vector<std::uint8_t> out;
  out.reserve(arp_size);
  put16(out, 1);       // hardware type: Ethernet
  put16(out, 0x0800);  // protocol type: IPv4
  out.push_back(6);
  out.push_back(4);
  put16(out, static_cast<std::uint16_t>(m.op));
  put(out, m.sender_mac);
  put(out, m.sender_ip.to_bytes());
  put(out, m.target_mac);
  put(out, m.target_ip.to_bytes());
  return out;
}

std::optional<arp_message> decode_arp(std::span<const std::uint8_t> p) {
  if (p.size() < arp_size || get16(p, 0) != 1 || get16(p, 2) != 0x0800 || p[4] != 6 || p[5] != 4) {
    return std::nullopt;
  }
  const auto op = get16(p, 6);
  if (op != 1 && op != 2) return std::nullopt;
  arp_message m;
  m.op = static_cast<arp_op>(op);
  m.sender_mac = get_array<mac_address>(p, 8);
  m.sender_ip =
      boost::asio::ip::address_v4(get_array<boost::asio::ip::address_v4::bytes_type>(p, 14));
  m.target_mac = get_array<mac_address>(p, 18);
  m.target_ip =
      boost::asio::ip::address_v4(get_array<boost::asio::ip::address_v4::bytes_type>(p, 24));
  return m;
}

arp_message gratuitous_arp(const boost::asio::ip::address_v4& ip, const mac_address& mac) {
  return {arp_op::request, mac, ip, mac_address{}, ip};
}

arp_message arp_probe(const boost::asio::ip::address_v4& ip, const mac_address& self) {
  return {arp_op::request, self, boost::asio::ip::address_v4::any(), mac_address{}, ip};
}

std::optional<mac_address> arp_claim(const arp_message& m, const boost::asio::ip::address_v4& ip) {
  if (m.sender_ip != ip) return std::nullopt;
  return m.sender_mac;
}

std::uint16_t icmpv6_checksum(const boost::asio::ip::address_v6& src,
                              const boost::asio::ip::address_v6& dst,
                              std::span<const std::uint8_t> icmp) {
  std::uint32_t sum = 0;
  auto add_bytes = [&sum](std::span<const std::uint8_t> b, std::size_t skip_from,
                          std::size_t skip_to) {
    for (std::size_t i = 0; i < b.size(); i += 2) {
      const std::uint8_t hi = (i >= skip_from && i < skip_to) ? 0 : b[i];
      const std::uint8_t lo =
          i + 1 >= b.size() || (i + 1 >= skip_from && i + 1 < skip_to) ? 0 : b[i + 1];
      sum += static_cast<std::uint32_t>((hi << 8) | lo);
    }
  };
  const auto s = src.to_bytes();
  const auto d = dst.to_bytes();
  add_bytes(s, 0, 0);
  add_bytes(d, 0, 0);
  const auto length = static_cast<std::uint32_t>(icmp.size());
  sum += length >> 16;
  sum += length & 0xffff;
  sum += next_header_icmpv6;
  add_bytes(icmp, 2, 4);
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

boost::asio::ip::address_v6 solicited_node_group(const boost::asio::ip::address_v6& ip) {
  boost::asio::ip::address_v6::bytes_type g{0xff, 0x02, 0, 0, 0,    0, 0, 0,
                                            0,    0,    0, 1, 0xff, 0, 0, 0};
  const auto b = ip.to_bytes();
  std::copy(b.begin() + 13, b.end(), g.begin() + 13);
  return boost::asio::ip::address_v6(g);
}

boost::asio::ip::address_v6 all_nodes() {
  return boost::asio::ip::address_v6({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
}

mac_address multicast_mac(const boost::asio::ip::address_v6& group) {
  const auto b = group.to_bytes();
  return {0x33, 0x33, b[12], b[13], b[14], b[15]};
}

std::vector<std::uint8_t> encode_unsolicited_na(const boost::asio::ip::address_v6& ip,
                                                const mac_address& mac) {
  std::vector<std::uint8_t> icmp{
      icmpv6_neighbour_advertisement, 0, 0, 0, na_flag_override, 0, 0, 0};
  put(icmp, ip.to_bytes());
  icmp.push_back(option_target_lladdr);
  icmp.push_back(1);  // option length in units of 8 bytes
  put(icmp, mac);
  return ipv6_packet(ip, all_nodes(), std::move(icmp));
}

std::vector<std::uint8_t> encode_dad_solicitation(const boost::asio::ip::address_v6& ip) {
  std::vector<std::uint8_t> icmp{icmpv6_neighbour_solicitation, 0, 0, 0, 0, 0, 0, 0};
  put(icmp, ip.to_bytes());
  return ipv6_packet(boost::asio::ip::address_v6::any(), solicited_node_group(ip), std::move(icmp));
}

std::optional<neighbour_advertisement> decode_na(std::span<const std::uint8_t> p) {
  constexpr std::size_t na_size = 24;
  if (p.size() < ipv6_header_size + na_size || (p[0] >> 4) != 6 || p[6] != next_header_icmpv6) {
    return std::nullopt;
  }
  const std::size_t payload = std::min<std::size_t>(get16(p, 4), p.size() - ipv6_header_size);
  const auto icmp = p.subspan(ipv6_header_size, payload);
  if (icmp.size() < na_size || icmp[0] != icmpv6_neighbour_advertisement || icmp[1] != 0) {
    return std::nullopt;
  }
  neighbour_advertisement na;
  na.override_flag = (icmp[4] & na_flag_override) != 0;
  na.target =
      boost::asio::ip::address_v6(get_array<boost::asio::ip::address_v6::bytes_type>(icmp, 8));
  for (std::size_t at = na_size; at + 2 <= icmp.size();) {
    const std::size_t len = std::size_t{icmp[at + 1]} * 8;
    if (len == 0 || at + len > icmp.size()) break;
    if (icmp[at] == option_target_lladdr && len >= 8)
      na.target_mac = get_array<mac_address>(icmp, at + 2);
    at += len;
  }
  return na;
}

}  // namespace hasys::sys::detail
