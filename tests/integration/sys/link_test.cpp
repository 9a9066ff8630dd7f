// Link state, hardware addresses and neighbour lookups in a private network namespace.
#include "netns_fixture.hpp"

#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>

namespace {

using namespace std::chrono_literals;
using namespace hasys::sys;
using hasys::sys::test::ip_command;
using hasys::sys::test::netns_pair;
using hasys::sys::test::netns_scope;
using hasys::sys::test::netns_test;
using hasys::sys::test::run_command;
namespace ip = boost::asio::ip;

TEST_F(netns_test, link_state_follows_peer_down_and_admin_down) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  EXPECT_EQ(link(va).value(), (link_state{true, true}));
  run_command({ip_command(), "-n", pair_->b(), "link", "set", "vb", "down"});
  EXPECT_EQ(link(va).value(), (link_state{true, false})) << "a veth loses carrier with its peer";
  run_command({ip_command(), "-n", pair_->a(), "link", "set", "va", "down"});
  EXPECT_EQ(link(va).value(), (link_state{false, false}));
  run_command({ip_command(), "-n", pair_->b(), "link", "set", "vb", "up"});
  run_command({ip_command(), "-n", pair_->a(), "link", "set", "va", "up"});
  EXPECT_EQ(link(va).value(), (link_state{true, true}));
  diagnostics diag;
  EXPECT_EQ(link(9999, diag).error(), boost::system::errc::no_such_device);
  EXPECT_NE(diag.message.find("reading the link state of ifindex 9999: "), std::string::npos)
      << diag.message;
}

TEST_F(netns_test, hardware_address_is_the_interfaces_mac) {
  netns_scope in_a(pair_->a());
  EXPECT_EQ(hardware_address(index_of("va")).value(), netns_pair::mac_a);
  EXPECT_EQ(to_string(hardware_address(index_of("va")).value()), "02:00:00:00:0a:01");
  diagnostics diag;
  const auto lo = hardware_address(index_of("lo"), diag);
  EXPECT_EQ(lo.error(), make_error_code(errc::no_ethernet_address));
  EXPECT_NE(diag.message.find("lo (ifindex 1)"), std::string::npos) << diag.message;
}

TEST_F(netns_test, neighbour_is_found_once_traffic_resolved_it) {
  netns_scope in_a(pair_->a());
  const auto peer = ip::make_address("203.0.113.2");
  EXPECT_FALSE(neighbour(peer)) << "a fresh namespace knows no neighbour";
  send_udp(peer);
  EXPECT_TRUE(poll_until([&] { return neighbour(peer) == netns_pair::mac_b; }, 5s))
      << "203.0.113.2 never resolved to " << to_string(netns_pair::mac_b);
  EXPECT_FALSE(neighbour(ip::make_address("203.0.113.99")));
}

}  // namespace
