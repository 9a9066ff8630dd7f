// parse() of [group.monitor] (issue 9): every key, the defaults, words, unknown and missing keys.
#include "config_fixture.hpp"

using namespace hasys::config;
using namespace hasys::config::test;
using namespace std::chrono_literals;

namespace {

// The smallest valid group, to which a test appends monitor tables.
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

class monitor_parse_test : public config_test {
 protected:
  monitor_config monitors_of(std::string_view text) const {
    auto r = parse_text(text);
    EXPECT_TRUE(r.config) << text << PrintToString(lines_of(r.errors));
    return r.config ? r.config->groups.at(0).monitor : monitor_config{};
  }
};

TEST_F(monitor_parse_test, full_monitor_table_gives_every_value) {
  auto r = parse_text(monitor_file());
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  const monitor_config& m = r.config->groups.at(0).monitor;
  EXPECT_EQ(m.period, 500ms);
  EXPECT_EQ(m.process_policy, monitor_policy::all);
  EXPECT_EQ(m.network_policy, monitor_policy::one);
  ASSERT_EQ(m.processes.size(), 2U);
  EXPECT_EQ(m.processes[0],
            (process_monitor{.name = "app",
                             .match = process_match::cmdline,
                             .pattern = "java -jar /opt/app/app.jar",
                             .managed = true,
                             .recovery = true,
                             .start = (dir_ / "scripts/app-start.sh").string() + " --port 8080",
                             .user = "root",
                             .start_time = 30s,
                             .retries = 5,
                             .reboot_after_failover = true}))
      << to_toml(*r.config);
  EXPECT_EQ(m.processes[1], (process_monitor{.name = "workers",
                                             .pattern = "nginx",
                                             .multi = true,
                                             .min = 2,
                                             .max = 8,
                                             .on = expected_on::both}))
      << to_toml(*r.config);
  EXPECT_EQ(m.loads, (std::vector<load_monitor>{
                         {.kind = load_kind::cpu,
                          .limit_percent = 95,
                          .repeat = 5,
                          .start_delay = 2min,
                          .managed = true},
                         {.kind = load_kind::memory, .limit_percent = 80},
                     }))
      << to_toml(*r.config);
  EXPECT_EQ(m.networks,
            (std::vector<network_monitor>{
                {.name = "pub", .interface = "eth0", .ip = "198.51.100.11", .managed = true},
                {.name = "backup", .interface = "eth1"},
            }))
      << to_toml(*r.config);
}

TEST_F(monitor_parse_test, a_group_without_the_table_watches_nothing) {
  EXPECT_EQ(full_config().groups.at(0).monitor, monitor_config{});
  EXPECT_EQ(monitors_of(minimal_file() + "[group.monitor]\n"), monitor_config{});
}

TEST_F(monitor_parse_test, monitors_take_the_documented_defaults) {
  monitor_config m = monitors_of(minimal_file() + R"(
[[group.monitor.process]]
name = "p"
pattern = "sshd"

[[group.monitor.load]]
resource = "memory"
limit = 70

[[group.monitor.network]]
name = "n"
interface = "eth0"
)");
  EXPECT_EQ(m.period, 1s);
  EXPECT_EQ(m.process_policy, monitor_policy::one);
  EXPECT_EQ(m.network_policy, monitor_policy::one);
  ASSERT_EQ(m.processes.size(), 1U);
  const process_monitor& p = m.processes[0];
  EXPECT_EQ(p.match, process_match::name);
  EXPECT_FALSE(p.multi);
  EXPECT_EQ(p.min, 1);
  EXPECT_EQ(p.max, 1);
  EXPECT_FALSE(p.managed);
  EXPECT_EQ(p.on, expected_on::active);
  EXPECT_FALSE(p.recovery);
  EXPECT_EQ(p.start, "");
  EXPECT_EQ(p.user, "");
  EXPECT_EQ(p.start_time, 60s);
  EXPECT_EQ(p.retries, 3);
  EXPECT_FALSE(p.reboot_after_failover);
  ASSERT_EQ(m.loads.size(), 1U);
  EXPECT_EQ(m.loads[0].repeat, 3);
  EXPECT_EQ(m.loads[0].start_delay, 60s);
  EXPECT_FALSE(m.loads[0].managed);
  ASSERT_EQ(m.networks.size(), 1U);
  EXPECT_EQ(m.networks[0].ip, "");
  EXPECT_FALSE(m.networks[0].managed);
}

TEST_F(monitor_parse_test, bare_integer_durations_count_seconds) {
  monitor_config m = monitors_of(minimal_file() + R"(
[group.monitor]
period = 2

[[group.monitor.process]]
name = "p"
pattern = "sshd"
start_time = 45

[[group.monitor.load]]
resource = "cpu"
limit = 90
start_delay = 90
)");
  EXPECT_EQ(m.period, 2s);
  ASSERT_EQ(m.processes.size(), 1U);
  EXPECT_EQ(m.processes[0].start_time, 45s);
  ASSERT_EQ(m.loads.size(), 1U);
  EXPECT_EQ(m.loads[0].start_delay, 90s);
}

TEST_F(monitor_parse_test, unknown_keys_are_errors_in_every_monitor_table) {
  std::string text = monitor_file();
  text = replace_once(text, "period = \"500ms\"", "period = \"500ms\"\nperiods = 1");
  text = replace_once(text, "retries = 5", "retries = 5\nretry = 5");
  text = replace_once(text, "repeat = 5", "repeat = 5\nlimit_percent = 95");
  text = replace_once(text, "interface = \"eth1\"", "interface = \"eth1\"\nmtu = 1500");
  EXPECT_EQ(errors_of(text), (std::vector<std::string>{
                                 "group[0].monitor.process[0].retry: unknown key",
                                 "group[0].monitor.load[0].limit_percent: unknown key",
                                 "group[0].monitor.network[1].mtu: unknown key",
                                 "group[0].monitor.periods: unknown key",
                             }));
}

TEST_F(monitor_parse_test, words_outside_their_lists_are_named_with_the_choices) {
  std::string text = monitor_file();
  text = replace_once(text, "process_policy = \"all\"", "process_policy = \"any\"");
  text = replace_once(text, "network_policy = \"one\"", "network_policy = \"One\"");
  text = replace_once(text, "match = \"cmdline\"", "match = \"regex\"");
  text = replace_once(text, "on = \"both\"", "on = \"standby\"");
  text = replace_once(text, "resource = \"memory\"", "resource = \"disk\"");
  EXPECT_EQ(errors_of(text),
            (std::vector<std::string>{
                "group[0].monitor.process_policy: \"any\" is not \"all\" or \"one\"",
                "group[0].monitor.network_policy: \"One\" is not \"all\" or \"one\"",
                "group[0].monitor.process[0].match: \"regex\" is not \"name\" or "
                "\"cmdline\"",
                "group[0].monitor.process[1].on: \"standby\" is not \"active\" or "
                "\"both\"",
                "group[0].monitor.load[1].resource: \"disk\" is not \"cpu\" or "
                "\"memory\"",
            }));
}

TEST_F(monitor_parse_test, wrong_types_are_said_once) {
  std::string text = monitor_file();
  text = replace_once(text, "period = \"500ms\"", "period = true");
  text = replace_once(text, "match = \"cmdline\"", "match = 2");
  text = replace_once(text, "limit = 95", "limit = \"95\"");
  text = replace_once(text, "multi = true", "multi = \"yes\"");
  EXPECT_EQ(errors_of(text),
            (std::vector<std::string>{
                "group[0].monitor.period: true is a boolean, expected a duration like \"1.5s\" or "
                "an integer of seconds",
                "group[0].monitor.process[0].match: 2 is an integer, expected a string",
                "group[0].monitor.process[1].multi: \"yes\" is a string, expected true or false",
                "group[0].monitor.load[0].limit: \"95\" is a string, expected an integer in 1..100",
            }));
}

TEST_F(monitor_parse_test, required_keys_are_named_once) {
  std::string text = minimal_file() + R"(
[[group.monitor.process]]
match = "name"

[[group.monitor.load]]
repeat = 2

[[group.monitor.network]]
ip = "198.51.100.11"
)";
  EXPECT_EQ(errors_of(text), (std::vector<std::string>{
                                 "group[0].monitor.process[0].name: missing (required)",
                                 "group[0].monitor.process[0].pattern: missing (required)",
                                 "group[0].monitor.load[0].resource: missing (required)",
                                 "group[0].monitor.load[0].limit: missing (required)",
                                 "group[0].monitor.network[0].name: missing (required)",
                                 "group[0].monitor.network[0].interface: missing (required)",
                             }));
}

TEST_F(monitor_parse_test, min_and_max_are_only_for_multi) {
  std::string rule = "is only for multi = true (multi = false expects exactly one process)";
  EXPECT_EQ(errors_of(replace_once(monitor_file(), "multi = true\n", "")),
            (std::vector<std::string>{"group[0].monitor.process[1].min: 2 " + rule,
                                      "group[0].monitor.process[1].max: 8 " + rule}));
  // Even the default value: a file saying min with multi = false misreads the monitor.
  EXPECT_EQ(errors_of(replace_once(monitor_file(), "multi = true\nmin = 2\nmax = 8\n",
                                   "multi = false\nmax = 1\n")),
            (std::vector<std::string>{"group[0].monitor.process[1].max: 1 " + rule}));
}

TEST_F(monitor_parse_test, values_out_of_range_in_the_file_are_said_once) {
  std::string text = replace_once(monitor_file(), "limit = 95", "limit = 101");
  text = replace_once(text, "min = 2", "min = -1");
  EXPECT_EQ(errors_of(text), (std::vector<std::string>{
                                 "group[0].monitor.process[1].min: -1 is out of range 0..9999",
                                 "group[0].monitor.load[0].limit: 101 is out of range 1..100",
                             }));
}

TEST_F(monitor_parse_test, monitor_arrays_written_as_one_table_say_how_to_write_them) {
  EXPECT_EQ(errors_of(minimal_file() + "[group.monitor.process]\nname = \"p\"\n"),
            std::vector<std::string>{"group[0].monitor.process: found a table, expected an array "
                                     "of tables, written [[group.monitor.process]]"});
  EXPECT_EQ(errors_of(replace_once(minimal_file(), "public_interface = \"eth0\"",
                                   "public_interface = \"eth0\"\nmonitor = \"on\"")),
            std::vector<std::string>{"group[0].monitor: \"on\" is a string, expected a table"});
}

}  // namespace
