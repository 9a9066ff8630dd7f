// Wire formats for ARP and IPv6 neighbour discovery: pure builders and parsers (tested without
// I/O).
#pragma once

#include <hasys/sys/link.hpp>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace hasys::sys::detail {

constexpr std::uint16_t ethertype_arp = 0x0806;
constexpr std::uint16_t ethertype_ipv6 = 0x86DD;
constexpr mac_address broadcast_mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// ---- ARP (the payload after the Ethernet header: 28 bytes for IPv4 over Ethernet) ----
enum class arp_op : std::uint16_t { request = 1, reply = 2 };

struct arp_message {
  arp_op op = arp_op::request;
  mac_address sender_mac{};
  boost::asio::ip::address_v4 sender_ip;
  mac_address target_mac{};
  boost::asio::ip::address_v4 target_ip;
};

std::vector<std::uint8_t> encode_arp(const arp_message& m);
// nullopt unless it is an Ethernet/IPv4 ARP request or reply.
std::optional<arp_message> decode_arp(std::span<const std::uint8_t> payload);

// Gratuitous ARP: a broadcast request whose sender and target IP are both ip.
arp_message gratuitous_arp(const boost::asio::ip::address_v4& ip, const mac_address& mac);
// RFC 5227 probe: sender IP 0.0.0.0, target ip.
arp_message arp_probe(const boost::asio::ip::address_v4& ip, const mac_address& self);
// The MAC that claims ip in m (m's sender IP is ip), if any.
std::optional<mac_address> arp_claim(const arp_message& m, const boost::asio::ip::address_v4& ip);

// ---- IPv6 neighbour discovery (whole IPv6 packets: header + ICMPv6) ----
// The ICMPv6 checksum over the IPv6 pseudo-header and message (checksum field taken as zero).
std::uint16_t icmpv6_checksum(const boost::asio::ip::address_v6& src,
                              const boost::asio::ip::address_v6& dst,
                              std::span<const std::uint8_t> icmp);

boost::asio::ip::address_v6 solicited_node_group(const boost::asio::ip::address_v6& ip);
mac_address multicast_mac(const boost::asio::ip::address_v6& group);  // 33:33:xx:xx:xx:xx
boost::asio::ip::address_v6 all_nodes();                              // ff02::1

// Unsolicited NA (override flag, target link-layer address option) from ip to all-nodes.
std::vector<std::uint8_t> encode_unsolicited_na(const boost::asio::ip::address_v6& ip,
                                                const mac_address& mac);
// DAD neighbour solicitation: from ::, to ip's solicited-node group, no source link-layer option.
std::vector<std::uint8_t> encode_dad_solicitation(const boost::asio::ip::address_v6& ip);

struct neighbour_advertisement {
  boost::asio::ip::address_v6 target;
  bool override_flag = false;
  std::optional<mac_address> target_mac;  // the target link-layer address option
};
// nullopt unless it is an IPv6 packet carrying an ICMPv6 neighbour advertisement.
std::optional<neighbour_advertisement> decode_na(std::span<const std::uint8_t> packet);

}  // namespace hasys::sys::detail
