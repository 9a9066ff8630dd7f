// Addresses in a private network namespace: idempotent add/remove, kernel-enforced lifetimes.
#include "netns_fixture.hpp"

#include <hasys/sys/address.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace hasys::sys;
using hasys::sys::test::netns_scope;
using hasys::sys::test::netns_test;
namespace ip = boost::asio::ip;

const ip_prefix vip{ip::make_address("203.0.113.10"), 24};

bool present(int ifindex, const ip::address& a) {
  const auto r = has_address(ifindex, a);
  EXPECT_TRUE(r) << "has_address failed: " << r.error().message();
  return r && *r;
}

std::optional<address_entry> entry_of(int ifindex, const ip::address& a) {
  const auto all = address_entries(ifindex);
  if (!all) return std::nullopt;
  const auto it =
      std::find_if(all->begin(), all->end(), [&](const auto& e) { return e.address.ip == a; });
  return it == all->end() ? std::nullopt : std::optional(*it);
}

TEST_F(netns_test, add_and_remove_are_idempotent_both_ways) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  EXPECT_FALSE(present(va, vip.ip));
  diagnostics diag;
  EXPECT_FALSE(add_address(va, vip, {}, {}, diag)) << diag.message;
  EXPECT_FALSE(add_address(va, vip, {}, {}, diag)) << "adding it again: " << diag.message;
  EXPECT_TRUE(present(va, vip.ip));
  const auto all = addresses(va);
  ASSERT_TRUE(all);
  EXPECT_EQ(std::count(all->begin(), all->end(), vip), 1) << "exactly one copy";
  EXPECT_NE(std::find(all->begin(), all->end(), ip_prefix{ip::make_address("203.0.113.1"), 24}),
            all->end());
  const auto e = entry_of(va, vip.ip);
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->valid) << "no lifetime: forever";
  EXPECT_FALSE(remove_address(va, vip, diag)) << diag.message;
  EXPECT_FALSE(remove_address(va, vip, diag)) << "removing it again: " << diag.message;
  EXPECT_FALSE(present(va, vip.ip));
}

TEST_F(netns_test, label_is_set_on_an_ipv4_address) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  diagnostics diag;
  ASSERT_FALSE(add_address(va, vip, {}, "va:vip", diag)) << diag.message;
  EXPECT_EQ(entry_of(va, vip.ip)->label, "va:vip");
  const auto bad = add_address(va, {ip::make_address("203.0.113.11"), 24}, {}, "eth0:vip", diag);
  EXPECT_EQ(bad, boost::system::errc::invalid_argument);
  EXPECT_EQ(diag.message, "203.0.113.11/24 on va (ifindex " + std::to_string(va) +
                              "): label \"eth0:vip\": must start with the interface name \"va\"");
}

TEST_F(netns_test, errors_name_the_interface_and_the_address) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  diagnostics diag;
  EXPECT_EQ(add_address(9999, vip, {}, {}, diag), boost::system::errc::no_such_device);
  EXPECT_NE(diag.message.find("adding 203.0.113.10/24 on ifindex 9999: "), std::string::npos)
      << diag.message;
  EXPECT_EQ(add_address(va, {vip.ip, 33}, {}, {}, diag), boost::system::errc::invalid_argument);
  EXPECT_NE(diag.message.find("prefix length 33 is outside 0..32"), std::string::npos)
      << diag.message;
  ASSERT_FALSE(add_address(va, vip));
  EXPECT_EQ(remove_address(va, {vip.ip, 32}, diag), make_error_code(errc::prefix_mismatch));
  EXPECT_EQ(diag.message, "removing 203.0.113.10/32 on va (ifindex " + std::to_string(va) +
                              "): the address is there as /24; not removed");
  EXPECT_TRUE(present(va, vip.ip));
  EXPECT_EQ(add_address(va, {vip.ip, 32}, {}, {}, diag), make_error_code(errc::prefix_mismatch));
  EXPECT_EQ(diag.message, "adding 203.0.113.10/32 on va (ifindex " + std::to_string(va) +
                              "): the address is there as /24; not added");
  // IPv4 only: the IPv6 link-local address appears asynchronously after the link comes up.
  const auto all = addresses(va);
  ASSERT_TRUE(all);
  EXPECT_EQ(std::count_if(all->begin(), all->end(), [](const auto& a) { return a.ip.is_v4(); }), 2)
      << "203.0.113.1/24 and 203.0.113.10/24";
  const auto index = interface_index("nosuch0", diag);
  EXPECT_EQ(index.error(), boost::system::errc::no_such_device);
  EXPECT_EQ(diag.message, "interface \"nosuch0\": no such interface");
}

TEST_F(netns_test, address_with_a_lifetime_is_removed_by_the_kernel_itself) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  diagnostics diag;
  const auto added = std::chrono::steady_clock::now();
  ASSERT_FALSE(add_address(va, vip, 1s, {}, diag)) << diag.message;
  const auto e = entry_of(va, vip.ip);
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->valid);
  EXPECT_LE(*e->valid, 1s);
  ASSERT_TRUE(poll_until([&] { return !present(va, vip.ip); }, 10s)) << "still there after 10 s";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - added);
  std::cout << "[ measured ] a 1 s lifetime expired after " << took.count() << " ms\n";
  RecordProperty("lifetime_1s_expired_after_ms", static_cast<int>(took.count()));
  EXPECT_GE(took, 900ms);
  EXPECT_LE(took, 4s);
}

TEST_F(netns_test, ipv6_address_with_a_lifetime_is_removed_by_the_kernel_itself) {
  netns_scope in_a(pair_->a());
  if (!ipv6_enabled()) GTEST_SKIP() << "IPv6 is disabled in this kernel/namespace";
  const int va = index_of("va");
  const ip_prefix v6{ip::make_address("2001:db8::10"), 64};
  diagnostics diag;
  const auto added = std::chrono::steady_clock::now();
  ASSERT_FALSE(add_address(va, v6, 1s, {}, diag)) << diag.message;
  ASSERT_TRUE(poll_until([&] { return !present(va, v6.ip); }, 10s)) << "still there after 10 s";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - added);
  std::cout << "[ measured ] a 1 s IPv6 lifetime expired after " << took.count() << " ms\n";
  RecordProperty("ipv6_lifetime_1s_expired_after_ms", static_cast<int>(took.count()));
  EXPECT_GE(took, 900ms);
  EXPECT_LE(took, 4s);
}

TEST_F(netns_test, refreshing_keeps_the_address_beyond_its_lifetime_and_never_revives_it) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  diagnostics diag;
  ASSERT_FALSE(add_address(va, vip, 1s, {}, diag)) << diag.message;
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_FALSE(refresh_address(va, vip, 1s, diag)) << diag.message;
    ASSERT_TRUE(present(va, vip.ip)) << "gone although refreshed every 300 ms";
    std::this_thread::sleep_for(300ms);  // the refresh period itself is what is under test
  }
  ASSERT_TRUE(poll_until([&] { return !present(va, vip.ip); }, 10s))
      << "still there without refreshes";
  EXPECT_EQ(refresh_address(va, vip, 1s, diag), make_error_code(errc::address_absent));
  EXPECT_NE(diag.message.find("not on the interface (expired or removed); not added back"),
            std::string::npos)
      << diag.message;
  EXPECT_FALSE(present(va, vip.ip)) << "a refresh after expiry must not revive the address";
}

TEST_F(netns_test, adding_again_refreshes_the_lifetime_and_zero_makes_it_permanent) {
  netns_scope in_a(pair_->a());
  const int va = index_of("va");
  ASSERT_FALSE(add_address(va, vip, 2s));
  ASSERT_FALSE(add_address(va, vip, 100s));
  const auto longer = entry_of(va, vip.ip);
  ASSERT_TRUE(longer && longer->valid);
  EXPECT_GT(*longer->valid, 90s);
  ASSERT_FALSE(add_address(va, vip));
  const auto forever = entry_of(va, vip.ip);
  ASSERT_TRUE(forever);
  EXPECT_FALSE(forever->valid);
}

TEST_F(netns_test, ipv6_address_added_with_nodad_is_usable_at_once) {
  netns_scope in_a(pair_->a());
  if (!ipv6_enabled()) GTEST_SKIP() << "IPv6 is disabled in this kernel/namespace";
  const int va = index_of("va");
  const ip_prefix v6{ip::make_address("2001:db8::10"), 64};
  diagnostics diag;
  ASSERT_FALSE(add_address(va, v6, {}, {}, diag)) << diag.message;
  const auto e = entry_of(va, v6.ip);
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->tentative) << "duplicate address detection would make it tentative for ~1 s";
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 at{};
  at.sin6_family = AF_INET6;
  const auto bytes = v6.ip.to_v6().to_bytes();
  std::memcpy(&at.sin6_addr, bytes.data(), bytes.size());
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at), 0) << std::strerror(errno);
  ::close(fd);
  EXPECT_FALSE(add_address(va, v6, 5s, {}, diag)) << "idempotent for IPv6 too: " << diag.message;
  EXPECT_FALSE(refresh_address(va, v6, 5s, diag)) << diag.message;
  EXPECT_FALSE(remove_address(va, v6, diag)) << diag.message;
  EXPECT_FALSE(remove_address(va, v6, diag)) << diag.message;
  EXPECT_FALSE(present(va, v6.ip));
}

}  // namespace
