// Issue 3 in the netns lab: operator commands (R2, R4-R7) from hasysctl and the seed's .DAT
// files, stop on error (W1), the failover condition script (D12), and one server backing two
// groups (R9) — with the virtual IP sampled and a client reading it.
#include "node_view.hpp"
#include "vip_watch.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace cluster = hasys::cluster;
using hasys::lab::client_reads;
using hasys::lab::crash;
using hasys::lab::event_stream;
using hasys::lab::expect_serving;
using hasys::lab::expect_settled;
using hasys::lab::lab;
using hasys::lab::reconfigure;
using hasys::lab::status_of;
using hasys::lab::up_options;
using hasys::lab::vip_watch;
using hasys::lab::wait_status;
using hasys::lab::write_script;
using namespace std::chrono_literals;

namespace {

const std::string vip = "198.51.100.100";
constexpr auto settle = 10s;
constexpr auto period = 100ms;

// Touches a seed command file in a node's command folder (R7).
void drop_file(const lab& l, const std::string& node, const std::string& name) {
  std::ofstream(l.dir() / node / "state" / "cmd" / name);
}

}  // namespace

TEST(operator_commands, manual_failover_from_either_side_hands_the_service_over) {  // R4
  SKIP_UNLESS_ROOT();
  lab l("op1");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  auto r = l.ctl("a", "failover");  // on the Active: it steps down, then the peer takes over
  ASSERT_TRUE(r.ok()) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby", "--peer-role", "active"}, settle));
  r = l.ctl("a", "failover");  // on the Standby: it asks the Active to hand over
  ASSERT_TRUE(r.ok()) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "a"));
  EXPECT_LE(w.longest_overlap(), period) << "both nodes held the VIP during a hand-over";
}

TEST(operator_commands, manual_failover_refused_without_a_peer_says_why) {
  SKIP_UNLESS_ROOT();
  lab l("op2");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_NO_FATAL_FAILURE(crash(l, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--peer-alive", "no"}, settle));
  auto r = l.ctl("a", "failover");
  EXPECT_EQ(r.exit, 1) << r.out;
  EXPECT_NE(r.out.find("forced failover"), std::string::npos) << r.out;
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
}

TEST(operator_commands, dat_files_run_the_seeds_commands_and_are_consumed) {  // R7
  SKIP_UNLESS_ROOT();
  lab l("op3");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream ea(l, "a");
  drop_file(l, "a", "HA_MANUAL_FAILOVER.DAT");
  auto e = ea.wait_for("operator_command", 5s);
  ASSERT_TRUE(e) << ea.transcript();
  EXPECT_NE(e->text.find("from file"), std::string::npos) << e->text;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  EXPECT_FALSE(std::filesystem::exists(l.dir() / "a/state/cmd/HA_MANUAL_FAILOVER.DAT"));
  // Partition resolution files: the Standby forced Active, the Active forced Standby.
  drop_file(l, "b", "HA_FORCE_FAILOVER_BACKUP.DAT");  // b (Active) -> Standby, held
  ASSERT_TRUE(wait_status(l, "b", {"--role", "standby"}, settle));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "a"));  // b is held out: a takes the role
  drop_file(l, "b", "HA_STRONG_FAILOVER_ONLINE.DAT");  // forced: b Active regardless
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby"}, settle)) << "a yields to the forced epoch";
  EXPECT_LE(w.longest_overlap(), 2 * period);
}

TEST(operator_commands, in_manual_mode_a_dead_active_is_not_replaced_until_forced) {  // R2, R6
  SKIP_UNLESS_ROOT();
  lab l("op4");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_OK(l.ctl("a", "mode", "manual"));
  ASSERT_OK(l.ctl("b", "mode", "manual"));
  event_stream eb(l, "b");
  ASSERT_NO_FATAL_FAILURE(crash(l, "a"));
  EXPECT_TRUE(eb.wait_for("peer_lost", 5s)) << eb.transcript();
  for (auto& e : eb.collect_for(1s)) EXPECT_NE(e.code, "activating") << e.text;
  EXPECT_TRUE(w.holders().empty());
  auto r = l.ctl("b", "force", "active");
  ASSERT_TRUE(r.ok()) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_OK(l.ctl("b", "maintenance", "stop"));
  EXPECT_TRUE(wait_status(l, "b", {"--mode", "auto"}, settle));
}

TEST(operator_commands,
     partition_resolution_stands_one_active_down_while_still_partitioned) {  // R5
  SKIP_UNLESS_ROOT();
  lab l("op5");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  const std::string rule = " -p udp --dport 29954:29955 -j DROP";
  ASSERT_TRUE(l.exec("a", "iptables -I INPUT" + rule + " && iptables -I OUTPUT" + rule).ok());
  ASSERT_TRUE(wait_status(l, "b", {"--role", "active"}, settle));  // two Actives
  auto r = l.ctl("b", "partition", "standby");
  ASSERT_TRUE(r.ok()) << r.out;
  ASSERT_TRUE(wait_status(l, "b", {"--role", "standby"}, settle));
  EXPECT_TRUE(w.wait_sole_holder("a", settle));
  ASSERT_TRUE(l.exec("a", "iptables -D INPUT" + rule + " && iptables -D OUTPUT" + rule).ok());
  ASSERT_TRUE(wait_status(l, "b", {"--peer-alive", "yes", "--peer-role", "active"}, settle));
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
  EXPECT_EQ(client_reads(l, vip), "node-a");
}

TEST(operator_commands, a_failing_start_program_stops_the_flow_and_the_peer_takes_over) {  // W1
  SKIP_UNLESS_ROOT();
  lab l("op6");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  const auto start = write_script(
      l, "app-start.sh", "[ \"$HASYS_NODE\" = node-a ] && { echo disk full >&2; exit 3; }\nexit 0");
  const auto stop = write_script(l, "app-stop.sh", "exit 0");
  event_stream ea(l, "a");  // a's bus outlives the daemon restarts below
  reconfigure(l, {"a", "b"},
              "[[group.flow]]\ntype = \"application\"\nname = \"app\"\nstart = \"" + start +
                  "\"\nstop = \"" + stop + "\"\ntimeout = \"5s\"\n");
  // Both restart together: a, the priority node, is elected, and its start program fails.
  auto stopped = ea.wait_for("flow_stopped", settle);
  ASSERT_TRUE(stopped) << ea.transcript();
  EXPECT_EQ(stopped->level, cluster::severity::critical);
  EXPECT_NE(stopped->text.find("app"), std::string::npos) << stopped->text;
  ASSERT_TRUE(wait_status(l, "a", {"--role", "failed"}, settle));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  EXPECT_LE(w.longest_overlap(), period);
}

TEST(operator_commands, the_failover_condition_script_runs_before_the_peer_takes_over) {  // D12
  SKIP_UNLESS_ROOT();
  lab l("op7");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  const auto marker = (l.dir() / "condition.ran").string();
  const auto script =
      write_script(l, "HA_APP_FCONDITION", "echo \"$HASYS_NODE\" >> " + marker + "\nexit 0");
  // Group keys must come before the group's sub-tables: rewrite by inserting after the mode line.
  for (std::string n : {"a", "b"}) {
    const auto path = hasys::lab::node_config(l, n);
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto at = text.find("mode = \"auto\"\n");
    ASSERT_NE(at, std::string::npos);
    text.insert(at, "failover_condition = true\nfailover_condition_script = \"" + script + "\"\n");
    std::ofstream(path, std::ios::trunc) << text;
  }
  reconfigure(l, {"a", "b"}, "");
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "a"));
  event_stream ea(l, "a");
  ASSERT_OK(l.ctl("a", "failover"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  std::ifstream ran(marker);
  std::string who;
  std::getline(ran, who);
  EXPECT_EQ(who, "node-a") << "the stepping-down Active ran the condition script";
}

TEST(operator_commands, a_virtual_ip_held_by_a_stranger_is_reported_and_never_added) {  // W2
  SKIP_UNLESS_ROOT();
  lab l("op9");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream eb(l, "b");
  // A third host (the client's namespace) takes the address: a misconfiguration on the network.
  ASSERT_TRUE(l.exec("gw", "ip addr add " + vip + "/24 dev eth0").ok());
  auto conflict = eb.wait_for("vip_conflict", 15s);  // the standby's guard probes every 5 s
  ASSERT_TRUE(conflict) << eb.transcript();
  EXPECT_EQ(conflict->level, cluster::severity::critical);
  EXPECT_NE(conflict->text.find("in use by another host"), std::string::npos) << conflict->text;
  ASSERT_OK(l.ctl("a", "failover"));
  auto stopped = eb.wait_for("flow_stopped", settle);
  ASSERT_TRUE(stopped) << eb.transcript();
  EXPECT_NE(stopped->text.find("in use by another host"), std::string::npos) << stopped->text;
  EXPECT_TRUE(wait_status(l, "b", {"--role", "failed"}, settle));
  EXPECT_EQ(w.holders(), std::vector<std::string>{}) << "b never added the address";
}

TEST(one_server_backing_two, the_shared_standby_takes_each_group_alone) {  // R9
  SKIP_UNLESS_ROOT();
  up_options o;
  o.topology = "n1";
  lab l("op8", o);
  vip_watch w1(l, {"a", "c"}, "198.51.100.101"), w2(l, {"b", "c"}, "198.51.100.102");
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w1, "a", "198.51.100.101", "g1"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w2, "b", "198.51.100.102", "g2"));
  ASSERT_NO_FATAL_FAILURE(crash(l, "a"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w1, "c", "198.51.100.101", "g1"));
  auto g2 = status_of(l, "c", "g2");
  ASSERT_TRUE(g2);
  EXPECT_EQ(g2->role, cluster::role::standby) << "only the first group moved";
  EXPECT_EQ(w2.holders(), std::vector<std::string>{"b"});
  ASSERT_NO_FATAL_FAILURE(crash(l, "b"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w2, "c", "198.51.100.102", "g2"));
  EXPECT_EQ(w1.holders(), std::vector<std::string>{"c"});
  EXPECT_LE(w1.longest_overlap(), period);
  EXPECT_LE(w2.longest_overlap(), period);
}
