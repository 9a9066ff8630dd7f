// ARP and neighbour-discovery wire formats, and MAC address text, without any socket.
#include "packets.hpp"

#include <hasys/sys/link.hpp>

#include <gtest/gtest.h>

namespace {

using namespace hasys::sys;
using namespace hasys::sys::detail;
namespace ip = boost::asio::ip;

const mac_address mac_a{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};

TEST(sys_mac, prints_and_parses_colon_hex) {
  EXPECT_EQ(to_string(mac_a), "02:00:5e:10:00:01");
  EXPECT_EQ(parse_mac("02:00:5E:10:00:01"), mac_a);
  EXPECT_FALSE(parse_mac("02:00:5e:10:00"));
  EXPECT_FALSE(parse_mac("02-00-5e-10-00-01"));
  EXPECT_FALSE(parse_mac("02:00:5e:10:00:0g"));
}

TEST(sys_arp, gratuitous_arp_is_a_request_with_sender_ip_equal_to_target_ip) {
  const auto bytes = encode_arp(gratuitous_arp(ip::make_address_v4("203.0.113.7"), mac_a));
  ASSERT_EQ(bytes.size(), 28U);
  const std::vector<std::uint8_t> expected{
      0,    1,    8,    0,    6,    4,    0,   1,           // Ethernet, IPv4, request
      0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 203, 0, 113, 7,   // sender
      0,    0,    0,    0,    0,    0,    203, 0, 113, 7};  // target
  EXPECT_EQ(bytes, expected);
}

TEST(sys_arp, probe_has_sender_ip_zero_and_decodes_back) {
  const auto m = decode_arp(encode_arp(arp_probe(ip::make_address_v4("203.0.113.9"), mac_a)));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->op, arp_op::request);
  EXPECT_EQ(m->sender_ip, ip::address_v4::any());
  EXPECT_EQ(m->sender_mac, mac_a);
  EXPECT_EQ(m->target_ip, ip::make_address_v4("203.0.113.9"));
  EXPECT_FALSE(arp_claim(*m, ip::make_address_v4("203.0.113.9"))) << "a probe claims nothing";
}

TEST(sys_arp, reply_from_the_holder_is_a_claim) {
  arp_message reply{arp_op::reply, mac_a, ip::make_address_v4("203.0.113.9"), mac_address{},
                    ip::address_v4::any()};
  const auto m = decode_arp(encode_arp(reply));
  ASSERT_TRUE(m);
  EXPECT_EQ(arp_claim(*m, ip::make_address_v4("203.0.113.9")), mac_a);
  EXPECT_FALSE(arp_claim(*m, ip::make_address_v4("203.0.113.10")));
}

TEST(sys_arp, rejects_short_or_foreign_packets) {
  auto bytes = encode_arp(gratuitous_arp(ip::make_address_v4("203.0.113.7"), mac_a));
  EXPECT_FALSE(decode_arp(std::span(bytes).first(27)));
  bytes[3] = 0xdd;  // protocol type 0x08dd is not IPv4
  EXPECT_FALSE(decode_arp(bytes));
}

// The checksum is right when summing the whole message, checksum included, gives 0xffff.
TEST(sys_nd, dad_solicitation_goes_from_unspecified_to_the_solicited_node_group) {
  const auto target = ip::make_address_v6("2001:db8::12:3456");
  const auto packet = encode_dad_solicitation(target);
  ASSERT_EQ(packet.size(), 40U + 24U);
  EXPECT_EQ(packet[0] >> 4, 6);
  EXPECT_EQ(packet[6], 58) << "next header ICMPv6";
  EXPECT_EQ(packet[7], 255) << "hop limit";
  const auto group = solicited_node_group(target);
  EXPECT_EQ(group, ip::make_address_v6("ff02::1:ff12:3456"));
  EXPECT_EQ(multicast_mac(group), (mac_address{0x33, 0x33, 0xff, 0x12, 0x34, 0x56}));
  const std::span<const std::uint8_t> icmp(packet.data() + 40, 24);
  EXPECT_EQ(icmp[0], 135);
  const std::uint16_t carried = static_cast<std::uint16_t>((icmp[2] << 8) | icmp[3]);
  EXPECT_EQ(carried, icmpv6_checksum(ip::address_v6::any(), group, icmp));
  EXPECT_NE(carried, 0);
}

// An independent check of the checksum: with the computed value filled in, the one's-complement
// sum over pseudo-header and message is 0xffff (RFC 1071). The kernels in the integration tests
// accepting our solicitations and advertisements check it once more.
TEST(sys_nd, checksum_makes_the_ones_complement_sum_all_ones) {
  std::vector<std::uint8_t> icmp{135, 0, 0x00, 0x00, 0, 0, 0, 0};
  const auto target = ip::make_address_v6("fe80::2").to_bytes();
  icmp.insert(icmp.end(), target.begin(), target.end());
  const auto sum =
      icmpv6_checksum(ip::make_address_v6("fe80::1"), ip::make_address_v6("ff02::1:ff00:2"), icmp);
  icmp[2] = static_cast<std::uint8_t>(sum >> 8);
  icmp[3] = static_cast<std::uint8_t>(sum & 0xff);
  std::uint32_t total = 0;
  auto add = [&total](std::span<const std::uint8_t> b) {
    for (std::size_t i = 0; i < b.size(); i += 2)
      total += static_cast<std::uint32_t>((b[i] << 8) | b[i + 1]);
  };
  add(ip::make_address_v6("fe80::1").to_bytes());
  add(ip::make_address_v6("ff02::1:ff00:2").to_bytes());
  total += static_cast<std::uint32_t>(icmp.size()) + 58;
  add(icmp);
  while (total >> 16) total = (total & 0xffff) + (total >> 16);
  EXPECT_EQ(total, 0xffffU);
}

TEST(sys_nd, unsolicited_na_carries_override_flag_and_target_mac) {
  const auto target = ip::make_address_v6("2001:db8::77");
  const auto packet = encode_unsolicited_na(target, mac_a);
  EXPECT_EQ(
      ip::address_v6(*reinterpret_cast<const ip::address_v6::bytes_type*>(packet.data() + 24)),
      all_nodes());
  const auto na = decode_na(packet);
  ASSERT_TRUE(na);
  EXPECT_EQ(na->target, target);
  EXPECT_TRUE(na->override_flag);
  EXPECT_EQ(na->target_mac, mac_a);
}

TEST(sys_nd, decode_na_ignores_solicitations_and_truncated_packets) {
  const auto ns = encode_dad_solicitation(ip::make_address_v6("2001:db8::1"));
  EXPECT_FALSE(decode_na(ns));
  const auto na = encode_unsolicited_na(ip::make_address_v6("2001:db8::1"), mac_a);
  EXPECT_FALSE(decode_na(std::span(na).first(50)));
}

}  // namespace
