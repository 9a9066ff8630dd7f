// Issue 9 in the netns lab: the name service (the lab's application) under a managed monitor on
// both nodes — killed and restarted (D6), killed for good (F7), unmanaged (D7), failing on both
// nodes (F11), on the Standby only, and a CPU hog over its limit (D9). Real processes, real
// hasys-monitor, hasys-executor and hasys-heartbeat; the VIP sampled, a client reading it.
#include "node_view.hpp"
#include "vip_watch.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cluster = hasys::cluster;
using hasys::lab::crash;
using hasys::lab::event_stream;
using hasys::lab::expect_serving;
using hasys::lab::expect_settled;
using hasys::lab::is_role_change;
using hasys::lab::lab;
using hasys::lab::status_of;
using hasys::lab::vip_watch;
using hasys::lab::wait_status;
using namespace std::chrono_literals;

namespace {

const std::string vip = "198.51.100.100";
constexpr auto settle = 10s;

// The application cannot be started again on this node (its start command fails).
void forbid_restart(const lab& l, const std::string& node) {
  std::ofstream(l.dir() / node / "web.nostart");
}

// Rewrites a node's configuration and restarts its monitor with it.
void edit_config(const lab& l, const std::string& node, const std::string& from,
                 const std::string& to) {
  const auto path = l.dir() / node / "node.toml";
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  auto s = text.str();
  const auto at = s.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
  std::ofstream(path, std::ios::trunc) << s;
  ASSERT_OK(l.run("kill", node, "monitor"));
  ASSERT_OK(l.run("start", node, "monitor"));
}

void append_config(const lab& l, const std::string& node, const std::string& toml) {
  std::ofstream(l.dir() / node / "node.toml", std::ios::app) << "\n" << toml << "\n";
  ASSERT_OK(l.run("kill", node, "monitor"));
  ASSERT_OK(l.run("start", node, "monitor"));
}

std::optional<std::string> text_of(event_stream& s, const std::string& code,
                                   std::chrono::milliseconds within) {
  auto e = s.wait_for(code, within);
  if (!e) return std::nullopt;
  return e->text;
}

}  // namespace

TEST(health, a_killed_application_is_restarted_on_the_active_which_keeps_its_role) {  // D6, F7
  SKIP_UNLESS_ROOT();
  lab l("hm1");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--healthy", "yes", "--peer-healthy", "yes"}, settle));
  event_stream ea(l, "a");
  ASSERT_OK(l.run("kill", "a", "web", "--signal", "KILL"));
  EXPECT_TRUE(ea.wait_for("process_down", 5s)) << ea.transcript();
  EXPECT_TRUE(ea.wait_for("process_start_ran", 10s)) << ea.transcript();
  EXPECT_TRUE(ea.wait_for("process_recovered", 10s)) << ea.transcript();
  for (auto& e : ea.collect_for(500ms)) EXPECT_FALSE(is_role_change(e)) << e.code << ": " << e.text;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "a"));
  EXPECT_EQ(w.longest_overlap(), 0ms);
}

TEST(health, an_application_that_cannot_be_restarted_fails_the_service_over_and_says_why) {  // F7
  SKIP_UNLESS_ROOT();
  lab l("hm2");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--healthy", "yes", "--peer-healthy", "yes"}, settle));
  event_stream ea(l, "a");
  forbid_restart(l, "a");
  ASSERT_OK(l.run("kill", "a", "web", "--signal", "KILL"));
  auto failed = text_of(ea, "process_failed", 10s);
  ASSERT_TRUE(failed) << ea.transcript();
  EXPECT_NE(failed->find("web.nostart"), std::string::npos)
      << *failed << ": the start command's own words";
  auto why = text_of(ea, "deactivating", 5s);
  ASSERT_TRUE(why) << ea.transcript();
  EXPECT_NE(why->find("process web"), std::string::npos) << *why;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby", "--healthy", "no"}, settle));
  EXPECT_EQ(w.longest_overlap(), 0ms) << "flow down on a, then up on b: never two holders";
}

TEST(health, an_unmanaged_application_only_raises_events) {  // D7
  SKIP_UNLESS_ROOT();
  lab l("hm3");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_NO_FATAL_FAILURE(edit_config(l, "a", "managed = true", "managed = false"));
  event_stream ea(l, "a");
  forbid_restart(l, "a");
  ASSERT_OK(l.run("kill", "a", "web", "--signal", "KILL"));
  auto e = ea.wait_for("process_failed", 10s);
  ASSERT_TRUE(e) << ea.transcript();
  EXPECT_EQ(e->level, cluster::severity::warning);
  for (auto& x : ea.collect_for(1s)) EXPECT_FALSE(is_role_change(x)) << x.code << ": " << x.text;
  auto s = status_of(l, "a");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->role, cluster::role::active);
  EXPECT_TRUE(s->healthy);
}

TEST(health, an_application_failing_on_both_nodes_keeps_the_service_where_it_is) {  // F11
  SKIP_UNLESS_ROOT();
  lab l("hm4");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  forbid_restart(l, "a");
  forbid_restart(l, "b");
  ASSERT_OK(l.run("kill", "b", "web", "--signal", "KILL"));
  ASSERT_TRUE(wait_status(l, "a", {"--peer-healthy", "no"}, settle));
  event_stream ea(l, "a");
  ASSERT_OK(l.run("kill", "a", "web", "--signal", "KILL"));
  auto kept = text_of(ea, "unhealthy_kept", 10s);
  ASSERT_TRUE(kept) << ea.transcript();
  EXPECT_NE(kept->find("node-b is no better"), std::string::npos) << *kept;
  for (auto& x : ea.collect_for(1s)) EXPECT_NE(x.code, "deactivating") << x.text;
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
  // And when the Active dies too, the unhealthy Standby still takes the service: not abandoned.
  event_stream eb(l, "b");
  ASSERT_NO_FATAL_FAILURE(crash(l, "a"));
  ASSERT_TRUE(eb.wait_for("activating", settle)) << eb.transcript();
  ASSERT_TRUE(eb.wait_for("unhealthy_kept", settle)) << eb.transcript();
  EXPECT_TRUE(w.wait_sole_holder("b", settle));
}

TEST(health, a_standby_whose_application_is_down_is_not_handed_the_service) {  // issue 9
  SKIP_UNLESS_ROOT();
  lab l("hm5");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  forbid_restart(l, "b");
  ASSERT_OK(l.run("kill", "b", "web", "--signal", "KILL"));
  ASSERT_TRUE(wait_status(l, "a", {"--peer-healthy", "no"}, settle));
  auto r = l.ctl("a", "failover");
  EXPECT_FALSE(r.ok()) << r.out;
  EXPECT_NE(r.out.find("health"), std::string::npos) << r.out;
  auto s = status_of(l, "a");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->role, cluster::role::active);
  // Once it recovers (the operator starts it), it may be: health is level-triggered.
  std::filesystem::remove(l.dir() / "b" / "web.nostart");
  ASSERT_OK(l.run("start", "b", "web"));
  ASSERT_TRUE(wait_status(l, "a", {"--peer-healthy", "yes"}, settle));
  r = l.ctl("a", "failover");
  EXPECT_TRUE(r.ok()) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
}

TEST(health, a_cpu_hog_over_the_limit_fails_over_but_not_within_the_start_delay) {  // D9
  SKIP_UNLESS_ROOT();
  lab l("hm6");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  // Only node a watches CPU. The lab's nodes share one kernel: b's monitor would see the same
  // figure, so b has no CPU monitor and stays healthy. One busy loop is 50% of this machine's
  // two cores.
  const std::string cpu_rule =
      "[[group.monitor.load]]\nresource = \"cpu\"\nlimit = 40\nrepeat = 3\nmanaged = true\n";
  ASSERT_NO_FATAL_FAILURE(append_config(l, "a", cpu_rule + "start_delay = \"3600s\"\n"));
  event_stream ea(l, "a");
  ASSERT_OK(l.run("cpuhog", "a", "on", "--seconds", "60"));
  for (auto& x : ea.collect_for(2s)) {
    EXPECT_NE(x.code, "cpu_over") << "inside the start delay nothing counts: " << x.text;
    EXPECT_FALSE(is_role_change(x)) << x.code << ": " << x.text;
  }
  ASSERT_NO_FATAL_FAILURE(edit_config(l, "a", "start_delay = \"3600s\"", "start_delay = \"1s\""));
  auto over = text_of(ea, "cpu_over", 10s);
  ASSERT_TRUE(over) << ea.transcript();
  EXPECT_NE(over->find("CPU usage is over the limit"), std::string::npos) << *over;
  auto why = text_of(ea, "deactivating", 5s);
  ASSERT_TRUE(why) << ea.transcript();
  EXPECT_NE(why->find("cpu"), std::string::npos) << *why;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_OK(l.run("cpuhog", "a", "off"));
  EXPECT_EQ(w.longest_overlap(), 0ms);
}

TEST(health, the_standby_readiness_check_flags_a_virtual_ip_answered_by_a_third_host) {  // issue 9
  SKIP_UNLESS_ROOT();
  lab l("hm7");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  auto r = l.ctl("b", "ready");
  EXPECT_TRUE(r.ok()) << r.out;
  EXPECT_NE(r.out.find("ready to take over"), std::string::npos) << r.out;
  // A third host (the gateway's namespace) starts answering for the virtual IP.
  ASSERT_OK(l.exec("gw", "ip addr add " + vip + "/32 dev eth0", 5s));
  r = l.ctl("b", "ready");
  l.exec("gw", "ip addr del " + vip + "/32 dev eth0", 5s);
  EXPECT_FALSE(r.ok()) << r.out;
  EXPECT_NE(r.out.find("answered by another host"), std::string::npos) << r.out;
  auto s = status_of(l, "b");
  ASSERT_TRUE(s);
  EXPECT_NE(s->flow.ready.find("answered by another host"), std::string::npos) << s->flow.ready;
  // Nothing moved: the check touches nothing.
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
  r = l.ctl("b", "ready");
  EXPECT_TRUE(r.ok()) << r.out;
}

TEST(health,
     a_monitor_with_reboot_after_failover_reboots_the_old_active_once_it_handed_over) {  // D13
  SKIP_UNLESS_ROOT();
  lab l("hm8");
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_NO_FATAL_FAILURE(
      edit_config(l, "a", "retries = 2", "retries = 2\nreboot_after_failover = true"));
  ASSERT_TRUE(wait_status(l, "a", {"--healthy", "yes"}, settle));
  event_stream ea(l, "a");
  forbid_restart(l, "a");
  ASSERT_OK(l.run("kill", "a", "web", "--signal", "KILL"));
  auto reboot = ea.wait_for("node_reboot", settle);
  ASSERT_TRUE(reboot) << ea.transcript();
  EXPECT_NE(reboot->text.find("process web"), std::string::npos) << reboot->text;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  std::ifstream rebooted(l.dir() / "a" / "rebooted");
  std::string line;
  ASSERT_TRUE(std::getline(rebooted, line)) << "the lab's reboot stand-in was not run";
  EXPECT_NE(line.find("process web"), std::string::npos) << line;
  EXPECT_FALSE(std::getline(rebooted, line)) << "rebooted twice: " << line;
  EXPECT_EQ(w.longest_overlap(), 0ms);
}
