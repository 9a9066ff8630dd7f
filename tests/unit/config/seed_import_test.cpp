// SPEC M11: import of the seed's hasys_variable_opt.sh, the manual's sample and broken files.
#include "config_fixture.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace hasys::config;
using namespace hasys::config::test;
using namespace std::chrono_literals;

namespace {

std::string manual_sample() {
  std::ifstream in(std::string(HASYS_CONFIG_TEST_DATA) + "/hasys_variable_opt.sh");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The variables every import needs, for the broken-input tests to start from.
constexpr std::string_view required_vars =
    "export HB_GRPN=G1\nexport HB_SYSN=linux1\nexport HB_TCPG=198.51.100.11\n"
    "export HB_TCPG1=198.51.100.12\n";

class seed_import_test : public config_test {
 protected:
  import_result import(std::string_view text) {
    return import_seed_variables(text, dir_ / "keys/GROUP-Linux.key", dir_ / "scripts");
  }
  std::vector<std::string> errors_of_import(std::string_view text) {
    auto r = import(text);
    EXPECT_FALSE(r.config) << "expected errors";
    return lines_of(r.errors);
  }
  static bool has_note(const import_result& r, std::initializer_list<std::string_view> fragments) {
    return std::any_of(r.notes.begin(), r.notes.end(), [&](const std::string& n) {
      return std::all_of(fragments.begin(), fragments.end(),
                         [&](std::string_view f) { return n.find(f) != std::string::npos; });
    });
  }
};

TEST_F(seed_import_test, manual_sample_imports_every_variable) {
  auto r = import(manual_sample());
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  const node_config& c = *r.config;
  EXPECT_EQ(c.name, "linux1");
  EXPECT_TRUE(c.manager.enabled);
  EXPECT_EQ(c.manager.address, "192.168.1.221");
  EXPECT_FALSE(c.log.enabled);
  EXPECT_EQ(c.log.size_mb, 10U);
  const group_config& g = c.groups.at(0);
  EXPECT_EQ(g.name, "GROUP-Linux");
  ASSERT_TRUE(g.heartbeat);
  EXPECT_EQ(*g.heartbeat, (link_config{"192.168.1.235", "192.168.1.216", 29954}));
  EXPECT_EQ(g.public_net, (link_config{"192.168.1.235", "192.168.1.216", 29955}));
  EXPECT_EQ(g.gateway, "192.168.1.1");
  EXPECT_EQ(g.shared_disk_wait, 60s);
  EXPECT_TRUE(g.failover_condition);
  EXPECT_EQ(g.failover_condition_script, dir_ / "scripts/HA_APP_FCONDITION");
  EXPECT_EQ(g.failover_condition_wait, 60s);
  EXPECT_EQ(g.drbd_reconnect_count, 6);
  EXPECT_EQ(g.drbd_reconnect_interval, 30s);
  EXPECT_EQ(g.key_file, dir_ / "keys/GROUP-Linux.key");
}

TEST_F(seed_import_test, manual_sample_notes_say_what_was_defaulted_and_ignored) {
  auto r = import(manual_sample());
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->groups[0].peer_name, "peer");
  EXPECT_EQ(r.config->groups[0].public_interface, "eth0");
  EXPECT_TRUE(has_note(r, {"group[0].peer = \"peer\"", "does not name the other server"}));
  EXPECT_TRUE(has_note(r, {"public_interface = \"eth0\""}));
  EXPECT_TRUE(has_note(r, {"HA_APP_COMSRT_WT not set", "common_start_wait = \"60s\""}));
  for (auto ignored :
       {"HM_SCKS", "HM_SCKR", "HB_WEB_REPT_PORT", "HB_WEB_SMSP_PORT", "HB_WEB_SERVER_REMOTE"})
    EXPECT_TRUE(has_note(r, {ignored, "ignored"})) << ignored;
  EXPECT_TRUE(has_note(r, {"HA_APP_FCONDITION"}));
  EXPECT_TRUE(has_note(r, {"flow is empty"}));
}

TEST_F(seed_import_test, imported_config_round_trips_through_toml) {
  auto r = import(manual_sample());
  ASSERT_TRUE(r.config);
  auto back = parse_text(to_toml(*r.config));
  ASSERT_TRUE(back.config) << PrintToString(lines_of(back.errors));
  EXPECT_EQ(*back.config, *r.config);
}

TEST_F(seed_import_test, enabled_condition_without_its_script_is_an_error) {
  std::filesystem::remove(dir_ / "scripts/HA_APP_FCONDITION");
  auto lines = errors_of_import(manual_sample());
  EXPECT_EQ(lines.size(), 1U) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "group[0].failover_condition_script", {"does not exist"}));
}

TEST_F(seed_import_test, missing_key_file_is_an_error) {
  auto r = import_seed_variables(manual_sample(), dir_ / "none.key", dir_ / "scripts");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_error(lines_of(r.errors), "group[0].key_file", {"none.key\" does not exist"}));
}

TEST_F(seed_import_test, quotes_spaces_comments_and_no_export_are_read_like_the_shell) {
  auto r = import(
      "# header\n"
      "export HB_GRPN = \"GROUP-Linux\"   # the group\r\n"
      "HB_SYSN='linux1'\n"
      "export HB_TCPG=198.51.100.11\n"
      "export   HB_TCPG1=\"198.51.100.12\"\n"
      "export HB_SCKG=30000\n");
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->groups[0].name, "GROUP-Linux");
  EXPECT_EQ(r.config->name, "linux1");
  EXPECT_EQ(r.config->groups[0].public_net.port, 30000);
  EXPECT_FALSE(r.config->groups[0].heartbeat);
  EXPECT_FALSE(r.config->groups[0].gateway);
  EXPECT_TRUE(has_note(r, {"no heartbeat network"}));
  EXPECT_TRUE(has_note(r, {"HB_GATEWAYIP not set", "no gateway check"}));
}

TEST_F(seed_import_test, empty_file_names_every_required_variable) {
  auto lines = errors_of_import("");
  EXPECT_TRUE(has_error(lines, "HB_SYSN", {"missing (required)"}));
  EXPECT_TRUE(has_error(lines, "HB_GRPN", {"missing (required)"}));
  EXPECT_TRUE(has_error(lines, "HB_TCPG", {"missing"}));
  EXPECT_TRUE(has_error(lines, "HB_TCPG1", {"missing"}));
  EXPECT_EQ(lines.size(), 4U) << PrintToString(lines);
}

TEST_F(seed_import_test, bad_values_are_named_by_their_variable) {
  std::string text = std::string(required_vars) +
                     "export HB_SCKH=abc\nexport HB_TCPH=192.0.2.11\nexport HB_TCPH1=192.0.2.12\n"
                     "export HB_SCKG=70000\nexport HB_LOG_MANAGEMENT=maybe\n"
                     "export FCONDITION_WTIME=0\nexport HB_GATEWAYIP=198.51.100.300\n"
                     "export HB_GRPN=GROUP-Linux-Production\n";
  auto lines = errors_of_import(text);
  EXPECT_TRUE(has_error(lines, "HB_SCKH", {"\"abc\" is not a whole number"}));
  EXPECT_TRUE(has_error(lines, "HB_SCKG", {"70000 is out of range 1..65535"}));
  EXPECT_TRUE(has_error(lines, "HB_LOG_MANAGEMENT", {"\"maybe\" is not Y or N"}));
  EXPECT_TRUE(has_error(lines, "FCONDITION_WTIME", {"0s is out of range"}));
  EXPECT_TRUE(has_error(lines, "HB_GATEWAYIP", {"\"198.51.100.300\" is not an IPv4 or IPv6"}));
  EXPECT_TRUE(has_error(lines, "HB_GRPN", {"\"GROUP-Linux-Production\"", "1..20"}));
  EXPECT_EQ(lines.size(), 6U) << PrintToString(lines);
}

TEST_F(seed_import_test, one_heartbeat_address_without_the_other_is_an_error) {
  auto lines = errors_of_import(std::string(required_vars) + "export HB_TCPH=192.0.2.11\n");
  EXPECT_EQ(lines, std::vector<std::string>{"HB_TCPH1: missing (required with HB_TCPH)"});
}

TEST_F(seed_import_test, unreadable_lines_are_errors_with_their_line_number) {
  auto lines = errors_of_import(std::string(required_vars) +
                                "export HB_GATEWAYIP=\"198.51.100.1\n"
                                "export HB_SCKG=29955 29956\n");
  EXPECT_TRUE(has_error(lines, "line 5", {"HB_GATEWAYIP: the value's quote is not closed"}));
  EXPECT_TRUE(has_error(lines, "line 6", {"HB_SCKG: unexpected text after the value: \"29956\""}));
  EXPECT_EQ(lines.size(), 2U) << PrintToString(lines);
}

TEST_F(seed_import_test, broken_required_line_is_not_also_reported_missing) {
  std::string text = replace_once(std::string(required_vars), "HB_SYSN=linux1", "HB_SYSN='linux1");
  EXPECT_EQ(errors_of_import(text),
            std::vector<std::string>{"line 2: HB_SYSN: the value's quote is not closed"});
}

TEST_F(seed_import_test, shell_expansion_is_refused) {
  auto lines = errors_of_import(replace_once(std::string(required_vars), "198.51.100.11", "$MYIP"));
  EXPECT_EQ(lines,
            std::vector<std::string>{
                "HB_TCPG: \"$MYIP\" uses shell expansion, which the import does not evaluate"});
}

TEST_F(seed_import_test, repeated_variable_keeps_the_last_value_with_a_note) {
  auto r = import(std::string(required_vars) + "export HB_SYSN=linux2\n");
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->name, "linux2");
  EXPECT_TRUE(has_note(r, {"HB_SYSN is set twice (lines 2 and 5)"}));
}

TEST_F(seed_import_test, other_lines_and_unknown_variables_are_noted_not_fatal) {
  auto r = import(std::string(required_vars) + "echo starting\nexport PATH_EXTRA=/opt/x\n");
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_TRUE(has_note(r, {"line 5 ignored (not a variable assignment)", "echo starting"}));
  EXPECT_TRUE(has_note(r, {"PATH_EXTRA (line 6) ignored: not a setting hasys knows"}));
}

TEST_F(seed_import_test, server_named_peer_gets_another_default_peer_name) {
  auto r = import(replace_once(std::string(required_vars), "HB_SYSN=linux1", "HB_SYSN=peer"));
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->groups[0].peer_name, "peer-node");
}

}  // namespace
