// Remote configuration (M8, M9): the editable settings as JSON, and changes checked whole.
#include "config_fixture.hpp"

#include <hasys/config/remote_edit.hpp>

#include <boost/json.hpp>

namespace hasys::config::test {
namespace {

namespace json = boost::json;

class remote_edit_test : public config_test {};

TEST_F(remote_edit_test, settings_hold_the_editable_keys_and_the_fixed_facts_apart) {
  auto cfg = full_config();
  auto v = json::parse(group_settings_json(cfg, "GROUP-Linux")).as_object();
  const auto& s = v.at("settings").as_object();
  EXPECT_EQ(s.at("mode").as_string(), "manual");
  EXPECT_EQ(s.at("polling_period").as_string(), "100ms");
  EXPECT_EQ(s.at("polling_count").as_int64(), 3);
  EXPECT_EQ(s.at("flow").as_array().size(), cfg.groups[0].flow.size());
  EXPECT_EQ(s.at("flow").as_array()[0].as_object().at("ip").as_string(), "198.51.100.100");
  EXPECT_FALSE(s.contains("name"));
  EXPECT_FALSE(s.contains("key_file"));
  const auto& f = v.at("fixed").as_object();
  EXPECT_EQ(f.at("name").as_string(), "GROUP-Linux");
  EXPECT_EQ(f.at("peer").as_string(), "node-b");
  EXPECT_EQ(f.at("public_interface").as_string(), "eth0");
  EXPECT_EQ(f.at("gateway").as_string(), "198.51.100.1");
  EXPECT_EQ(f.at("virtual_ips").as_array().size(), 1u);
  EXPECT_EQ(group_settings_json(cfg, "nope"), "");
}

TEST_F(remote_edit_test, the_settings_read_back_as_a_change_leave_the_file_as_it_was) {
  auto cfg = full_config();
  auto v = json::parse(group_settings_json(cfg, "GROUP-Linux"));
  auto r = edit_group(cfg, "GROUP-Linux", json::serialize(v.at("settings")));
  ASSERT_TRUE(r.errors.empty()) << PrintToString(lines_of(r.errors));
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.text, to_toml(cfg));
}

TEST_F(remote_edit_test, a_change_replaces_only_the_keys_it_names) {
  auto cfg = full_config();
  auto r = edit_group(cfg, "GROUP-Linux",
                      R"({"polling_count": 5, "mode": "auto", "polling_period": "250ms"})");
  ASSERT_TRUE(r.errors.empty()) << PrintToString(lines_of(r.errors));
  ASSERT_TRUE(r.config);
  EXPECT_TRUE(r.changed);
  const auto& g = r.config->groups[0];
  EXPECT_EQ(g.polling_count, 5);
  EXPECT_EQ(g.mode, failover_mode::automatic);
  EXPECT_EQ(g.polling_period, std::chrono::milliseconds(250));
  EXPECT_EQ(g.flow, cfg.groups[0].flow);
  EXPECT_EQ(g.public_net, cfg.groups[0].public_net);
  // The text written is the canonical file, readable again.
  auto again = parse(r.text);
  ASSERT_TRUE(again.config) << PrintToString(lines_of(again.errors));
  EXPECT_EQ(again.config->groups[0].polling_count, 5);
}

TEST_F(remote_edit_test, the_flow_and_the_monitors_are_replaced_whole) {
  auto cfg = full_config();
  auto r = edit_group(cfg, "GROUP-Linux", R"({
    "flow": [{"type": "vip", "name": "v2", "ip": "198.51.100.101", "prefix": 24},
             {"type": "wait", "name": "pause", "seconds": 2, "timeout": "10s"}],
    "monitor": {"period": "500ms", "process": [{"name": "sshd", "pattern": "sshd", "on": "both"}],
                "load": [{"resource": "cpu", "limit": 95, "repeat": 5}]}})");
  ASSERT_TRUE(r.errors.empty()) << PrintToString(lines_of(r.errors));
  const auto& g = r.config->groups[0];
  ASSERT_EQ(g.flow.size(), 2u);
  EXPECT_EQ(name_of(g.flow[0]), "v2");
  EXPECT_EQ(std::get<vip_node>(g.flow[0]).interface, "eth0");  // the group's public interface
  EXPECT_EQ(g.monitor.period, std::chrono::milliseconds(500));
  ASSERT_EQ(g.monitor.processes.size(), 1u);
  EXPECT_EQ(g.monitor.processes[0].on, expected_on::both);
  ASSERT_EQ(g.monitor.loads.size(), 1u);
}

TEST_F(remote_edit_test, null_or_an_empty_text_resets_a_key_to_its_default) {
  auto cfg = full_config();
  auto r = edit_group(
      cfg, "GROUP-Linux",
      R"({"polling_count": null, "common_start": "", "flow": null, "flow_timeout": null})");
  ASSERT_TRUE(r.errors.empty()) << PrintToString(lines_of(r.errors));
  const auto& g = r.config->groups[0];
  EXPECT_EQ(g.polling_count, 3);
  EXPECT_TRUE(g.common_start.empty());
  EXPECT_TRUE(g.flow.empty());
}

TEST_F(remote_edit_test, every_rejected_field_is_named_relative_to_the_group_and_nothing_is_made) {
  auto cfg = full_config();
  auto r = edit_group(cfg, "GROUP-Linux", R"({
    "polling_count": 100, "polling_period": "100s", "mode": "sometimes",
    "flow": [{"type": "vip", "name": "much-too-long-name", "ip": "10.0.0.300", "prefix": 24},
             {"type": "application", "name": "app", "start": "relative.sh", "stop": "/nonexistent/stop.sh"}],
    "monitor": {"load": [{"resource": "cpu", "limit": 101}]}})");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(r.text.empty());
  auto lines = lines_of(r.errors);
  EXPECT_TRUE(has_error(lines, "polling_count", {"100"})) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "polling_period", {"100s"})) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "mode", {"sometimes"})) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "flow[0].name")) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "flow[0].ip", {"10.0.0.300"})) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "flow[1].start", {"absolute"})) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "flow[1].stop")) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "monitor.load[0].limit", {"101"})) << PrintToString(lines);
}

TEST_F(remote_edit_test, read_only_and_unknown_keys_are_refused_by_name) {
  auto cfg = full_config();
  auto r = edit_group(
      cfg, "GROUP-Linux",
      R"({"public_interface": "eth9", "name": "other", "colour": "red", "polling_count": 4})");
  EXPECT_FALSE(r.config);
  auto lines = lines_of(r.errors);
  EXPECT_TRUE(has_error(lines, "public_interface", {"read-only"})) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "name", {"read-only"})) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "colour", {"unknown"})) << PrintToString(lines);
}

TEST_F(remote_edit_test, a_change_that_is_not_an_object_or_for_another_group_is_refused) {
  auto cfg = full_config();
  EXPECT_TRUE(has_error(lines_of(edit_group(cfg, "GROUP-Linux", "[1]").errors), "changes"));
  EXPECT_TRUE(
      has_error(lines_of(edit_group(cfg, "GROUP-Linux", "{").errors), "changes", {"not JSON"}));
  EXPECT_TRUE(has_error(lines_of(edit_group(cfg, "OTHER", "{}").errors), "group"));
  // A value JSON has and TOML has not.
  EXPECT_TRUE(
      has_error(lines_of(edit_group(cfg, "GROUP-Linux", R"({"flow": [null]})").errors), "flow"));
}

TEST_F(remote_edit_test, a_fraction_where_an_integer_is_expected_gets_the_keys_own_message) {
  auto cfg = full_config();
  auto ok = edit_group(cfg, "GROUP-Linux", R"({"polling_count": 4.0})");
  ASSERT_TRUE(ok.config) << PrintToString(lines_of(ok.errors));
  EXPECT_EQ(ok.config->groups[0].polling_count, 4);
  auto bad = edit_group(cfg, "GROUP-Linux", R"({"polling_count": 4.5})");
  EXPECT_TRUE(has_error(lines_of(bad.errors), "polling_count"))
      << PrintToString(lines_of(bad.errors));
}

}  // namespace
}  // namespace hasys::config::test
