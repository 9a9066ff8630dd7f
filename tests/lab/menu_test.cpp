// The numbered node menu (M10) in the netns lab with the real daemons, its answers piped in as an
// operator types them: manual failover (3), forced failover to Standby (4), the information display
// (8), and the group choice on a node that serves two groups (R9).
#include <gtest/gtest.h>

#include "node_view.hpp"

namespace cluster = hasys::cluster;
using hasys::lab::command_result;
using hasys::lab::hasysctl_path;
using hasys::lab::lab;
using hasys::lab::node_config;
using hasys::lab::status_of;
using hasys::lab::up_options;
using hasys::lab::wait_status;
using namespace std::chrono_literals;

namespace {

constexpr auto settle = 10s;     // bound for a pair to find each other and elect
constexpr auto role_move = 15s;  // bound for a role change the operator asked for

// Pipes input (printf format: "3\\ny\\n") into the menu on the node, inside its namespace.
command_result menu(const lab& l, std::string_view node, const std::string& input,
                    const std::string& program = hasysctl_path() + " --config {} menu") {
  std::string command = program;
  command.replace(command.find("{}"), 2, node_config(l, node));
  return l.exec(node, "printf '" + input + "' | " + command, 60s);
}

std::string hasys_path() { return (lab::build_dir() / "tools/hasysctl/hasys").string(); }

// A node's row in the status text: name in 15 columns, then the role.
std::string status_row(std::string node, std::string_view role) {
  node.resize(15, ' ');
  return node + " " + std::string(role);
}

void expect_pair(const lab& l, std::string_view active, std::string_view standby,
                 std::string_view group = "lab") {
  ASSERT_TRUE(wait_status(l, active, {"--role", "active", "--peer-role", "standby"}, settle, group))
      << active << " is not Active of " << group << " with a Standby peer";
  ASSERT_TRUE(
      wait_status(l, standby, {"--role", "standby", "--peer-role", "active"}, settle, group))
      << standby << " is not Standby of " << group << " with an Active peer";
}

}  // namespace

TEST(menu,
     manual_failover_on_the_active_node_hands_the_active_role_to_the_peer) {  // R4
  SKIP_UNLESS_ROOT();
  lab l("mn1");
  ASSERT_NO_FATAL_FAILURE(expect_pair(l, "a", "b"));
  auto r = menu(l, "a", "3\\ny\\n9\\n");
  ASSERT_TRUE(r.ok()) << r.out;
  EXPECT_NE(r.out.find("lab: accepted: "), std::string::npos) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_pair(l, "b", "a"));
}

TEST(menu, information_display_shows_both_nodes_of_the_group) {
  SKIP_UNLESS_ROOT();
  lab l("mn2");
  ASSERT_NO_FATAL_FAILURE(expect_pair(l, "a", "b"));
  auto r = menu(l, "a", "8\\n9\\n");
  ASSERT_TRUE(r.ok()) << r.out;
  EXPECT_NE(r.out.find("Node: node-a   Group: lab"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("group lab  (period 100 ms x 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(status_row("node-a", "ACTIVE")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(status_row("node-b", "STANDBY")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("responding"), std::string::npos) << r.out;
  // The same text as hasysctl status, apart from the times and counters in it.
  auto status = l.ctl("a", "status");
  ASSERT_TRUE(status.ok()) << status.out;
  const auto first_line = status.out.substr(0, status.out.find('\n') + 1);
  EXPECT_NE(r.out.find(first_line), std::string::npos) << first_line << " not in:\n" << r.out;
}

TEST(menu,
     forced_failover_to_standby_on_the_active_node_makes_it_standby) {  // R6
  SKIP_UNLESS_ROOT();
  lab l("mn3");
  ASSERT_NO_FATAL_FAILURE(expect_pair(l, "a", "b"));
  auto r = menu(l, "a", "4\\n2\\ny\\n9\\n");
  ASSERT_TRUE(r.ok()) << r.out;
  EXPECT_NE(r.out.find("lab: accepted: "), std::string::npos) << r.out;
  EXPECT_TRUE(wait_status(l, "a", {"--role", "standby"}, role_move));
  auto s = status_of(l, "a");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->role, cluster::role::standby);
}

TEST(menu, on_a_node_of_two_groups_the_chosen_group_alone_fails_over) {  // R9
  SKIP_UNLESS_ROOT();
  up_options o;
  o.topology = "n1";
  lab l("mn4", o);
  ASSERT_NO_FATAL_FAILURE(expect_pair(l, "a", "c", "g1"));
  ASSERT_NO_FATAL_FAILURE(expect_pair(l, "b", "c", "g2"));
  const auto g2_before = status_of(l, "b", "g2");
  ASSERT_TRUE(g2_before);
  // The seed's own command name: hasys opens the same menu. Group 1 of node-c is g1.
  auto r = menu(l, "c", "3\\n1\\ny\\n9\\n", hasys_path() + " --config {}");
  ASSERT_TRUE(r.ok()) << r.out;
  EXPECT_NE(r.out.find("Node: node-c   Groups: g1, g2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("g1: accepted: "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("g2: "), std::string::npos) << "only g1 was asked:\n" << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_pair(l, "c", "a", "g1"));
  auto g2_after = status_of(l, "b", "g2");
  ASSERT_TRUE(g2_after);
  EXPECT_EQ(g2_after->role, cluster::role::active);
  EXPECT_EQ(g2_after->epoch, g2_before->epoch) << "g2 did not move";
  EXPECT_EQ(g2_after->peer.role, cluster::role::standby);
}
