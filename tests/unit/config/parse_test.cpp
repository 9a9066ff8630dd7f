// parse(): a full file, defaults, durations, unknown keys, wrong types, many errors at once.
#include "config_fixture.hpp"

using namespace hasys::config;
using namespace hasys::config::test;
using namespace std::chrono_literals;

namespace {

// The smallest valid file: one group, public network only, no flow.
std::string minimal_file() {
  return R"([node]
name = "node-a"

[[group]]
name = "g1"
peer = "node-b"
key_file = "keys/GROUP-Linux.key"
public_interface = "eth0"

[group.public]
self = "198.51.100.11"
peer = "198.51.100.12"
port = 29955
)";
}

class parse_test : public config_test {};

TEST_F(parse_test, full_file_gives_every_value) {
  node_config c = full_config();
  EXPECT_EQ(c.name, "node-a");
  EXPECT_EQ(c.control_socket_dir, "/run/hasys");
  EXPECT_TRUE(c.manager.enabled);
  EXPECT_EQ(c.manager.address, "198.51.100.10");
  EXPECT_EQ(c.log.size_mb, 20U);
  ASSERT_EQ(c.groups.size(), 1U);
  const group_config& g = c.groups[0];
  EXPECT_EQ(g.name, "GROUP-Linux");
  EXPECT_EQ(g.peer_name, "node-b");
  EXPECT_EQ(g.mode, failover_mode::manual);
  EXPECT_TRUE(g.active_priority);
  EXPECT_EQ(g.polling_period, 100ms);
  EXPECT_EQ(g.gateway, "198.51.100.1");
  EXPECT_EQ(g.flow_timeout, 5min);
  EXPECT_EQ(g.shared_disk_wait, 90s);
  EXPECT_TRUE(g.failover_condition);
  EXPECT_EQ(g.failover_condition_wait, 45s);
  EXPECT_EQ(g.drbd_reconnect_count, 5);
  EXPECT_EQ(g.drbd_reconnect_interval, 20s);
  EXPECT_EQ(g.common_start, dir_ / "scripts/HA_APP_COMSRT");
  EXPECT_EQ(g.common_start_wait, 30s);
  ASSERT_TRUE(g.heartbeat);
  EXPECT_EQ(g.heartbeat->port, 29954);
  EXPECT_EQ(g.public_net.self_address, "198.51.100.11");
  ASSERT_EQ(g.flow.size(), 6U);
  EXPECT_EQ(type_name(g.flow[0]), "vip");
  EXPECT_EQ(type_name(g.flow[1]), "application");
  EXPECT_EQ(type_name(g.flow[2]), "database");
  EXPECT_EQ(type_name(g.flow[3]), "wait");
  EXPECT_EQ(type_name(g.flow[4]), "shared_disk");
  EXPECT_EQ(type_name(g.flow[5]), "drbd");
}

TEST_F(parse_test, flow_nodes_hold_their_fields_and_the_common_ones) {
  node_config c = full_config();
  const auto& flow = c.groups.at(0).flow;
  const auto& vip = std::get<vip_node>(flow.at(0));
  EXPECT_EQ(vip.prefix_length, 24);
  EXPECT_EQ(vip.timeout, 10s);
  EXPECT_EQ(interface_for(vip, "node-b"), "ens192");
  EXPECT_EQ(interface_for(vip, "node-a"), "eth0");
  const auto& db = std::get<script_node>(flow.at(2));
  EXPECT_EQ(db.kind, script_kind::database);
  EXPECT_FALSE(db.stop_on_error);
  EXPECT_EQ(db.timeout, default_node_timeout);
  EXPECT_EQ(std::get<script_node>(flow.at(1)).user, "root");
  EXPECT_EQ(std::get<wait_node>(flow.at(3)).wait, 5s);
  EXPECT_EQ(std::get<shared_disk_node>(flow.at(4)).mount_point, "/srv/data");
  EXPECT_EQ(std::get<drbd_node>(flow.at(5)).resource, "r0");
}

TEST_F(parse_test, minimal_file_takes_the_documented_defaults) {
  auto r = parse_text(minimal_file());
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  const node_config& c = *r.config;
  EXPECT_EQ(c.state_dir, "/var/lib/hasys");
  EXPECT_EQ(c.command_dir, "/var/lib/hasys/cmd");
  EXPECT_EQ(c.bus_url, "nats://127.0.0.1:4222");
  EXPECT_EQ(c.control_socket_dir, "/run/hasys");
  EXPECT_FALSE(c.manager.enabled);
  const auto& g = c.groups.at(0);
  EXPECT_EQ(g.mode, failover_mode::automatic);
  EXPECT_FALSE(g.heartbeat);
  EXPECT_FALSE(g.gateway);
  EXPECT_EQ(g.polling_count, 3);
  EXPECT_EQ(g.shared_disk_wait, 60s);
  EXPECT_EQ(g.drbd_reconnect_count, 6);
  EXPECT_EQ(g.drbd_reconnect_interval, 30s);
  EXPECT_EQ(g.flow_timeout, 60s);
  EXPECT_TRUE(g.flow.empty());
}

TEST_F(parse_test, flow_timeout_defaults_to_cover_every_node_timeout) {
  std::string text = minimal_file();
  for (int i = 0; i < 4; ++i)
    text += "[[group.flow]]\ntype = \"wait\"\nname = \"w" + std::to_string(i) +
            "\"\nseconds = 20\ntimeout = \"25s\"\n";
  auto r = parse_text(text);
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->groups[0].flow_timeout, 110s);
}

TEST_F(parse_test, relative_key_path_is_taken_from_the_config_folder) {
  auto r = parse_text(minimal_file());
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->groups[0].key_file, dir_ / "keys/GROUP-Linux.key");
}

TEST_F(parse_test, load_file_resolves_relative_key_path_next_to_the_file) {
  auto file = write("etc/node.toml", replace_once(minimal_file(), "keys/GROUP-Linux.key",
                                                  "../keys/GROUP-Linux.key"));
  auto r = load_file(file);
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->groups[0].key_file, dir_ / "keys/GROUP-Linux.key");
}

TEST_F(parse_test, load_file_names_a_missing_file) {
  auto r = load_file(dir_ / "nope.toml");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_error(lines_of(r.errors), "file", {"nope.toml", "does not exist"}));
}

TEST_F(parse_test, durations_accept_units_fractions_and_bare_integers) {
  auto period = [&](std::string_view value) {
    auto r =
        parse_text(replace_once(minimal_file(), "public_interface",
                                "polling_period = " + std::string(value) + "\npublic_interface"));
    return r.config ? r.config->groups[0].polling_period : duration(-1);
  };
  EXPECT_EQ(period("\"250ms\""), 250ms);
  EXPECT_EQ(period("\"1.5s\""), 1500ms);
  EXPECT_EQ(period("\"1m\""), 60s);
  EXPECT_EQ(period("300"), 300ms);  // bare integer: the key's unit, ms for polling_period
  auto wait = parse_text(
      replace_once(minimal_file(), "public_interface", "shared_disk_wait = 120\npublic_interface"));
  ASSERT_TRUE(wait.config);
  EXPECT_EQ(wait.config->groups[0].shared_disk_wait, 120s);  // seconds for the seed tunables
}

TEST_F(parse_test, bad_durations_name_the_value) {
  auto lines = errors_of(replace_once(minimal_file(), "public_interface",
                                      "polling_period = \"1.0005s\"\nshared_disk_wait = \"5 min\"\n"
                                      "common_start_wait = 1.5\npublic_interface"));
  EXPECT_TRUE(has_error(lines, "group[0].polling_period", {"\"1.0005s\"", "1ms"}));
  EXPECT_TRUE(has_error(lines, "group[0].shared_disk_wait", {"\"5 min\"", "not a duration"}));
  EXPECT_TRUE(has_error(lines, "group[0].common_start_wait", {"1.5 is a float"}));
}

TEST_F(parse_test, unknown_keys_are_errors_at_every_level) {
  std::string text = full_file();
  text = replace_once(text, "polling_count = 3", "polling_count = 3\npolling_perod = \"1s\"");
  text = replace_once(text, "control_socket_dir", "colour = \"red\"\ncontrol_socket_dir");
  text = replace_once(text, "port = 29954", "port = 29954\nmtu = 9000");
  text = replace_once(text, "seconds = 5", "seconds = 5\nsecond = 5");
  text += "\n[extra]\nx = 1\n";
  auto lines = errors_of(text);
  EXPECT_TRUE(has_error(lines, "group[0].polling_perod", {"unknown key"}));
  EXPECT_TRUE(has_error(lines, "node.colour", {"unknown key"}));
  EXPECT_TRUE(has_error(lines, "group[0].heartbeat.mtu", {"unknown key"}));
  EXPECT_TRUE(has_error(lines, "group[0].flow[3].second", {"unknown key"}));
  EXPECT_TRUE(has_error(lines, "extra", {"unknown key"}));
  EXPECT_EQ(lines.size(), 5U) << PrintToString(lines);
}

TEST_F(parse_test, several_errors_are_reported_together_and_nothing_is_returned) {
  std::string text = full_file();
  text = replace_once(text, "\"198.51.100.100\"", "\"10.0.0.300\"");
  text = replace_once(text, "polling_count = 3", "polling_count = 100");
  text = replace_once(text, "port = 29954", "port = 70000");
  text = replace_once(text, "name = \"node-a\"", "name = \"node a\"");
  auto r = parse_text(text);
  EXPECT_FALSE(r.config);
  auto lines = lines_of(r.errors);
  EXPECT_TRUE(
      has_error(lines, "group[0].flow[0].ip", {"\"10.0.0.300\" is not an IPv4 or IPv6 address"}));
  EXPECT_TRUE(has_error(lines, "group[0].polling_count", {"100", "1..99"}));
  EXPECT_TRUE(has_error(lines, "group[0].heartbeat.port", {"70000", "1..65535"}));
  EXPECT_TRUE(has_error(lines, "node.name", {"\"node a\"", "1..15"}));
  EXPECT_EQ(lines.size(), 4U) << PrintToString(lines);
}

TEST_F(parse_test, wrong_types_say_what_was_found_and_what_is_expected) {
  std::string text = replace_once(minimal_file(), "port = 29955", "port = \"29955\"");
  text = replace_once(text, "public_interface = \"eth0\"",
                      "public_interface = \"eth0\"\nactive_priority = \"yes\"");
  auto lines = errors_of(text);
  EXPECT_TRUE(has_error(lines, "group[0].public.port", {"\"29955\" is a string", "integer"}));
  EXPECT_TRUE(
      has_error(lines, "group[0].active_priority", {"\"yes\" is a string", "true or false"}));
  EXPECT_EQ(lines.size(), 2U) << PrintToString(lines);
}

TEST_F(parse_test, missing_required_keys_are_named_once) {
  auto lines = errors_of(replace_once(minimal_file(), "peer = \"node-b\"\n", ""));
  EXPECT_EQ(lines, std::vector<std::string>{"group[0].peer: missing (required)"});
  lines = errors_of("[node]\nname = \"a\"\n");
  EXPECT_EQ(lines, std::vector<std::string>{"group: missing: at least one [[group]] is required"});
  lines = errors_of(replace_once(minimal_file(), "[group.public]", "[group.other]"));
  EXPECT_TRUE(has_error(lines, "group[0].public", {"missing"}));
  EXPECT_TRUE(has_error(lines, "group[0].other", {"unknown key"}));
  EXPECT_EQ(lines.size(), 2U) << PrintToString(lines);
}

TEST_F(parse_test, syntax_error_gives_line_and_column) {
  auto lines = errors_of("[node]\nname = \"node-a\n");
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].rfind("line 2, column", 0), 0U) << lines[0];
}

TEST_F(parse_test, duplicate_group_names_are_refused) {
  std::string second = R"(
[[group]]
name = "g1"
peer = "node-c"
key_file = "keys/GROUP-Linux.key"
public_interface = "eth1"
[group.public]
self = "198.51.100.21"
peer = "198.51.100.22"
port = 29955
)";
  auto lines = errors_of(minimal_file() + second);
  EXPECT_EQ(lines,
            std::vector<std::string>{"group[1].name: \"g1\" is already the name of group[0]"});
}

TEST_F(parse_test, two_groups_on_one_node_parse_when_their_sockets_differ) {
  std::string second = R"(
[[group]]
name = "g2"
peer = "node-c"
key_file = "keys/GROUP-Linux.key"
public_interface = "eth0"
[group.public]
self = "198.51.100.11"
peer = "198.51.100.13"
port = 29965
)";
  auto r = parse_text(minimal_file() + second);
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->groups.size(), 2U);
  auto lines = errors_of(replace_once(minimal_file() + second, "port = 29965", "port = 29955"));
  EXPECT_EQ(lines, std::vector<std::string>{"group[1].public.port: 29955 on \"198.51.100.11\" is "
                                            "already used by group[0].public"});
}

TEST_F(parse_test, unknown_flow_type_is_one_error_and_later_nodes_keep_their_index) {
  std::string text = replace_once(full_file(), "type = \"wait\"", "type = \"sleep\"");
  text = replace_once(text, "resource = \"r0\"", "resource = \"r 0\"");
  auto lines = errors_of(text);
  EXPECT_TRUE(has_error(lines, "group[0].flow[3].type", {"\"sleep\" is not one of"}));
  EXPECT_TRUE(has_error(lines, "group[0].flow[5].resource", {"\"r 0\""}));
  EXPECT_EQ(lines.size(), 2U) << PrintToString(lines);
}

TEST_F(parse_test, flow_written_as_a_single_table_says_how_to_write_it) {
  auto lines = errors_of(minimal_file() + "[group.flow]\ntype = \"wait\"\n");
  EXPECT_EQ(lines, std::vector<std::string>{"group[0].flow: found a table, expected an array of "
                                            "tables, written [[group.flow]]"});
}

TEST_F(parse_test, flow_array_may_be_empty) {
  auto r = parse_text(minimal_file() + "flow = []\n");
  // "flow = []" after [group.public] belongs to that table: an unknown key there.
  EXPECT_TRUE(has_error(lines_of(r.errors), "group[0].public.flow", {"unknown key"}));
  auto ok =
      parse_text(replace_once(minimal_file(), "public_interface", "flow = []\npublic_interface"));
  ASSERT_TRUE(ok.config) << PrintToString(lines_of(ok.errors));
  EXPECT_TRUE(ok.config->groups[0].flow.empty());
}

}  // namespace
