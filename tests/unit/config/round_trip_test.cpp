// to_toml(): its text parses back to the same config, for every kind of value.
#include "config_fixture.hpp"

using namespace hasys::config;
using namespace hasys::config::test;
using namespace std::chrono_literals;

namespace {

class round_trip_test : public config_test {
 protected:
  void expect_round_trip(const node_config& c) {
    std::string text = to_toml(c);
    auto r = parse_text(text);
    ASSERT_TRUE(r.config) << text << PrintToString(lines_of(r.errors));
    EXPECT_EQ(*r.config, c) << text;
    EXPECT_EQ(to_toml(*r.config), text);
  }
};

TEST_F(round_trip_test, full_file_survives_to_toml_and_parse) { expect_round_trip(full_config()); }

TEST_F(round_trip_test, odd_values_survive_too) {
  node_config c = full_config();
  group_config& g = c.groups.at(0);
  g.polling_period = 1500ms;
  g.flow_timeout = 2h;
  g.gateway.reset();
  g.heartbeat = link_config{"2001:db8::11", "2001:db8::12", 29954};
  auto& vip = std::get<vip_node>(g.flow.at(0));
  vip.ip = "2001:db8::100";
  vip.prefix_length = 64;
  vip.overrides.clear();
  std::get<shared_disk_node>(g.flow.at(4)).device = "/dev/disk/by-label/a\"b\\c";
  std::get<shared_disk_node>(g.flow.at(4)).fs_type.clear();
  std::get<drbd_node>(g.flow.at(5)).mount_point.clear();
  std::get<script_node>(g.flow.at(1)).user.clear();
  c.manager = {};
  group_config second = g;
  second.name = "GROUP-2";
  second.heartbeat.reset();
  second.public_net.port = 29965;
  second.flow.clear();
  second.flow_timeout = 60s;
  c.groups.push_back(second);
  ASSERT_EQ(lines_of(validate(c)), std::vector<std::string>{});
  expect_round_trip(c);
}

TEST_F(round_trip_test, durations_are_written_in_their_shortest_exact_unit) {
  node_config c = full_config();
  c.groups[0].polling_period = 1500ms;
  c.groups[0].shared_disk_wait = 120s;
  c.groups[0].drbd_reconnect_interval = 90s;
  std::string text = to_toml(c);
  EXPECT_NE(text.find("polling_period = \"1500ms\""), std::string::npos) << text;
  EXPECT_NE(text.find("shared_disk_wait = \"2m\""), std::string::npos) << text;
  EXPECT_NE(text.find("drbd_reconnect_interval = \"90s\""), std::string::npos) << text;
}

}  // namespace
