// Gratuitous ARP, unsolicited NA and duplicate-address probes between two network namespaces.
#include "netns_fixture.hpp"

#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>
#include <hasys/sys/neighbour_discovery.hpp>

namespace {

using namespace std::chrono_literals;
using namespace hasys::sys;
using hasys::sys::test::netns_pair;
using hasys::sys::test::netns_scope;
using hasys::sys::test::netns_test;
using hasys::sys::test::write_sysctl;
namespace ip = boost::asio::ip;

const mac_address moved_mac{0x02, 0, 0, 0, 0x00, 0x77};

// b learns a's address through traffic, then a announces that address with another MAC.
TEST_F(netns_test, gratuitous_arp_moves_the_neighbours_existing_entry) {
  const auto a_ip = ip::make_address("203.0.113.1");
  {
    netns_scope in_b(pair_->b());
    send_udp(a_ip);
    ASSERT_TRUE(poll_until([&] { return neighbour(a_ip) == netns_pair::mac_a; }, 5s));
  }
  {
    netns_scope in_a(pair_->a());
    diagnostics diag;
    ASSERT_FALSE(send_gratuitous_arp(index_of("va"), a_ip.to_v4(), moved_mac, 2, diag))
        << diag.message;
  }
  netns_scope in_b(pair_->b());
  EXPECT_TRUE(poll_until([&] { return neighbour(a_ip) == moved_mac; }, 5s))
      << "b still has " << (neighbour(a_ip) ? to_string(*neighbour(a_ip)) : "nothing");
}

TEST_F(netns_test, gratuitous_arp_creates_an_entry_where_arp_accept_is_on) {
  const auto vip = ip::make_address_v4("203.0.113.77");
  {
    netns_scope in_b(pair_->b());
    write_sysctl("net/ipv4/conf/vb/arp_accept", "1");
    EXPECT_FALSE(neighbour(vip));
  }
  {
    netns_scope in_a(pair_->a());
    ASSERT_FALSE(send_gratuitous_arp(index_of("va"), vip, netns_pair::mac_a));
  }
  netns_scope in_b(pair_->b());
  EXPECT_TRUE(poll_until([&] { return neighbour(vip) == netns_pair::mac_a; }, 5s));
}

TEST_F(netns_test, send_on_a_missing_interface_names_it) {
  netns_scope in_a(pair_->a());
  diagnostics diag;
  EXPECT_TRUE(send_gratuitous_arp(9999, ip::make_address_v4("203.0.113.77"), moved_mac, 1, diag));
  EXPECT_NE(
      diag.message.find("gratuitous ARP for 203.0.113.77 (02:00:00:00:00:77) on ifindex 9999: "),
      std::string::npos)
      << diag.message;
}

TEST_F(netns_test, probe_finds_the_holder_of_an_address_and_nobody_for_a_free_one) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  const auto start = std::chrono::steady_clock::now();
  const auto taken = run(probe_address(ioc_.get_executor(), va, ip::make_address("203.0.113.2"),
                                       netns_pair::mac_a, 600ms, 2));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(taken) << taken.error().message();
  EXPECT_EQ(*taken, std::vector<mac_address>{netns_pair::mac_b});
  EXPECT_GE(took, 600ms);
  EXPECT_LT(took, 2s);
  const auto free = run(probe_address(ioc_.get_executor(), va, ip::make_address("203.0.113.99"),
                                      netns_pair::mac_a, 600ms, 2));
  ASSERT_TRUE(free) << free.error().message();
  EXPECT_TRUE(free->empty());
  const auto own = run(probe_address(ioc_.get_executor(), va, ip::make_address("203.0.113.1"),
                                     netns_pair::mac_a, 300ms, 1));
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->empty()) << "our own address is not a conflict";
}

// IPv6: a holds 2001:db8::1, b holds 2001:db8::2, both without duplicate address detection.
class netns_ipv6_test : public netns_test {
 protected:
  void SetUp() override {
    netns_test::SetUp();
    if (IsSkipped()) return;
    for (const auto& [ns, dev, addr] : {std::tuple{pair_->a(), "va", "2001:db8::1"},
                                        std::tuple{pair_->b(), "vb", "2001:db8::2"}}) {
      netns_scope in(ns);
      if (!ipv6_enabled()) GTEST_SKIP() << "IPv6 is disabled in this kernel/namespace";
      diagnostics diag;
      ASSERT_FALSE(add_address(index_of(dev), {ip::make_address(addr), 64}, {}, {}, diag))
          << diag.message;
    }
  }
};

TEST_F(netns_ipv6_test, unsolicited_na_moves_the_neighbours_existing_entry) {
  const auto a_ip = ip::make_address("2001:db8::1");
  {
    netns_scope in_b(pair_->b());
    send_udp(a_ip);
    ASSERT_TRUE(poll_until([&] { return neighbour(a_ip) == netns_pair::mac_a; }, 5s));
  }
  {
    netns_scope in_a(pair_->a());
    diagnostics diag;
    ASSERT_FALSE(send_unsolicited_na(index_of("va"), a_ip.to_v6(), moved_mac, 2, diag))
        << diag.message;
  }
  netns_scope in_b(pair_->b());
  EXPECT_TRUE(poll_until([&] { return neighbour(a_ip) == moved_mac; }, 5s))
      << "b still has " << (neighbour(a_ip) ? to_string(*neighbour(a_ip)) : "nothing");
}

TEST_F(netns_ipv6_test, probe_finds_the_holder_of_an_ipv6_address_and_nobody_for_a_free_one) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  const auto taken = run(probe_address(ioc_.get_executor(), va, ip::make_address("2001:db8::2"),
                                       netns_pair::mac_a, 600ms, 2));
  ASSERT_TRUE(taken) << taken.error().message();
  EXPECT_EQ(*taken, std::vector<mac_address>{netns_pair::mac_b});
  const auto free = run(probe_address(ioc_.get_executor(), va, ip::make_address("2001:db8::99"),
                                      netns_pair::mac_a, 600ms, 2));
  ASSERT_TRUE(free) << free.error().message();
  EXPECT_TRUE(free->empty());
}

}  // namespace
