// Issue 2 in the netns lab, with the real daemons: both nodes see each other on both networks,
// link-only faults change no role (F3, F4), simultaneous start honours priority (F8), and hostile
// packets are counted and change nothing (B1).
#include "node_view.hpp"

#include <gtest/gtest.h>

#include <future>

namespace cluster = hasys::cluster;
namespace proto = hasys::proto;
using hasys::lab::event_stream;
using hasys::lab::is_role_change;
using hasys::lab::lab;
using hasys::lab::status_of;
using hasys::lab::up_options;
using hasys::lab::wait_status;
using namespace std::chrono_literals;

namespace {

constexpr auto settle = 10s;  // bound for a pair to find each other and elect

void expect_connected_pair(const lab& l, std::string_view active, std::string_view standby) {
  for (auto node : {active, standby})
    ASSERT_TRUE(wait_status(
        l, node, {"--peer-alive", "yes", "--heartbeat-link", "up", "--public-link", "up"}, settle))
        << node << " does not see its peer on both networks";
  ASSERT_TRUE(wait_status(l, active, {"--role", "active", "--peer-role", "standby"}, settle));
  ASSERT_TRUE(wait_status(l, standby, {"--role", "standby", "--peer-role", "active"}, settle));
}

std::uint64_t dropped(const proto::status_msg& s, const std::string& reason) {
  auto i = s.dropped.find(reason);
  return i == s.dropped.end() ? 0 : i->second;
}

}  // namespace

TEST(membership, both_nodes_see_each_other_on_both_networks) {
  SKIP_UNLESS_ROOT();
  lab l("mb1");
  ASSERT_NO_FATAL_FAILURE(expect_connected_pair(l, "a", "b"));
  auto a = status_of(l, "a"), b = status_of(l, "b");
  ASSERT_TRUE(a && b);
  EXPECT_GT(a->heartbeat_link.received, 0u);
  EXPECT_GT(a->public_link.received, 0u);
  EXPECT_EQ(a->epoch, b->peer.epoch) << "b knows a's epoch";
  EXPECT_TRUE(a->gateway_ok && b->gateway_ok);
}

TEST(membership, cutting_the_heartbeat_network_changes_no_role_and_raises_an_event) {  // F3
  SKIP_UNLESS_ROOT();
  lab l("mb2");
  ASSERT_NO_FATAL_FAILURE(expect_connected_pair(l, "a", "b"));
  const auto before = status_of(l, "a");
  event_stream ea(l, "a"), eb(l, "b");
  ASSERT_OK(l.run("link", "a", "hb", "down"));
  EXPECT_TRUE(ea.wait_for("link_down", 5s)) << ea.transcript();
  EXPECT_TRUE(eb.wait_for("link_down", 5s)) << eb.transcript();
  // Observe three detection windows: no role may move, the peers go on over the public network.
  for (auto& e : ea.collect_for(1s)) EXPECT_FALSE(is_role_change(e)) << e.code << ": " << e.text;
  for (auto& e : eb.collect_for(100ms)) EXPECT_FALSE(is_role_change(e)) << e.code << ": " << e.text;
  auto a = status_of(l, "a"), b = status_of(l, "b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->role, cluster::role::active);
  EXPECT_EQ(a->epoch, before->epoch);
  EXPECT_EQ(b->role, cluster::role::standby);
  EXPECT_TRUE(a->peer.alive && b->peer.alive);
  EXPECT_FALSE(a->heartbeat_link.up);
  EXPECT_TRUE(a->public_link.up);
  ASSERT_OK(l.run("link", "a", "hb", "up"));
  EXPECT_TRUE(ea.wait_for("link_up", 5s)) << ea.transcript();
}

TEST(membership,
     public_network_down_everywhere_with_the_heartbeat_network_up_is_no_partition) {  // F4
  SKIP_UNLESS_ROOT();
  lab l("mb3");
  ASSERT_NO_FATAL_FAILURE(expect_connected_pair(l, "a", "b"));
  event_stream ea(l, "a"), eb(l, "b");
  // The whole public network fails at once: its bridge goes down in the switch.
  ASSERT_TRUE(l.exec("sw", "ip link set pub down").ok());
  EXPECT_TRUE(ea.wait_for("gateway_down", 5s)) << ea.transcript();
  EXPECT_TRUE(eb.wait_for("gateway_down", 5s)) << eb.transcript();
  for (auto& e : ea.collect_for(1s)) EXPECT_FALSE(is_role_change(e)) << e.code << ": " << e.text;
  for (auto& e : eb.collect_for(100ms)) EXPECT_FALSE(is_role_change(e)) << e.code << ": " << e.text;
  auto a = status_of(l, "a"), b = status_of(l, "b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->role, cluster::role::active);
  EXPECT_EQ(b->role, cluster::role::standby);
  EXPECT_TRUE(a->peer.alive && b->peer.alive)
      << "they still see each other over the heartbeat network";
  EXPECT_TRUE(a->heartbeat_link.up);
  EXPECT_FALSE(a->public_link.up);
}

TEST(membership, simultaneous_start_gives_the_priority_node_the_active_role) {  // F8
  SKIP_UNLESS_ROOT();
  for (std::string priority : {"b", "a"}) {
    up_options o;
    o.priority = priority;
    lab l("mb4", o);  // `up` itself starts the two heartbeats together
    const std::string other = priority == "a" ? "b" : "a";
    ASSERT_NO_FATAL_FAILURE(expect_connected_pair(l, priority, other));
    // Both daemons stop, then start together: the same boot race as two servers powered on.
    // Each pair of commands runs from two threads: one after the other, a loaded machine can put
    // more than the peer timeout between the kills (the survivor rightly takes over) or more than
    // the boot wait, period x (count + 2), between the starts (the first rightly boots alone).
    auto both = [&](const char* verb) {
      auto fa = std::async(std::launch::async, [&] { return l.run(verb, "a", "heartbeat"); });
      auto rb = l.run(verb, "b", "heartbeat");
      auto ra = fa.get();
      EXPECT_TRUE(ra.ok() && rb.ok()) << verb << ": " << ra.out << rb.out;
    };
    both("kill");
    event_stream boot_of_priority(l, priority), boot_of_other(l, other);  // the buses keep running
    both("start");
    ASSERT_NO_FATAL_FAILURE(expect_connected_pair(l, priority, other));
    auto elected = boot_of_priority.wait_for("activating", settle);
    ASSERT_TRUE(elected) << boot_of_priority.transcript();
    EXPECT_NE(elected->text.find("elected"), std::string::npos) << elected->text;
    for (auto& e : boot_of_other.collect_for(200ms))
      EXPECT_NE(e.code, "activating") << "the non-priority node activated at boot: " << e.text;
  }
}

TEST(membership,
     forged_foreign_garbage_stale_and_replayed_packets_are_counted_and_change_nothing) {  // B1
  SKIP_UNLESS_ROOT();
  lab l("mb5");
  ASSERT_NO_FATAL_FAILURE(expect_connected_pair(l, "a", "b"));
  const auto before = status_of(l, "a");
  ASSERT_TRUE(before);
  const std::string tool = (lab::build_dir() / "tools/hbtool/hasys-hbtool").string();
  const std::string key = (l.dir() / "a/keys/lab.key").string();
  auto send = [&](const std::string& args) {
    auto r = l.exec("b", tool + " " + args, 15s);
    EXPECT_TRUE(r.ok()) << args << ": " << r.out;
  };
  send("forge --to 198.51.100.11:29955 --count 20");  // claims Active, epoch 1e6, wrong key
  send("garbage --to 198.51.100.11:29955 --count 20");
  send("foreign --to 192.0.2.11:29954 --key " + key + " --count 5");
  send("stale --to 192.0.2.11:29954 --key " + key + " --count 5");  // authentic, from an old boot
  send("replay --capture eth1 --to 192.0.2.11:29954 --count 5");    // b's own packet, sent again
  std::optional<proto::status_msg> after;
  // The counters are read once the last datagram was handled: wait until the replays show.
  for (int i = 0; i < 50 && !(after && dropped(*after, "replayed") >= 10); ++i)
    after = status_of(l, "a");
  ASSERT_TRUE(after);
  EXPECT_EQ(dropped(*after, "bad_mac"), 20u);
  EXPECT_GE(dropped(*after, "malformed"), 19u);  // a random datagram could, rarely, be empty
  EXPECT_EQ(dropped(*after, "foreign_group"), 5u);
  EXPECT_EQ(dropped(*after, "replayed"), 10u);
  EXPECT_EQ(after->role, cluster::role::active);
  EXPECT_EQ(after->epoch, before->epoch);
  EXPECT_EQ(after->peer.epoch, before->peer.epoch) << "no forged epoch reached the role machine";
  EXPECT_EQ(after->peer.role, cluster::role::standby);
}
