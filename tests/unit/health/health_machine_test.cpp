// The monitor's verdict machine, rule by rule (issue 9: D4-D10, D6 recovery, D7 ALL/ONE).
#include <hasys/health/health_machine.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace hasys::health {
namespace {

using namespace std::chrono_literals;

process_rule app(std::string name = "web", bool managed = true) {
  process_rule r;
  r.name = std::move(name);
  r.what = "name \"" + r.name + "\"";
  r.managed = managed;
  r.only_when_active = false;
  r.start_time = 5s;
  r.retries = 2;
  return r;
}

// A machine with a clock, fed inputs one by one; keeps every action.
struct rig {
  params p;
  time_point now{std::chrono::seconds(1000)};
  state s;
  std::vector<action> all;
  std::vector<action> last;

  explicit rig(params pp) : p(std::move(pp)), s(initial_state(p, now)) {}

  const std::vector<action>& feed(const input& in) {
    auto t = step(p, s, in, now);
    s = std::move(t.next);
    last = std::move(t.actions);
    all.insert(all.end(), last.begin(), last.end());
    return last;
  }
  void advance(duration d) {
    now += d;
    feed(tick{});
  }
  template <class A>
  std::vector<A> of(const std::vector<action>& acts) const {
    std::vector<A> out;
    for (const auto& a : acts)
      if (auto* x = std::get_if<A>(&a)) out.push_back(*x);
    return out;
  }
  std::vector<std::string> codes(const std::vector<action>& acts) const {
    std::vector<std::string> out;
    for (const auto& e : of<raise_event>(acts)) out.push_back(e.code);
    return out;
  }
  std::optional<verdict> published(const std::vector<action>& acts) const {
    auto p = of<publish>(acts);
    if (p.empty()) return std::nullopt;
    return p.back().v;
  }
  process_phase phase(std::size_t i = 0) const { return s.processes[i].phase; }
};

params one_app(process_rule r = app()) {
  params p;
  p.node = "node-a";
  p.processes.push_back(std::move(r));
  return p;
}

TEST(health_machine, nothing_is_published_before_the_first_scan_and_a_running_process_is_healthy) {
  rig m(one_app());
  EXPECT_FALSE(m.published(m.feed(tick{})));
  auto v = m.published(m.feed(scanned{{{42}}}));
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->healthy);
  EXPECT_EQ(m.phase(), process_phase::up);
  EXPECT_TRUE(m.codes(m.last).empty()) << "a process found running is not news";
}

TEST(health_machine, the_exit_of_a_watched_pid_is_a_failure_at_once_without_waiting_for_a_scan) {
  rig m(one_app());  // managed, no recovery
  m.feed(scanned{{{42}}});
  auto& acts = m.feed(exited{42});
  auto v = m.published(acts);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_EQ(v->failing_managed, 1);
  EXPECT_NE(v->reason.find("process web"), std::string::npos) << v->reason;
  EXPECT_NE(v->reason.find("0 running"), std::string::npos) << v->reason;
  EXPECT_EQ(m.codes(acts), (std::vector<std::string>{"process_down", "process_failed"}));
  EXPECT_EQ(m.of<raise_event>(acts).back().level, severity::critical);
}

TEST(health_machine, a_scan_begun_before_an_exit_does_not_bring_the_dead_pid_back) {
  auto r = app();
  r.recovery = true;
  rig m(one_app(r));
  m.feed(scanned{{{42}}, m.now});
  const auto scan_began = m.now;
  m.now += 5ms;
  m.feed(exited{42});  // seen while a scan runs on the worker
  ASSERT_EQ(m.phase(), process_phase::recovering);
  m.now += 5ms;
  auto& acts = m.feed(scanned{{{42}}, scan_began});  // that scan still lists it
  EXPECT_EQ(m.phase(), process_phase::recovering) << "a stale scan is no recovery";
  EXPECT_TRUE(m.codes(acts).empty());
  m.now += 100ms;
  m.feed(scanned{{{43}}, m.now - 1ms});  // the restarted process, in a scan begun after the exit
  EXPECT_EQ(m.phase(), process_phase::up);
  EXPECT_TRUE(m.s.exits.empty()) << "exits older than the latest scan's start are forgotten";
}

TEST(health_machine, an_unrelated_pid_exit_changes_nothing) {
  rig m(one_app());
  m.feed(scanned{{{42}}});
  EXPECT_TRUE(m.feed(exited{7}).empty());
  EXPECT_EQ(m.phase(), process_phase::up);
}

TEST(health_machine,
     recovery_asks_for_a_restart_and_a_process_back_within_its_start_time_is_healthy) {
  auto r = app();
  r.recovery = true;
  rig m(one_app(r));
  m.feed(scanned{{{42}}});
  auto& acts = m.feed(exited{42});
  auto restarts = m.of<restart_process>(acts);
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_EQ(restarts[0].attempt, 1);
  EXPECT_EQ(m.phase(), process_phase::recovering);
  EXPECT_FALSE(m.published(acts)) << "recovering is not yet down: no failover while it restarts";
  EXPECT_EQ(m.of<scan_now>(m.feed(restart_done{0, 1, true, "ran"})).size(), 1u);
  m.now += 300ms;
  auto& back = m.feed(scanned{{{43}}});
  EXPECT_EQ(m.phase(), process_phase::up);
  EXPECT_EQ(m.codes(back), std::vector<std::string>{"process_recovered"});
  EXPECT_FALSE(m.published(back)) << "it never stopped being healthy";
}

TEST(health_machine, after_a_start_command_ran_it_looks_again_soon_then_less_often) {
  auto r = app();
  r.recovery = true;
  r.start_time = 5s;
  rig m(one_app(r));
  m.feed(scanned{{{42}}});
  m.feed(exited{42});
  EXPECT_EQ(m.of<scan_now>(m.feed(restart_done{0, 1, true, "ran"})).size(), 1u);
  std::vector<duration> asked;
  const auto ran = m.now;
  for (int i = 0; i < 5; ++i) {
    m.now = next_deadline(m.p, m.s);
    m.feed(tick{});
    if (!m.of<scan_now>(m.last).empty()) asked.push_back(m.now - ran);
  }
  EXPECT_EQ(asked, (std::vector<duration>{25ms, 75ms, 175ms, 375ms, 775ms}));
  m.feed(scanned{{{43}}});
  EXPECT_EQ(m.phase(), process_phase::up);
  EXPECT_EQ(next_deadline(m.p, m.s), time_point::max()) << "no more looks once it runs";
}

TEST(health_machine,
     a_start_command_that_fails_is_retried_up_to_the_retry_count_then_declared_down) {
  auto r = app();
  r.recovery = true;
  r.retries = 3;
  rig m(one_app(r));
  m.feed(scanned{{{42}}});
  m.feed(exited{42});
  m.feed(restart_done{0, 1, false, "exit 1: disk full"});
  ASSERT_EQ(m.of<restart_process>(m.last).size(), 1u);
  EXPECT_EQ(m.of<restart_process>(m.last)[0].attempt, 2);
  m.feed(restart_done{0, 2, false, "exit 1: disk full"});
  EXPECT_EQ(m.of<restart_process>(m.last)[0].attempt, 3);
  auto& acts = m.feed(restart_done{0, 3, false, "exit 1: disk full"});
  EXPECT_TRUE(m.of<restart_process>(acts).empty());
  EXPECT_EQ(m.phase(), process_phase::down);
  auto v = m.published(acts);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_NE(v->reason.find("3 restarts did not bring it back"), std::string::npos) << v->reason;
  EXPECT_NE(v->reason.find("disk full"), std::string::npos) << v->reason;
}

TEST(health_machine, a_restart_that_runs_but_never_brings_the_process_counts_at_its_start_time) {
  auto r = app();
  r.recovery = true;
  r.retries = 1;
  rig m(one_app(r));
  m.feed(scanned{{{42}}});
  m.feed(exited{42});
  m.feed(restart_done{0, 1, true, "ran"});
  m.advance(4s);
  EXPECT_EQ(m.phase(), process_phase::recovering);
  EXPECT_LE(next_deadline(m.p, m.s), m.now + 1s) << "a look again, or the start time";
  m.advance(1s);
  EXPECT_EQ(m.phase(), process_phase::down);
  EXPECT_EQ(next_deadline(m.p, m.s), time_point::max());
}

TEST(health_machine, an_unanswered_restart_counts_as_failed_at_its_start_time) {
  auto r = app();
  r.recovery = true;
  r.retries = 2;
  rig m(one_app(r));
  m.feed(scanned{{{42}}});
  m.feed(exited{42});
  m.advance(5s);
  auto restarts = m.of<restart_process>(m.last);
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_EQ(restarts[0].attempt, 2);
  m.feed(restart_done{0, 1, true, "late answer to attempt 1"});
  EXPECT_TRUE(m.last.empty()) << "an answer to an older attempt is ignored";
  m.advance(5s);
  EXPECT_EQ(m.phase(), process_phase::down);
  EXPECT_NE(m.s.processes[0].last_start.find("did not answer"), std::string::npos);
}

TEST(health_machine, a_down_process_that_comes_back_is_healthy_again_with_an_event) {
  rig m(one_app());
  m.feed(scanned{{{42}}});
  m.feed(exited{42});
  auto& acts = m.feed(scanned{{{50}}});
  EXPECT_EQ(m.codes(acts), std::vector<std::string>{"process_up"});
  auto v = m.published(acts);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->healthy);
}

TEST(health_machine, several_matches_of_a_single_monitor_count_as_running_and_are_warned_once) {
  rig m(one_app());
  auto& acts = m.feed(scanned{{{42, 43, 44}}});
  EXPECT_EQ(m.codes(acts), std::vector<std::string>{"process_ambiguous"});
  EXPECT_TRUE(m.published(acts)->healthy);
  EXPECT_TRUE(m.codes(m.feed(scanned{{{42, 43}}})).empty());
  m.feed(scanned{{{42}}});
  EXPECT_EQ(m.codes(m.feed(scanned{{{42, 45}}})), std::vector<std::string>{"process_ambiguous"});
}

TEST(health_machine, a_multi_process_monitor_is_healthy_only_within_min_and_max) {
  auto r = app();
  r.multi = true;
  r.min = 2;
  r.max = 3;
  rig m(one_app(r));
  EXPECT_TRUE(m.published(m.feed(scanned{{{1, 2}}}))->healthy);
  EXPECT_FALSE(m.feed(exited{1}).empty());
  EXPECT_FALSE(m.published(m.last)->healthy);
  EXPECT_NE(m.published(m.last)->reason.find("1 running, min 2"), std::string::npos);
  EXPECT_TRUE(m.published(m.feed(scanned{{{1, 2, 3}}}))->healthy);
  auto v = m.published(m.feed(scanned{{{1, 2, 3, 4}}}));
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_NE(v->reason.find("4 running, max 3"), std::string::npos) << v->reason;
}

TEST(health_machine, too_many_processes_are_not_restarted) {
  auto r = app();
  r.multi = true;
  r.min = 1;
  r.max = 2;
  r.recovery = true;
  rig m(one_app(r));
  m.feed(scanned{{{1, 2, 3}}});
  EXPECT_TRUE(m.of<restart_process>(m.last).empty());
  EXPECT_EQ(m.phase(), process_phase::down);
}

TEST(health_machine, an_unmanaged_process_raises_events_but_never_makes_the_node_unhealthy) {
  rig m(one_app(app("log", false)));
  m.feed(scanned{{{42}}});
  auto& acts = m.feed(exited{42});
  EXPECT_EQ(m.codes(acts), (std::vector<std::string>{"process_down", "process_failed"}));
  EXPECT_EQ(m.of<raise_event>(acts).back().level, severity::warning);
  auto v = m.published(acts);
  ASSERT_TRUE(v) << "the findings changed";
  EXPECT_TRUE(v->healthy);
  EXPECT_EQ(v->findings.size(), 1u);
  EXPECT_FALSE(v->findings[0].managed);
}

TEST(health_machine, policy_one_fails_on_any_managed_process_and_all_only_when_every_one_is_down) {
  for (auto pol : {policy::one, policy::all}) {
    params p;
    p.processes = {app("a"), app("b")};
    p.process_policy = pol;
    rig m(p);
    m.feed(scanned{{{1}, {2}}});
    m.feed(exited{1});
    EXPECT_EQ(judge(m.p, m.s).healthy, pol == policy::all) << "one of two down";
    m.feed(exited{2});
    EXPECT_FALSE(judge(m.p, m.s).healthy) << "both down";
    EXPECT_EQ(judge(m.p, m.s).failing_managed, 2);
  }
}

TEST(health_machine, an_active_only_process_is_not_expected_on_a_standby) {
  auto r = app();
  r.only_when_active = true;
  rig m(one_app(r));
  m.feed(role_seen{false});
  auto v = m.published(m.feed(scanned{{{}}}));
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->healthy);
  EXPECT_EQ(m.phase(), process_phase::idle);
}

TEST(health_machine, a_node_that_becomes_active_gives_the_flow_started_process_its_start_time) {
  auto r = app();
  r.only_when_active = true;
  rig m(one_app(r));
  m.feed(role_seen{false});
  m.feed(scanned{{{}}});
  m.feed(role_seen{true});
  EXPECT_EQ(m.phase(), process_phase::starting);
  m.now += 1s;
  m.feed(scanned{{{}}});
  EXPECT_EQ(m.phase(), process_phase::starting) << "still inside its start time";
  m.advance(4s);
  EXPECT_EQ(m.phase(), process_phase::down);
  EXPECT_NE(m.s.processes[0].last_start.find("start time"), std::string::npos);
}

TEST(health_machine, going_standby_stops_a_recovery_in_progress) {
  auto r = app();
  r.only_when_active = true;
  r.recovery = true;
  rig m(one_app(r));
  m.feed(role_seen{true});
  m.feed(scanned{{{42}}});
  m.feed(exited{42});
  ASSERT_EQ(m.phase(), process_phase::recovering);
  m.feed(role_seen{false});
  EXPECT_EQ(m.phase(), process_phase::idle);
  EXPECT_TRUE(m.feed(restart_done{0, 1, false, "x"}).empty());
  EXPECT_EQ(next_deadline(m.p, m.s), time_point::max());
}

TEST(health_machine, a_monitor_started_on_an_active_whose_process_is_gone_judges_it_at_once) {
  auto r = app();
  r.only_when_active = true;
  rig m(one_app(r));
  m.feed(scanned{{{}}});  // role not known yet: not judged
  EXPECT_TRUE(judge(m.p, m.s).healthy);
  m.feed(role_seen{true});
  EXPECT_EQ(m.phase(), process_phase::down)
      << "no start-time grace: the flow did not just start it";
}

TEST(health_machine, load_over_the_limit_for_the_repeat_count_fails_and_one_sample_under_clears) {
  params p;
  load_rule l;
  l.kind = load_kind::cpu;
  l.limit_percent = 90;
  l.repeat = 3;
  l.start_delay = 10s;
  l.managed = true;
  p.loads.push_back(l);
  rig m(p);
  for (int i = 0; i < 5; ++i) {  // inside the start delay: not counted
    m.now += 1s;
    m.feed(load_sampled{99, 10});
  }
  EXPECT_TRUE(judge(m.p, m.s).healthy);
  EXPECT_EQ(m.s.loads[0].over, 0);
  m.now += 6s;
  m.feed(load_sampled{95, 10});
  m.feed(load_sampled{91, 10});
  m.feed(load_sampled{50, 10});  // the run is broken
  m.feed(load_sampled{95, 10});
  m.feed(load_sampled{95, 10});
  EXPECT_TRUE(judge(m.p, m.s).healthy);
  auto& acts = m.feed(load_sampled{90, 10});  // at the limit counts
  EXPECT_EQ(m.codes(acts), std::vector<std::string>{"cpu_over"});
  auto v = m.published(acts);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_NE(v->reason.find("90% >= 90% for 3 samples"), std::string::npos) << v->reason;
  auto& back = m.feed(load_sampled{20, 10});
  EXPECT_EQ(m.codes(back), std::vector<std::string>{"cpu_normal"});
  EXPECT_TRUE(m.published(back)->healthy);
}

TEST(health_machine, memory_is_judged_on_its_own_figure) {
  params p;
  load_rule l;
  l.kind = load_kind::memory;
  l.limit_percent = 80;
  l.repeat = 1;
  l.start_delay = 1s;
  l.managed = true;
  p.loads.push_back(l);
  rig m(p);
  m.now += 2s;
  m.feed(load_sampled{100, 50});
  EXPECT_TRUE(judge(m.p, m.s).healthy);
  m.feed(load_sampled{std::nullopt, 85});
  EXPECT_FALSE(judge(m.p, m.s).healthy);
}

TEST(health_machine, networks_follow_their_policy_and_say_why) {
  params p;
  p.networks = {{"svc", "eth0", true}, {"bak", "eth1", true}};
  p.network_policy = policy::all;
  rig m(p);
  m.feed(network_seen{0, true, ""});
  EXPECT_TRUE(m.last.empty()) << "not published before every network was looked at";
  EXPECT_TRUE(m.published(m.feed(network_seen{1, true, ""}))->healthy);
  auto& one = m.feed(network_seen{0, false, "eth0 has no carrier"});
  EXPECT_EQ(m.codes(one), std::vector<std::string>{"network_down"});
  EXPECT_TRUE(judge(m.p, m.s).healthy) << "ALL: one of two is not enough";
  auto v = m.published(m.feed(network_seen{1, false, "eth1 is down"}));
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_NE(v->reason.find("eth0 has no carrier"), std::string::npos);
  EXPECT_NE(v->reason.find("eth1 is down"), std::string::npos);
  EXPECT_EQ(m.codes(m.feed(network_seen{1, true, ""})), std::vector<std::string>{"network_up"});
}

TEST(health_machine,
     a_failing_managed_monitor_with_reboot_after_failover_says_so_in_the_verdict) {  // D13
  auto r = app();
  r.reboot_after_failover = true;
  rig m(one_app(r));
  m.feed(scanned{{{42}}});
  EXPECT_FALSE(m.published(m.last)->reboot_after_failover);
  auto v = m.published(m.feed(exited{42}));
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_TRUE(v->reboot_after_failover);
  EXPECT_FALSE(m.published(m.feed(scanned{{{43}}}))->reboot_after_failover);
}

TEST(health_machine,
     a_managed_mount_point_that_disappears_on_the_active_fails_and_says_why) {  // D10
  params p;
  p.node = "node-a";
  p.disks = {{"data", "/srv/data", true}};
  rig m(p);
  m.feed(role_seen{true});
  EXPECT_TRUE(m.last.empty()) << "not published before the mount table was read";
  EXPECT_TRUE(m.published(m.feed(mounts_seen{{true}}))->healthy);
  auto& gone = m.feed(mounts_seen{{false}});
  EXPECT_EQ(m.codes(gone), std::vector<std::string>{"disk_unmounted"});
  EXPECT_EQ(m.of<raise_event>(gone).at(0).level, severity::critical);
  auto v = m.published(gone);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_EQ(v->failing_managed, 1);
  EXPECT_EQ(v->reason, "disk data: /srv/data is not mounted");
  EXPECT_TRUE(m.feed(mounts_seen{{false}}).empty()) << "said once";
  auto& back = m.feed(mounts_seen{{true}});
  EXPECT_EQ(m.codes(back), std::vector<std::string>{"disk_mounted"});
  EXPECT_TRUE(m.published(back)->healthy);
}

TEST(health_machine, a_mount_point_is_expected_only_while_active) {  // D10
  params p;
  p.disks = {{"data", "/srv/data", true}};
  rig m(p);
  m.feed(role_seen{false});
  EXPECT_TRUE(m.published(m.feed(mounts_seen{{false}}))->healthy) << "a Standby mounts nothing";
  auto& active = m.feed(role_seen{true});
  EXPECT_EQ(m.codes(active), std::vector<std::string>{"disk_unmounted"})
      << "Active with its flow up and the mount point not mounted";
  EXPECT_FALSE(m.published(active)->healthy);
  auto& standby = m.feed(role_seen{false});
  EXPECT_TRUE(m.codes(standby).empty()) << "handing over is not a recovery to announce";
  EXPECT_TRUE(m.published(standby)->healthy);
}

TEST(health_machine, an_unmanaged_mount_point_only_warns) {  // D10, D7
  params p;
  p.disks = {{"logs", "/srv/logs", false}};
  rig m(p);
  m.feed(role_seen{true});
  m.feed(mounts_seen{{true}});
  auto& gone = m.feed(mounts_seen{{false}});
  EXPECT_EQ(m.of<raise_event>(gone).at(0).level, severity::warning);
  auto v = judge(m.p, m.s);
  EXPECT_TRUE(v.healthy);
  ASSERT_EQ(v.findings.size(), 1U);
  EXPECT_EQ(v.findings[0].monitor, "disk logs");
  EXPECT_FALSE(v.findings[0].managed);
}

TEST(health_machine, drbd_is_said_when_it_changes_and_never_fails_the_node_over) {  // D11
  params p;
  p.drbd = {{"data", "r0"}};
  rig m(p);
  drbd_resource_status ok{"r0",
                          "Primary",
                          "UpToDate",
                          {{"node-b", "Connected", "Secondary", "Established", "UpToDate", 0}}};
  auto& first = m.feed(drbd_seen{0, ok, ""});
  EXPECT_EQ(m.codes(first), std::vector<std::string>{"drbd_normal"})
      << "the seed says so at the start too";
  EXPECT_TRUE(m.codes(m.feed(drbd_seen{0, ok, ""})).empty()) << "only when it changes";
  auto apart = ok;
  apart.peers[0].connection = "StandAlone";
  auto& down = m.feed(drbd_seen{0, apart, ""});
  ASSERT_EQ(m.codes(down), (std::vector<std::string>{"drbd_abnormal", "drbd_reconnecting"}));
  EXPECT_NE(m.of<raise_event>(down)[0].text.find("node-b StandAlone"), std::string::npos);
  auto v = judge(m.p, m.s);
  EXPECT_TRUE(v.healthy) << "a stale peer copy is no reason to move the service";
  ASSERT_EQ(v.findings.size(), 1u);
  EXPECT_EQ(v.findings[0].monitor, "drbd r0");
  EXPECT_FALSE(v.findings[0].managed);
  auto& unreadable = m.feed(drbd_seen{0, std::nullopt, "exit 10: Connection refused"});
  EXPECT_TRUE(m.codes(unreadable).empty()) << "still abnormal";
  EXPECT_NE(judge(m.p, m.s).findings[0].evidence.find("cannot read DRBD's status"),
            std::string::npos);
  EXPECT_EQ(m.codes(m.feed(drbd_seen{0, ok, ""})), std::vector<std::string>{"drbd_normal"});
}

TEST(
    health_machine,
    a_standalone_drbd_resource_is_reconnected_at_once_then_every_interval_up_to_the_count) {  // D11
  params p;
  p.drbd = {{"data", "r0", 2, 30s}};
  rig m(p);
  drbd_resource_status apart{
      "r0", "Primary", "UpToDate", {{"node-b", "StandAlone", "", "", "", 0}}};
  auto& first = m.feed(drbd_seen{0, apart, ""});
  auto asks = m.of<reconnect_drbd>(first);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].attempt, 1);
  EXPECT_EQ(m.codes(first), (std::vector<std::string>{"drbd_abnormal", "drbd_reconnecting"}));
  m.now += 1s;
  EXPECT_TRUE(m.of<reconnect_drbd>(m.feed(drbd_seen{0, apart, ""})).empty()) << "one out at a time";
  m.feed(drbd_reconnect_done{0, 1, true, "exit 0"});
  m.now += 10s;
  EXPECT_TRUE(m.of<reconnect_drbd>(m.feed(drbd_seen{0, apart, ""})).empty())
      << "not before the interval";
  m.now += 20s;
  EXPECT_EQ(m.of<reconnect_drbd>(m.feed(drbd_seen{0, apart, ""})).size(), 1u);
  m.feed(drbd_reconnect_done{0, 2, false, "exit 10"});
  m.now += 30s;
  auto& gave_up = m.feed(drbd_seen{0, apart, ""});
  EXPECT_TRUE(m.of<reconnect_drbd>(gave_up).empty());
  EXPECT_EQ(m.codes(gave_up), std::vector<std::string>{"drbd_reconnect_failed"});
  m.now += 30s;
  EXPECT_TRUE(m.codes(m.feed(drbd_seen{0, apart, ""})).empty()) << "said once";
  // Connected again (the operator, or DRBD itself): the next outage gets its own attempts.
  drbd_resource_status ok{"r0",
                          "Primary",
                          "UpToDate",
                          {{"node-b", "Connected", "Secondary", "Established", "UpToDate", 0}}};
  EXPECT_EQ(m.codes(m.feed(drbd_seen{0, ok, ""})), std::vector<std::string>{"drbd_normal"});
  EXPECT_EQ(m.of<reconnect_drbd>(m.feed(drbd_seen{0, apart, ""})).size(), 1u);
}

TEST(health_machine, a_drbd_resource_still_connecting_by_itself_is_not_pushed) {  // D11
  params p;
  p.drbd = {{"data", "r0", 6, 30s}};
  rig m(p);
  drbd_resource_status trying{
      "r0", "Primary", "UpToDate", {{"node-b", "Connecting", "", "", "", 0}}};
  auto& acts = m.feed(drbd_seen{0, trying, ""});
  EXPECT_TRUE(m.of<reconnect_drbd>(acts).empty()) << "DRBD reconnects on its own until StandAlone";
  EXPECT_EQ(m.codes(acts), std::vector<std::string>{"drbd_abnormal"});
}

TEST(health_machine, the_same_verdict_is_not_published_twice) {
  rig m(one_app());
  m.feed(scanned{{{42}}});
  EXPECT_FALSE(m.published(m.feed(scanned{{{42}}})));
  EXPECT_FALSE(m.published(m.feed(tick{})));
}

}  // namespace
}  // namespace hasys::health
