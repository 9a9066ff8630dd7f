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

TEST_F(round_trip_test, monitors_of_every_kind_survive_too) {
  auto r = parse_text(monitor_file());
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  expect_round_trip(*r.config);
  node_config c = *r.config;
  monitor_config& m = c.groups.at(0).monitor;
  m.period = 250ms;
  m.process_policy = monitor_policy::one;
  m.network_policy = monitor_policy::all;
  m.processes[0].pattern = "java -Dname=\"a b\" C:\\app";
  m.processes[0].start_time = 1500ms;
  m.processes[1].min = 0;
  m.processes[1].start_time = 2min;  // kept without recovery: written because not the default
  m.processes[1].user = "root";
  m.processes.push_back({.name = "sshd", .pattern = "sshd"});
  m.loads.erase(m.loads.begin());
  m.networks[0].ip = "2001:db8::11";
  ASSERT_EQ(lines_of(validate(c)), std::vector<std::string>{});
  expect_round_trip(c);
}

TEST_F(round_trip_test, monitor_table_is_written_only_when_it_says_something) {
  node_config c = full_config();
  EXPECT_EQ(to_toml(c).find("monitor"), std::string::npos) << to_toml(c);
  c.groups[0].monitor.period = 2s;
  std::string text = to_toml(c);
  EXPECT_NE(text.find("[group.monitor]\nperiod = \"2s\"\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("[[group.monitor."), std::string::npos) << text;
  expect_round_trip(c);
  c.groups[0].monitor = {};
  c.groups[0].monitor.networks.push_back({.name = "pub", .interface = "eth0"});
  expect_round_trip(c);
  // A process monitor without recovery leaves out the recovery settings it does not use.
  c.groups[0].monitor.processes.push_back({.name = "sshd", .pattern = "sshd"});
  text = to_toml(c);
  EXPECT_EQ(text.find("start_time"), std::string::npos) << text;
  EXPECT_EQ(text.find("min ="), std::string::npos) << text;
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
