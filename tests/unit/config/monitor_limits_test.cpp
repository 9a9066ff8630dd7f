// Every limit of the monitors (issue 9), on both sides of the bound, each error keyed by its path.
#include "config_fixture.hpp"

#include <functional>

using namespace hasys::config;
using namespace hasys::config::test;
using namespace std::chrono_literals;

namespace {

using lines = std::vector<std::string>;

class monitor_limits_test : public config_test {
 protected:
  // validate() of monitor_file()'s config after a change to its monitors.
  lines after(const std::function<void(monitor_config&)>& change) const {
    auto r = parse_text(monitor_file());
    EXPECT_TRUE(r.config) << PrintToString(lines_of(r.errors));
    node_config c = r.config.value_or(node_config{});
    if (c.groups.empty()) return {"no config"};
    change(c.groups[0].monitor);
    return lines_of(validate(c));
  }
  // The monitors of monitor_file(): process[0] "app" (recovery), process[1] "workers" (multi),
  // load[0] cpu, load[1] memory, network[0] "pub", network[1] "backup", disk[0] "data"
  // (/srv/data, managed, unmount confirm), disk[1] "drbd0" (/srv/drbd0, no confirm).
  static process_monitor& app(monitor_config& m) { return m.processes.at(0); }
  static process_monitor& workers(monitor_config& m) { return m.processes.at(1); }
  std::string start_script() const { return (dir_ / "scripts/app-start.sh").string(); }
  const lines none{};
};

TEST_F(monitor_limits_test, the_example_of_every_kind_is_valid) {
  EXPECT_EQ(after([](auto&) {}), none);
}

TEST_F(monitor_limits_test, period_is_100ms_to_60s) {
  EXPECT_EQ(after([](auto& m) { m.period = 100ms; }), none);
  EXPECT_EQ(after([](auto& m) { m.period = 60s; }), none);
  EXPECT_EQ(after([](auto& m) { m.period = 99ms; }),
            lines{"group[0].monitor.period: 99ms is out of range: at least 100ms and at most 60s"});
  EXPECT_EQ(after([](auto& m) { m.period = 60001ms; }),
            lines{"group[0].monitor.period: 60001ms is out of range: at least 100ms and at most "
                  "60s"});
  EXPECT_TRUE(
      has_error(errors_of(replace_once(monitor_file(), "period = \"500ms\"", "period = 61")),
                "group[0].monitor.period", {"61s is out of range"}));
}

TEST_F(monitor_limits_test, names_hold_1_to_10_bytes) {
  EXPECT_EQ(after([](auto& m) { app(m).name = std::string(10, 'a'); }), none);
  EXPECT_EQ(after([](auto& m) { m.networks[0].name = std::string(10, 'n'); }), none);
  EXPECT_EQ(after([](auto& m) { app(m).name = std::string(11, 'a'); }),
            lines{"group[0].monitor.process[0].name: \"aaaaaaaaaaa\" is 11 bytes; at most 10"});
  EXPECT_EQ(after([](auto& m) { m.networks[1].name = "backup-eth1"; }),
            lines{"group[0].monitor.network[1].name: \"backup-eth1\" is 11 bytes; at most 10"});
  EXPECT_EQ(after([](auto& m) { workers(m).name.clear(); }),
            lines{"group[0].monitor.process[1].name: missing (required)"});
}

TEST_F(monitor_limits_test, names_are_unique_across_process_and_network_monitors) {
  EXPECT_EQ(after([](auto& m) { m.networks[0].name = "app"; }),
            lines{"group[0].monitor.network[0].name: \"app\" is already the name of "
                  "group[0].monitor.process[0]"});
  EXPECT_EQ(after([](auto& m) { workers(m).name = "app"; }),
            lines{"group[0].monitor.process[1].name: \"app\" is already the name of "
                  "group[0].monitor.process[0]"});
  EXPECT_EQ(after([](auto& m) { m.networks[1].name = "pub"; }),
            lines{"group[0].monitor.network[1].name: \"pub\" is already the name of "
                  "group[0].monitor.network[0]"});
}

TEST_F(monitor_limits_test, pattern_holds_1_to_80_bytes_without_control_characters) {
  EXPECT_EQ(after([](auto& m) { app(m).pattern = std::string(80, 'p'); }), none);
  EXPECT_EQ(after([](auto& m) { app(m).pattern = std::string(81, 'p'); }),
            lines{"group[0].monitor.process[0].pattern: \"" + std::string(81, 'p') +
                  "\" is 81 bytes; at most 80"});
  EXPECT_EQ(after([](auto& m) { workers(m).pattern.clear(); }),
            lines{"group[0].monitor.process[1].pattern: missing (required)"});
  EXPECT_EQ(after([](auto& m) { workers(m).pattern = "nginx\tworker"; }),
            lines{"group[0].monitor.process[1].pattern: \"nginx\\tworker\" contains a control "
                  "character"});
}

TEST_F(monitor_limits_test, multi_counts_are_min_0_to_9999_and_max_1_to_9999) {
  EXPECT_EQ(after([](auto& m) {
              workers(m).min = 0;
              workers(m).max = 9999;
            }),
            none);
  EXPECT_EQ(after([](auto& m) {
              workers(m).min = 9999;
              workers(m).max = 9999;
            }),
            none);
  EXPECT_EQ(after([](auto& m) { workers(m).min = -1; }),
            lines{"group[0].monitor.process[1].min: -1 is out of range 0..9999"});
  EXPECT_EQ(after([](auto& m) { workers(m).max = 0; }),
            lines{"group[0].monitor.process[1].max: 0 is out of range 1..9999"});
  EXPECT_EQ(after([](auto& m) { workers(m).max = 10000; }),
            lines{"group[0].monitor.process[1].max: 10000 is out of range 1..9999"});
  EXPECT_EQ(after([](auto& m) { workers(m).min = 10000; }),
            lines{"group[0].monitor.process[1].min: 10000 is out of range 0..9999"});
}

TEST_F(monitor_limits_test, multi_min_is_not_more_than_max) {
  EXPECT_EQ(after([](auto& m) { workers(m).min = workers(m).max; }), none);
  EXPECT_EQ(after([](auto& m) {
              workers(m).min = 5;
              workers(m).max = 3;
            }),
            lines{"group[0].monitor.process[1].max: 3 is less than min (5)"});
  EXPECT_TRUE(has_error(errors_of(replace_once(monitor_file(), "min = 2", "min = 9")),
                        "group[0].monitor.process[1].max", {"8 is less than min (9)"}));
}

TEST_F(monitor_limits_test, a_single_process_monitor_keeps_min_and_max_at_one) {
  EXPECT_EQ(after([](auto& m) { app(m).min = 2; }),
            lines{"group[0].monitor.process[0].min: 2 is only for multi = true (multi = false "
                  "expects exactly one process)"});
  EXPECT_EQ(after([](auto& m) { app(m).max = 0; }),
            lines{"group[0].monitor.process[0].max: 0 is only for multi = true (multi = false "
                  "expects exactly one process)"});
}

TEST_F(monitor_limits_test, recovery_needs_a_start_command) {
  EXPECT_EQ(after([](auto& m) { app(m).start.clear(); }),
            lines{"group[0].monitor.process[0].start: missing: required when recovery = true"});
  EXPECT_TRUE(
      has_error(errors_of(replace_once(monitor_file(),
                                       "start = \"" + start_script() + " --port 8080\"\n", "")),
                "group[0].monitor.process[0].start", {"required when recovery = true"}));
}

TEST_F(monitor_limits_test, start_is_refused_without_recovery) {
  EXPECT_EQ(after([](auto& m) { app(m).recovery = false; }),
            lines{"group[0].monitor.process[0].start: \"" + start_script() +
                  " --port 8080\" is only used with recovery = true"});
  EXPECT_EQ(after([&](auto& m) { workers(m).start = start_script(); }),
            lines{"group[0].monitor.process[1].start: \"" + start_script() +
                  "\" is only used with recovery = true"});
}

TEST_F(monitor_limits_test, start_command_holds_at_most_256_bytes) {
  std::string program = start_script() + " ";
  std::string at_limit = program + std::string(256 - program.size(), 'x');
  EXPECT_EQ(after([&](auto& m) { app(m).start = at_limit; }), none);
  EXPECT_EQ(
      after([&](auto& m) { app(m).start = at_limit + "x"; }),
      lines{"group[0].monitor.process[0].start: \"" + at_limit + "x\" is 257 bytes; at most 256"});
  EXPECT_EQ(after([&](auto& m) { app(m).start = start_script() + " --x\n"; }),
            lines{"group[0].monitor.process[0].start: \"" + start_script() +
                  " --x\\n\" contains a control character"});
}

TEST_F(monitor_limits_test, start_program_is_an_absolute_path_to_an_executable) {
  EXPECT_EQ(after([](auto& m) { app(m).start = "scripts/app-start.sh --port 8080"; }),
            lines{"group[0].monitor.process[0].start: \"scripts/app-start.sh --port 8080\": "
                  "program \"scripts/app-start.sh\" is not an absolute path"});
  EXPECT_EQ(after([](auto& m) { app(m).start = "   "; }),
            lines{"group[0].monitor.process[0].start: \"   \" names no program: its first word "
                  "must be an absolute path to an executable"});
  std::string missing = (dir_ / "scripts/nope.sh").string();
  EXPECT_EQ(after([&](auto& m) { app(m).start = missing; }),
            lines{"group[0].monitor.process[0].start: \"" + missing + "\" does not exist"});
  EXPECT_EQ(after([&](auto& m) { app(m).start = dir_.string() + " -v"; }),
            lines{"group[0].monitor.process[0].start: \"" + dir_.string() + " -v\": program \"" +
                  dir_.string() + "\" is not a regular file"});
  write_script("scripts/app-start.sh", false);
  EXPECT_EQ(errors_of(monitor_file()),
            lines{"group[0].monitor.process[0].start: \"" + start_script() +
                  " --port 8080\": program \"" + start_script() +
                  "\" is not executable: Permission denied"});
}

TEST_F(monitor_limits_test, run_as_user_must_exist_on_this_machine) {
  EXPECT_EQ(after([](auto& m) { app(m).user = "hasys-no-such-user"; }),
            lines{"group[0].monitor.process[0].user: \"hasys-no-such-user\" is not a user on this "
                  "machine"});
  EXPECT_EQ(after([](auto& m) { app(m).user.clear(); }), none);
}

TEST_F(monitor_limits_test, start_time_is_1_to_3600_seconds) {
  EXPECT_EQ(after([](auto& m) { app(m).start_time = 1s; }), none);
  EXPECT_EQ(after([](auto& m) { app(m).start_time = 3600s; }), none);
  EXPECT_EQ(after([](auto& m) { app(m).start_time = 999ms; }),
            lines{"group[0].monitor.process[0].start_time: 999ms is out of range: at least 1s and "
                  "at most 60m"});
  EXPECT_EQ(after([](auto& m) { app(m).start_time = 3601s; }),
            lines{"group[0].monitor.process[0].start_time: 3601s is out of range: at least 1s and "
                  "at most 60m"});
}

TEST_F(monitor_limits_test, retries_are_1_to_99) {
  EXPECT_EQ(after([](auto& m) { app(m).retries = 1; }), none);
  EXPECT_EQ(after([](auto& m) { app(m).retries = 99; }), none);
  EXPECT_EQ(after([](auto& m) { app(m).retries = 0; }),
            lines{"group[0].monitor.process[0].retries: 0 is out of range 1..99"});
  EXPECT_EQ(errors_of(replace_once(monitor_file(), "retries = 5", "retries = 100")),
            lines{"group[0].monitor.process[0].retries: 100 is out of range 1..99"});
}

TEST_F(monitor_limits_test, load_limit_is_1_to_100_percent) {
  EXPECT_EQ(after([](auto& m) { m.loads[0].limit_percent = 1; }), none);
  EXPECT_EQ(after([](auto& m) { m.loads[0].limit_percent = 100; }), none);
  EXPECT_EQ(after([](auto& m) { m.loads[0].limit_percent = 0; }),
            lines{"group[0].monitor.load[0].limit: 0 is out of range 1..100"});
  EXPECT_EQ(after([](auto& m) { m.loads[1].limit_percent = 101; }),
            lines{"group[0].monitor.load[1].limit: 101 is out of range 1..100"});
}

TEST_F(monitor_limits_test, load_repeat_is_1_to_99) {
  EXPECT_EQ(after([](auto& m) { m.loads[0].repeat = 1; }), none);
  EXPECT_EQ(after([](auto& m) { m.loads[0].repeat = 99; }), none);
  EXPECT_EQ(after([](auto& m) { m.loads[0].repeat = 0; }),
            lines{"group[0].monitor.load[0].repeat: 0 is out of range 1..99"});
  EXPECT_EQ(after([](auto& m) { m.loads[0].repeat = 100; }),
            lines{"group[0].monitor.load[0].repeat: 100 is out of range 1..99"});
}

TEST_F(monitor_limits_test, load_start_delay_is_1_to_3600_seconds) {
  EXPECT_EQ(after([](auto& m) { m.loads[1].start_delay = 1s; }), none);
  EXPECT_EQ(after([](auto& m) { m.loads[1].start_delay = 3600s; }), none);
  EXPECT_EQ(after([](auto& m) { m.loads[1].start_delay = 0s; }),
            lines{"group[0].monitor.load[1].start_delay: 0s is out of range: at least 1s and at "
                  "most 60m"});
  EXPECT_EQ(after([](auto& m) { m.loads[1].start_delay = 3601s; }),
            lines{"group[0].monitor.load[1].start_delay: 3601s is out of range: at least 1s and "
                  "at most 60m"});
}

TEST_F(monitor_limits_test, one_load_monitor_per_resource) {
  EXPECT_EQ(after([](auto& m) { m.loads[1].kind = load_kind::cpu; }),
            lines{"group[0].monitor.load[1].resource: \"cpu\" is already watched by "
                  "group[0].monitor.load[0]: one load monitor per resource"});
  EXPECT_EQ(errors_of(replace_once(monitor_file(), "resource = \"cpu\"", "resource = \"memory\"")),
            lines{"group[0].monitor.load[1].resource: \"memory\" is already watched by "
                  "group[0].monitor.load[0]: one load monitor per resource"});
}

TEST_F(monitor_limits_test, network_monitors_name_a_valid_interface_and_address) {
  EXPECT_EQ(after([](auto& m) { m.networks[0].ip = "2001:db8::11"; }), none);
  EXPECT_EQ(after([](auto& m) { m.networks[0].ip.clear(); }), none);
  EXPECT_EQ(after([](auto& m) { m.networks[0].ip = "198.51.100.300"; }),
            lines{"group[0].monitor.network[0].ip: \"198.51.100.300\" is not an IPv4 or IPv6 "
                  "address"});
  EXPECT_EQ(after([](auto& m) { m.networks[1].interface = "eth 1"; }),
            lines{"group[0].monitor.network[1].interface: \"eth 1\" is not an interface name: "
                  "1..15 bytes, no spaces, '/', ',' or '='"});
  EXPECT_EQ(after([](auto& m) { m.networks[1].interface = std::string(16, 'e'); }),
            lines{"group[0].monitor.network[1].interface: \"" + std::string(16, 'e') +
                  "\" is not an interface name: 1..15 bytes, no spaces, '/', ',' or '='"});
  EXPECT_EQ(after([](auto& m) { m.networks[1].interface.clear(); }),
            lines{"group[0].monitor.network[1].interface: missing (required)"});
}

TEST_F(monitor_limits_test, disk_monitors_watch_a_mount_point_of_the_flow_once) {  // D10
  EXPECT_EQ(after([](auto& m) { m.disks[1].mount_point = "/srv/drbd0/"; }), none);
  EXPECT_EQ(after([](auto& m) { m.disks[0].mount_point = "/srv/other"; }),
            lines{"group[0].monitor.disk[0].mount_point: \"/srv/other\" is not mounted by the "
                  "group's flow (no shared_disk or drbd node has it)"});
  EXPECT_EQ(after([](auto& m) { m.disks[1].mount_point = "/srv/data"; }),
            lines{"group[0].monitor.disk[1].mount_point: \"/srv/data\" is already watched by "
                  "group[0].monitor.disk[0]"});
  EXPECT_EQ(after([](auto& m) { m.disks[0].mount_point = "srv/data"; }),
            lines{"group[0].monitor.disk[0].mount_point: \"srv/data\" is not an absolute path"});
  EXPECT_EQ(after([](auto& m) { m.disks[0].mount_point.clear(); }),
            lines{"group[0].monitor.disk[0].mount_point: missing (required)"});
  EXPECT_EQ(after([](auto& m) { m.disks[1].name = "pub"; }),
            lines{"group[0].monitor.disk[1].name: \"pub\" is already the name of "
                  "group[0].monitor.network[0]"});
}

TEST_F(monitor_limits_test, unmount_confirmation_waits_count_in_the_flow_timeout) {  // D10
  auto r = parse_text(monitor_file());
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  node_config c = *r.config;
  group_config& g = c.groups[0];
  EXPECT_EQ(unmount_wait(g, "/srv/data"), 90s);
  EXPECT_EQ(unmount_wait(g, "/srv/data/"), 90s);
  EXPECT_EQ(unmount_wait(g, "/srv/drbd0"), 0s);  // unmount_confirm = false
  EXPECT_EQ(flow_time_needed(g), flow_time_needed(group_config{.flow = g.flow}) + 90s);
  g.flow_timeout = flow_time_needed(g) - 1s;
  EXPECT_TRUE(
      has_error(lines_of(validate(c)), "group[0].flow_timeout", {"unmount confirmation waits"}));
  g.flow_timeout = flow_time_needed(g);
  EXPECT_EQ(lines_of(validate(c)), none);
}

TEST_F(monitor_limits_test, every_broken_rule_is_said_together) {
  auto found = after([](auto& m) {
    m.period = 50ms;
    app(m).retries = 0;
    workers(m).name = "app";
    m.loads[0].repeat = 0;
    m.networks[0].ip = "x";
  });
  EXPECT_TRUE(has_error(found, "group[0].monitor.period", {"50ms"}));
  EXPECT_TRUE(has_error(found, "group[0].monitor.process[0].retries", {"0"}));
  EXPECT_TRUE(has_error(found, "group[0].monitor.process[1].name", {"\"app\""}));
  EXPECT_TRUE(has_error(found, "group[0].monitor.load[0].repeat", {"0"}));
  EXPECT_TRUE(has_error(found, "group[0].monitor.network[0].ip", {"\"x\""}));
  EXPECT_EQ(found.size(), 5U) << PrintToString(found);
}

}  // namespace
