// The manager's live state of the fleet (M5, M6): what nodes publish, kept per group and node.
#include "fleet.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

using hasys::manager::fleet;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {
std::string status(const std::string& g, const std::string& n, const std::string& role, int v = 1) {
  return json::serialize(json::object{{"v", v}, {"group", g}, {"node", n}, {"role", role}});
}
const auto t0 = fleet::clock::time_point{} + 1h;
}  // namespace

TEST(fleet, a_group_shows_its_nodes_side_by_side_and_stales_when_silent) {
  fleet f;
  EXPECT_EQ(f.on_status("hasys.g.a.status", status("g", "a", "active"), t0), "");
  EXPECT_EQ(f.on_status("hasys.g.b.status", status("g", "b", "standby"), t0), "");
  auto g = f.group("g", {"*"}, t0 + 1s);
  ASSERT_TRUE(g.is_object());
  EXPECT_EQ(g.at("nodes").at(0).at("role"), "active");
  EXPECT_EQ(g.at("nodes").at(1).at("stale"), false);
  EXPECT_EQ(g.at("roles_disagree"), false);
  g = f.group("g", {"*"}, t0 + 6s);
  EXPECT_EQ(g.at("nodes").at(1).at("stale"), true);
}

TEST(fleet, scope_hides_other_groups_entirely) {
  fleet f;
  f.on_status("hasys.g.a.status", status("g", "a", "active"), t0);
  f.on_status("hasys.h.c.status", status("h", "c", "active"), t0);
  EXPECT_EQ(f.groups({"h"}, t0).size(), 1u);
  EXPECT_TRUE(f.group("g", {"h"}, t0).is_null());
  EXPECT_EQ(f.groups({}, t0).size(), 0u);
  EXPECT_EQ(f.groups({"*"}, t0).size(), 2u);
}

TEST(fleet, two_fresh_actives_are_a_disagreement) {
  fleet f;
  f.on_status("hasys.g.a.status", status("g", "a", "active"), t0);
  f.on_status("hasys.g.b.status", status("g", "b", "active"), t0);
  EXPECT_EQ(f.group("g", {"*"}, t0).at("roles_disagree"), true);
  // A stale claim does not count.
  f.on_status("hasys.g.b.status", status("g", "b", "active"), t0 - 10s);
  EXPECT_EQ(f.group("g", {"*"}, t0).at("roles_disagree"), false);
}

TEST(fleet, broken_or_impersonating_messages_are_refused_and_counted) {
  fleet f;
  EXPECT_NE(f.on_status("hasys.g.a.status", "not json", t0), "");
  EXPECT_NE(f.on_status("hasys.g.a.status", status("g", "b", "active"), t0), "");
  EXPECT_NE(f.on_status("hasys.g.a.status", R"({"group":"g","node":"a"})", t0), "");
  EXPECT_NE(f.on_status("hasys.g.status", status("g", "a", "active"), t0), "");
  EXPECT_EQ(f.refused(), 4u);
  EXPECT_EQ(f.node_count(), 0u);
}

TEST(fleet, another_protocol_version_is_shown_not_interpreted) {
  fleet f;
  f.on_status("hasys.g.a.status", status("g", "a", "active", 2), t0);
  auto n = f.group("g", {"*"}, t0).at("nodes").at(0);
  EXPECT_EQ(n.at("role"), "unknown");
  EXPECT_EQ(n.at("protocol_version"), 2);
}

TEST(fleet, metrics_keep_90_seconds_of_history) {
  fleet f;
  for (int i = 0; i <= 120; ++i) {
    auto m =
        json::serialize(json::object{{"v", 1}, {"cpu_percent", i % 100}, {"memory_percent", 5}});
    f.on_metrics("hasys.g.a.metrics", m, t0 + std::chrono::seconds(i), 1'000'000 + i * 1000);
  }
  auto n = f.group("g", {"*"}, t0 + 120s).at("nodes").at(0);
  EXPECT_EQ(n.at("history").as_array().size(), 91u);
  EXPECT_EQ(n.at("cpu_percent"), 20);
}
