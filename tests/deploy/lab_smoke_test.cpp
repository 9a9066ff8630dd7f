// Smoke test of the netns lab (deploy/lab/hasys-lab) through the lab fixture: the topology
// carries traffic, every fault command acts, and down leaves nothing behind.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <regex>
#include <thread>

#include "lab.hpp"

using hasys::lab::command_result;
using hasys::lab::lab;
using hasys::lab::run_command;
using hasys::lab::up_options;
using namespace std::chrono_literals;

namespace {

up_options network_only() {
  up_options o;
  o.daemons = false;
  return o;
}

// Polls until check() holds or the deadline passes (link state changes are not instant events).
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds deadline = 5s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!check()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

bool pings(const lab& l, const std::string& from, const std::string& to) {
  return l.exec(from, "ping -c 1 -W 1 " + to, 5s).ok();
}

// Minimum round-trip time in ms of three pings, or -1.
double min_rtt_ms(const lab& l, const std::string& from, const std::string& to) {
  auto r = l.exec(from, "ping -c 3 -i 0.2 -W 2 " + to, 10s);
  std::smatch m;
  static const std::regex rtt(R"(rtt min/avg/max/mdev = ([0-9.]+)/)");
  return std::regex_search(r.out, m, rtt) ? std::stod(m[1]) : -1.0;
}

std::string lab_namespaces(const std::string& prefix) {
  auto r = run_command({"ip", "netns", "list"}, 10s);
  std::string left;
  std::regex mine("^" + prefix + "-\\S+", std::regex::multiline);
  for (std::sregex_iterator i(r.out.begin(), r.out.end(), mine), end; i != end; ++i) {
    left += i->str() + " ";
  }
  return left;
}

// What the client (gw namespace) reads from a TCP service at address:8080, within 2 s.
std::string client_reads(const lab& l, const std::string& address) {
  auto r = l.exec("gw", "timeout 2 bash -c 'exec 3<>/dev/tcp/" + address + "/8080; cat <&3'", 5s);
  return r.ok() ? r.out : "";
}

TEST(lab_smoke, network_reaches_every_node_and_link_netem_and_gateway_faults_act) {
  if (auto why = lab::skip_unless_root()) GTEST_SKIP() << *why;
  std::optional<lab> l;
  l.emplace("ls1", network_only());

  for (const char* node : {"198.51.100.11", "198.51.100.12", "198.51.100.10"}) {
    EXPECT_TRUE(pings(*l, "gw", node)) << "gw -> " << node;
  }
  EXPECT_TRUE(pings(*l, "a", "192.0.2.12")) << "a -> b on hb";

  ASSERT_TRUE(l->run("link", "a", "hb", "down").ok());
  EXPECT_FALSE(pings(*l, "a", "192.0.2.12")) << "hb link of a is down";
  EXPECT_TRUE(pings(*l, "a", "198.51.100.12")) << "pub still works";
  ASSERT_TRUE(l->run("link", "a", "hb", "up").ok());
  EXPECT_TRUE(eventually([&] { return pings(*l, "a", "192.0.2.12"); }));

  ASSERT_TRUE(l->run("link", "b", "pub", "down", "--side", "switch").ok());
  EXPECT_FALSE(pings(*l, "a", "198.51.100.12")) << "switch port of b is down";
  ASSERT_TRUE(l->run("link", "b", "pub", "up", "--side", "switch").ok());
  EXPECT_TRUE(eventually([&] { return pings(*l, "a", "198.51.100.12"); }));

  EXPECT_LT(min_rtt_ms(*l, "gw", "198.51.100.11"), 20.0);
  auto netem = l->run("netem", "a", "pub", "delay", "100ms");
  ASSERT_TRUE(netem.ok()) << netem.out;
  EXPECT_GE(min_rtt_ms(*l, "gw", "198.51.100.11"), 95.0) << netem.out;
  ASSERT_TRUE(l->run("netem", "a", "pub", "clear").ok());
  EXPECT_LT(min_rtt_ms(*l, "gw", "198.51.100.11"), 20.0);

  ASSERT_TRUE(l->run("gateway", "down").ok());
  EXPECT_FALSE(pings(*l, "a", "198.51.100.1"));
  EXPECT_FALSE(pings(*l, "b", "198.51.100.1"));
  EXPECT_TRUE(pings(*l, "a", "198.51.100.50")) << "the client stays when the gateway goes";
  ASSERT_TRUE(l->run("gateway", "up").ok());
  EXPECT_TRUE(eventually([&] { return pings(*l, "a", "198.51.100.1"); }));

  l.reset();
  EXPECT_EQ(lab_namespaces("ls1"), "");
}

TEST(lab_smoke, client_follows_the_virtual_ip_to_the_node_that_announces_it) {
  if (auto why = lab::skip_unless_root()) GTEST_SKIP() << *why;
  lab l("ls2", network_only());
  EXPECT_EQ(client_reads(l, "198.51.100.11"), "node-a\n");
  EXPECT_EQ(client_reads(l, "198.51.100.12"), "node-b\n");

  const std::string take = "ip addr add 198.51.100.100/24 dev eth0 && "
                           "arping -q -U -c 1 -I eth0 198.51.100.100";
  const std::string drop = "ip addr del 198.51.100.100/24 dev eth0";
  ASSERT_TRUE(l.exec("a", take).ok());
  EXPECT_EQ(client_reads(l, "198.51.100.100"), "node-a\n");
  ASSERT_TRUE(l.exec("a", drop).ok());
  ASSERT_TRUE(l.exec("b", take).ok());
  EXPECT_TRUE(eventually([&] { return client_reads(l, "198.51.100.100") == "node-b\n"; }, 3s));
}

TEST(lab_smoke, node_bus_needs_credentials_and_is_not_reachable_from_the_network) {
  if (auto why = lab::skip_unless_root()) GTEST_SKIP() << *why;
  lab l("ls3");
  ASSERT_TRUE(l.node_pid("a", "nats").has_value()) << l.up_output();
  ASSERT_TRUE(l.node_pid("b", "nats").has_value()) << l.up_output();
  auto anonymous = l.exec("a", "timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222; "
                               "printf \"CONNECT {}\\r\\nPING\\r\\n\" >&3; cat <&3'");
  EXPECT_NE(anonymous.out.find("Authorization Violation"), std::string::npos) << anonymous.out;
  auto from_client = l.exec("gw", "timeout 2 bash -c 'exec 3<>/dev/tcp/198.51.100.11/4222'");
  EXPECT_FALSE(from_client.ok()) << "the node bus must listen on loopback only";
  auto status = l.run("status");
  EXPECT_NE(status.out.find("nats"), std::string::npos) << status.out;
}

TEST(lab_smoke, generated_node_configs_pass_hasysctl_config_check) {
  if (auto why = lab::skip_unless_root()) GTEST_SKIP() << *why;
  const auto hasysctl = lab::build_dir() / "tools/hasysctl/hasysctl";
  if (!std::filesystem::exists(hasysctl)) GTEST_SKIP() << "hasysctl is not built: " << hasysctl;
  up_options n1 = network_only();
  n1.topology = "n1";
  lab l("ls7", n1);
  for (const char* node : {"a", "b", "c"}) {
    auto check = run_command({hasysctl.string(), "config", "check",
                              (l.dir() / node / "node.toml").string()},
                             10s);
    EXPECT_EQ(check.exit, 0) << node << ":\n" << check.out;
  }
}

TEST(lab_smoke, freeze_kill_start_and_cpuhog_act_on_the_node_processes) {
  if (auto why = lab::skip_unless_root()) GTEST_SKIP() << *why;
  lab l("ls4", network_only());
  auto web = l.node_pid("a", "web");
  ASSERT_TRUE(web.has_value()) << l.up_output();

  ASSERT_TRUE(l.run("freeze", "a").ok());
  EXPECT_EQ(client_reads(l, "198.51.100.11"), "") << "a frozen node does not answer";
  ASSERT_TRUE(l.run("thaw", "a").ok());
  EXPECT_EQ(client_reads(l, "198.51.100.11"), "node-a\n");

  ASSERT_TRUE(l.run("kill", "a", "web", "--signal", "KILL").ok());
  EXPECT_FALSE(l.node_pid("a", "web").has_value());
  ASSERT_TRUE(l.run("start", "a", "web").ok());
  auto again = l.node_pid("a", "web");
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*again, *web);
  EXPECT_TRUE(eventually([&] { return client_reads(l, "198.51.100.11") == "node-a\n"; }));

  ASSERT_TRUE(l.run("cpuhog", "b", "on", "--seconds", "30").ok());
  EXPECT_TRUE(l.node_pid("b", "cpuhog").has_value());
  ASSERT_TRUE(l.run("cpuhog", "b", "off").ok());
  EXPECT_FALSE(l.node_pid("b", "cpuhog").has_value());
}

TEST(lab_smoke, line_reader_waits_for_a_line_from_inside_a_node) {
  if (auto why = lab::skip_unless_root()) GTEST_SKIP() << *why;
  lab l("ls5", network_only());
  auto ping = l.spawn("a", {"ping", "-i", "0.2", "192.0.2.12"});
  auto line = ping.wait_for("icmp_seq=3 ", 5s);
  ASSERT_TRUE(line.has_value()) << ping.transcript();
  EXPECT_NE(line->find("from 192.0.2.12"), std::string::npos) << *line;
}

TEST(lab_smoke, down_cleans_a_half_built_lab_and_is_harmless_when_nothing_is_up) {
  if (auto why = lab::skip_unless_root()) GTEST_SKIP() << *why;
  const hasys::lab::environment env{{"HASYS_LAB_PREFIX", "ls6"},
                                    {"HASYS_LAB_DIR", (lab::build_dir() / ".lab" / "ls6").string()}};
  const auto tool = lab::script().string();
  struct cleanup {
    const hasys::lab::environment& env;
    ~cleanup() {
      run_command({lab::script().string(), "down"}, 30s, env);
      for (const char* ns : {"ls6-a", "ls6-sw"}) run_command({"ip", "netns", "del", ns}, 10s);
    }
  } guard{env};
  ASSERT_TRUE(run_command({"ip", "netns", "add", "ls6-sw"}, 10s).ok());
  ASSERT_TRUE(run_command({"ip", "netns", "add", "ls6-a"}, 10s).ok());
  ASSERT_TRUE(run_command({"sh", "-c", "ip netns exec ls6-a sleep 60 >/dev/null 2>&1 &"}, 10s).ok());

  auto down = run_command({tool, "down"}, 30s, env);
  EXPECT_EQ(down.exit, 0) << down.out;
  EXPECT_EQ(lab_namespaces("ls6"), "");
  auto again = run_command({tool, "down"}, 30s, env);
  EXPECT_EQ(again.exit, 0) << again.out;
  EXPECT_NE(again.out.find("nothing is up"), std::string::npos) << again.out;
}

}  // namespace
