// Issue 3 in the netns lab: the fault matrix (R8) with the real daemons, a TCP client on the
// virtual IP, and a sampler that checks no two nodes hold the VIP for longer than one period.
#include "node_view.hpp"
#include "vip_watch.hpp"

#include <gtest/gtest.h>

namespace cluster = hasys::cluster;
using hasys::lab::client_reads;
using hasys::lab::crash;
using hasys::lab::event_stream;
using hasys::lab::expect_serving;
using hasys::lab::expect_settled;
using hasys::lab::lab;
using hasys::lab::status_of;
using hasys::lab::up_options;
using hasys::lab::vip_watch;
using hasys::lab::wait_status;
using namespace std::chrono_literals;

namespace {

const std::string vip = "198.51.100.100";
constexpr auto settle = 10s;

up_options setting(std::string period, int count) {
  up_options o;
  o.period = std::move(period);
  o.count = count;
  return o;
}

std::chrono::milliseconds period_of(const up_options& o) {
  return o.period.ends_with("ms") ? std::chrono::milliseconds(std::stoi(o.period))
                                  : std::chrono::milliseconds(1000 * std::stoi(o.period));
}

// The fault matrix at the default and at a fast setting (issue 8): "f1" -> "f1h" / "f1t".
std::string prefix_for(const std::string& base, const up_options& o) {
  return base + (o.period == "100ms" ? "h" : "t");
}

class failover_at : public ::testing::TestWithParam<up_options> {};

void expect_no_overlap(const vip_watch& w, const up_options& o) {
  EXPECT_LE(w.longest_overlap(), period_of(o)) << "both nodes held the VIP";
  EXPECT_GT(w.samples(), 10u);
}

}  // namespace

TEST_P(failover_at, active_crash_moves_the_service_to_the_standby) {  // F1, power failure
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  lab l(prefix_for("f1", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream eb(l, "b");
  ASSERT_NO_FATAL_FAILURE(crash(l, "a"));
  EXPECT_TRUE(eb.wait_for("peer_lost", 5s)) << eb.transcript();
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  expect_no_overlap(w, o);
}

TEST(failover, frozen_active_loses_the_vip_to_its_lease_and_yields_when_thawed) {  // F1, F12
  SKIP_UNLESS_ROOT();
  const auto o = setting("1s", 3);
  lab l("fo2", o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_OK(l.run("freeze", "a"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_OK(l.run("thaw", "a"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby", "--peer-role", "active"}, settle));
  EXPECT_TRUE(w.wait_sole_holder("b", settle));
  EXPECT_EQ(client_reads(l, vip), "node-b");
  expect_no_overlap(w, o);
}

TEST(failover, every_process_killed_on_the_active_leaves_no_duplicate_vip) {  // F1 kill -9, F9
  SKIP_UNLESS_ROOT();
  const auto o = setting("1s", 3);
  lab l("fo3", o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_OK(l.run("kill", "a", "all", "--signal", "KILL"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  expect_no_overlap(w, o);  // nobody was left on a to remove it: the kernel did, at lease end
}

TEST_P(failover_at, standby_crash_changes_nothing) {  // F2
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  lab l(prefix_for("f4", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  const auto before = status_of(l, "a");
  event_stream ea(l, "a");
  ASSERT_NO_FATAL_FAILURE(crash(l, "b"));
  EXPECT_TRUE(ea.wait_for("peer_lost", 5s)) << ea.transcript();
  for (auto& e : ea.collect_for(500ms)) EXPECT_NE(e.code, "deactivating") << e.text;
  auto after = status_of(l, "a");
  ASSERT_TRUE(before && after);
  EXPECT_EQ(after->role, cluster::role::active);
  EXPECT_EQ(after->epoch, before->epoch);
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
  EXPECT_EQ(client_reads(l, vip), "node-a");
}

TEST_P(failover_at, active_losing_its_public_network_hands_over) {  // F5
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  lab l(prefix_for("f5", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream ea(l, "a");
  ASSERT_OK(l.run("link", "a", "pub", "down"));
  EXPECT_TRUE(ea.wait_for("gateway_down", 5s)) << ea.transcript();
  EXPECT_TRUE(ea.wait_for("deactivating", 5s)) << ea.transcript();
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby"}, settle));
  expect_no_overlap(w, o);
}

TEST_P(failover_at, standby_losing_its_public_network_changes_nothing) {  // F6
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  lab l(prefix_for("f6", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream eb(l, "b");
  ASSERT_OK(l.run("link", "b", "pub", "down"));
  EXPECT_TRUE(eb.wait_for("gateway_down", 5s)) << eb.transcript();
  for (auto& e : eb.collect_for(1s)) EXPECT_FALSE(hasys::lab::is_role_change(e)) << e.text;
  EXPECT_TRUE(wait_status(l, "a", {"--role", "active", "--peer-alive", "yes"}, 1s));
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
  EXPECT_EQ(client_reads(l, vip), "node-a");
}

TEST_P(failover_at, the_active_interface_down_then_up_leaves_one_holder_of_the_vip) {  // F10
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  lab l(prefix_for("f10", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  // "ifconfig eth0 down" on the Active: the kernel keeps IPv4 addresses on a downed interface,
  // so the virtual IP would be back on the wire with the link unless the node gave it up.
  ASSERT_OK(l.run("link", "a", "pub", "down"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby"}, settle));
  ASSERT_OK(l.run("link", "a", "pub", "up"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby", "--peer-role", "active"}, settle));
  for (auto& e : event_stream(l, "a").collect_for(1s))
    EXPECT_FALSE(hasys::lab::is_role_change(e)) << e.text;
  EXPECT_EQ(w.holders(), std::vector<std::string>{"b"});
  EXPECT_EQ(client_reads(l, vip), "node-b");
  // A flap shorter than detection on the new Active: whoever serves afterwards serves alone.
  ASSERT_OK(l.run("link", "b", "pub", "down"));
  ASSERT_OK(l.run("link", "b", "pub", "up"));
  std::string active;
  for (auto until = std::chrono::steady_clock::now() + settle;
       active.empty() && std::chrono::steady_clock::now() < until;) {
    for (const char* n : {"a", "b"})
      if (wait_status(l, n, {"--role", "active", "--peer-alive", "yes"}, 200ms)) active = n;
  }
  ASSERT_FALSE(active.empty()) << "no node became Active with its peer alive after the flap";
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, active));
  expect_no_overlap(w, o);
}

TEST_P(failover_at,
       two_actives_after_a_partition_heals_resolve_to_one_with_a_critical_event) {  // F12
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  lab l(prefix_for("f7", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  // A partition that leaves both gateways reachable: a's heartbeats dropped both ways on both
  // networks, everything else (the gateway probes) flows.
  ASSERT_TRUE(l.exec("a",
                     "iptables -I INPUT -p udp --dport 29954:29955 -j DROP && "
                     "iptables -I OUTPUT -p udp --dport 29954:29955 -j DROP")
                  .ok());
  ASSERT_TRUE(wait_status(l, "b", {"--role", "active"}, settle)) << "b takes over the silent peer";
  event_stream ea(l, "a"), eb(l, "b");
  ASSERT_TRUE(l.exec("a",
                     "iptables -D INPUT -p udp --dport 29954:29955 -j DROP && "
                     "iptables -D OUTPUT -p udp --dport 29954:29955 -j DROP")
                  .ok());
  // b activated last (higher epoch): it keeps the role, a yields with a critical event.
  auto both = ea.wait_for("both_active", 5s);
  ASSERT_TRUE(both) << ea.transcript();
  EXPECT_EQ(both->level, cluster::severity::critical);
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby", "--peer-role", "active"}, settle));
  EXPECT_TRUE(w.wait_sole_holder("b", settle));
  EXPECT_EQ(client_reads(l, vip), "node-b");
}

TEST_P(failover_at,
       without_a_heartbeat_network_the_side_cut_from_the_gateway_never_activates) {  // F13
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  o.heartbeat_net = false;
  lab l(prefix_for("f8", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream eb(l, "b");
  ASSERT_OK(l.run("link", "b", "pub", "down"));  // b: no peer, no gateway
  EXPECT_TRUE(eb.wait_for("peer_lost", 5s)) << eb.transcript();
  for (auto& e : eb.collect_for(1500ms)) EXPECT_NE(e.code, "activating") << e.text;
  auto b = status_of(l, "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->role, cluster::role::standby);
  EXPECT_EQ(b->epoch, 0u);
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
  // And the other way round: the Active cut off steps down, the side with the gateway serves.
  ASSERT_OK(l.run("link", "b", "pub", "up"));
  ASSERT_TRUE(wait_status(l, "b", {"--peer-alive", "yes"}, settle));
  ASSERT_OK(l.run("link", "a", "pub", "down"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby"}, settle));
  expect_no_overlap(w, o);
}

TEST_P(failover_at,
       a_crashed_node_booted_again_takes_the_service_back_when_the_other_crashes) {  // F1 twice
  SKIP_UNLESS_ROOT();
  auto o = GetParam();
  lab l(prefix_for("f9", o), o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_NO_FATAL_FAILURE(crash(l, "a"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_OK(l.run("boot", "a"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby", "--peer-role", "active"}, settle));
  ASSERT_NO_FATAL_FAILURE(crash(l, "b"));
  ASSERT_NO_FATAL_FAILURE(
      expect_serving(l, w, "a"));  // its journal still said the VIP was up: it must really add it
  expect_no_overlap(w, o);
}

namespace hasys::lab {
void PrintTo(const up_options& o, std::ostream* os) { *os << o.period << " x " << o.count; }
}  // namespace hasys::lab

namespace {
std::string setting_name(const ::testing::TestParamInfo<up_options>& i) {
  return "at_" + i.param.period + "_x_3";
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(matrix, failover_at,
                         ::testing::Values(setting("100ms", 3), setting("20ms", 3)), setting_name);
