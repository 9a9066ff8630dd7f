// The manager in the lab (issue 11): hasys-manager-api runs in the lab's mgr namespace behind
// the hub, and the host reaches it at https://127.0.0.1:<ui.port> through the lab's relay, as
// an operator's browser would. Its groups follow the nodes live.
#include "node_view.hpp"
#include "vip_watch.hpp"

#include <hasys/test/https_client.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using hasys::lab::client_reads;
using hasys::lab::event_stream;
using hasys::lab::expect_serving;
using hasys::lab::expect_settled;
using hasys::lab::lab;
using hasys::lab::status_of;
using hasys::lab::vip_watch;
using hasys::lab::wait_status;
using hasys::test::https_client;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// The roles the manager shows for the lab group, by node ("node-a" -> "active").
std::map<std::string, std::string> roles(https_client& c) {
  std::map<std::string, std::string> out;
  auto r = c.get("/api/v1/groups/lab");
  if (r.status != 200) return out;
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec) return out;
  for (const auto& n : v.at("nodes").as_array())
    if (n.at("role").is_string() && !n.at("stale").as_bool())
      out[std::string(n.at("node").as_string())] = std::string(n.at("role").as_string());
  return out;
}

https_client logged_in(const lab& l) {
  std::ifstream port_file(l.dir() / "mgr" / "ui.port");
  int port = 0;
  port_file >> port;
  https_client c("127.0.0.1", static_cast<std::uint16_t>(port));
  EXPECT_EQ(c.login("hasys", "manager").status, 200);
  EXPECT_EQ(c.request("PUT", "/api/v1/session/password",
                      R"({"current_password":"manager","new_password":"lab-pass-1"})")
                .status,
            200);
  return c;
}

json::value parsed(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return p();
}

// The manager's view arrives through the hub (no push yet to wait on): asked every 50 ms.
bool manager_shows(https_client& c, const std::map<std::string, std::string>& want,
                   std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (roles(c) == want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return roles(c) == want;
}

}  // namespace

TEST(manager, the_host_reaches_the_labs_manager_and_sees_the_roles_move) {
  SKIP_UNLESS_ROOT();
  lab l("mg1");
  ASSERT_TRUE(wait_status(l, "a", {"--role", "active", "--peer-role", "standby"}, 30s));
  std::ifstream port_file(l.dir() / "mgr" / "ui.port");
  int port = 0;
  ASSERT_TRUE(port_file >> port) << "no ui.port; lab up said:\n" << l.up_output();
  EXPECT_NE(l.up_output().find("https://127.0.0.1:" + std::to_string(port)), std::string::npos)
      << l.up_output();
  EXPECT_NE(l.up_output().find("hasys / manager"), std::string::npos) << l.up_output();

  https_client c("127.0.0.1", static_cast<std::uint16_t>(port));
  auto r = c.login("hasys", "manager");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.request("PUT", "/api/v1/session/password",
                R"({"current_password":"manager","new_password":"lab-pass-1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(manager_shows(c, {{"node-a", "active"}, {"node-b", "standby"}}, 10s))
      << c.get("/api/v1/groups").body;

  ASSERT_OK(l.ctl("a", "failover", "--group", "lab"));
  ASSERT_TRUE(wait_status(l, "b", {"--role", "active", "--peer-role", "standby"}, 30s));
  EXPECT_TRUE(manager_shows(c, {{"node-a", "standby"}, {"node-b", "active"}}, 5s))
      << c.get("/api/v1/groups").body;

  // M4: both nodes registered; forgotten, they register again within seconds of a restarted
  // manager's hello.
  auto servers = [&] {
    std::set<std::string> out;
    auto v = parsed(c.get("/api/v1/servers").body);
    if (v.is_array())
      for (const auto& x : v.as_array())
        if (x.at("version") == HASYS_VERSION) out.insert(std::string(x.at("node").as_string()));
    return out;
  };
  const std::set<std::string> both{"node-a", "node-b"};
  EXPECT_TRUE(eventually([&] { return servers() == both; }, 5s)) << c.get("/api/v1/servers").body;
  ASSERT_EQ(c.request("DELETE", "/api/v1/servers/lab/node-a").status, 200);
  ASSERT_EQ(c.request("DELETE", "/api/v1/servers/lab/node-b").status, 200);
  ASSERT_OK(l.run("kill", "mgr", "api"));
  ASSERT_OK(l.run("start", "mgr", "api"));
  c = https_client("127.0.0.1", static_cast<std::uint16_t>(port));
  ASSERT_EQ(c.login("hasys", "lab-pass-1").status, 200);  // sessions end with the process
  EXPECT_TRUE(eventually([&] { return servers() == both; }, 10s)) << c.get("/api/v1/servers").body;
}

TEST(manager, a_manual_failover_from_the_api_is_previewed_then_moves_the_virtual_ip) {
  SKIP_UNLESS_ROOT();
  lab l("mg2");
  vip_watch w(l, {"a", "b"}, "198.51.100.100");
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_TRUE(wait_status(l, "b", {"--role", "standby", "--peer-role", "active"}, 30s));
  auto c = logged_in(l);
  ASSERT_TRUE(manager_shows(c, {{"node-a", "active"}, {"node-b", "standby"}}, 10s));

  // The preview: the node's own rules answer; what moves where, what runs, the Standby's
  // readiness — and nothing changes.
  auto r = c.request("POST", "/api/v1/groups/lab/operations?dry_run=1",
                     R"({"kind":"manual_failover","node":""})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = parsed(r.body);
  EXPECT_EQ(p.at("accepted"), true) << r.body;
  EXPECT_EQ(p.at("node"), "node-a") << r.body;
  EXPECT_EQ(p.at("active_now"), "node-a") << r.body;
  EXPECT_EQ(p.at("active_after"), "node-b") << r.body;
  EXPECT_EQ(p.at("readiness").at("ready"), true) << r.body;
  EXPECT_FALSE(p.at("running_now").as_array().empty()) << r.body;
  EXPECT_TRUE(manager_shows(c, {{"node-a", "active"}, {"node-b", "standby"}}, 1s));
  EXPECT_EQ(client_reads(l, "198.51.100.100"), "node-a");

  r = c.request("POST", "/api/v1/groups/lab/operations", R"({"kind":"manual_failover","node":""})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto done = parsed(r.body);
  ASSERT_EQ(done.at("accepted"), true) << r.body;
  const std::string action_id(done.at("action_id").as_string());
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  EXPECT_EQ(w.longest_overlap(), 0ms);
  EXPECT_TRUE(manager_shows(c, {{"node-a", "standby"}, {"node-b", "active"}}, 5s));

  // The audit entry names the action; node a's events of the hand-over carry its id.
  auto audit = parsed(c.get("/api/v1/audit?limit=5").body);
  bool audited = false;
  for (const auto& e : audit.as_array())
    if (e.at("action_id") == action_id.c_str() && e.at("action") == "operation manual_failover")
      audited = true;
  EXPECT_TRUE(audited) << audit;
  auto events = l.ctl("a", "events", "--last", "20", "--json", "--group", "lab");
  ASSERT_TRUE(events.ok()) << events.out;
  int tagged = 0;
  std::istringstream lines(events.out);
  for (std::string line; std::getline(lines, line);)
    if (line.find("\"action_id\":\"" + action_id + "\"") != std::string::npos) ++tagged;
  EXPECT_GE(tagged, 2) << events.out;  // the accepted command and the role changes after it

  // The audit entry leads to them through the manager's event store, with node b's take-over
  // beside them.
  std::int64_t entry_id = 0;
  for (const auto& e : audit.as_array())
    if (e.at("action_id") == action_id.c_str()) entry_id = e.at("id").as_int64();
  json::value linked;
  auto linked_ok = [&] {
    linked = parsed(c.get("/api/v1/audit/" + std::to_string(entry_id) + "/events").body);
    if (!linked.is_object() || linked.at("caused").as_array().size() < 2) return false;
    for (const auto& row : linked.at("around").as_array())
      if (row.at("node") == "node-b" && row.at("event").at("code") == "active") return true;
    return false;
  };
  EXPECT_TRUE(eventually(linked_ok, 10s)) << linked;
}

namespace {

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const json::value* daemon_outcome(const json::value& node_row, std::string_view daemon) {
  for (const auto& d : node_row.at("daemons").as_array())
    if (d.at("daemon").as_string() == daemon) return &d;
  return nullptr;
}

}  // namespace

// M8 with "apply the same to the peer server" (issue 11): a bad change is refused on both nodes
// with every field named and nothing written; a good one is written on both and taken live —
// the heartbeat's new polling count at once with the roles kept, the executor's flow settings on
// the Standby at once and on the Active once it holds nothing.
TEST(manager,
     a_configuration_change_for_both_nodes_takes_effect_on_both_and_a_bad_one_changes_nothing) {
  SKIP_UNLESS_ROOT();
  lab l("mg3");
  vip_watch w(l, {"a", "b"}, "198.51.100.100");
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  ASSERT_TRUE(wait_status(l, "b", {"--role", "standby", "--peer-role", "active"}, 30s));
  auto c = logged_in(l);
  ASSERT_TRUE(manager_shows(c, {{"node-a", "active"}, {"node-b", "standby"}}, 10s));
  const auto file_a = l.dir() / "a" / "node.toml", file_b = l.dir() / "b" / "node.toml";
  const std::string before_a = file_text(file_a), before_b = file_text(file_b);

  auto r = c.get("/api/v1/groups/lab/nodes/node-a/config");
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = parsed(r.body);
  const std::string version_a(got.at("version").as_string());
  EXPECT_EQ(got.at("settings").at("polling_count"), 3) << r.body;
  EXPECT_EQ(got.at("fixed").at("public_interface"), "eth0") << r.body;
  EXPECT_EQ(got.at("peer"), "node-b") << r.body;

  // Refused on both, every field named per node, neither file touched.
  r = c.request("PATCH", "/api/v1/groups/lab/nodes/node-a/config",
                R"({"changes":{"polling_count":100,"failover_condition_wait":"2h",
                    "flow":[{"type":"wait","name":"far-too-long-name","seconds":5}]},
                    "apply_to_peer":true})");
  ASSERT_EQ(r.status, 422) << r.body;
  auto bad = parsed(r.body);
  ASSERT_EQ(bad.at("nodes").as_array().size(), 2u) << r.body;
  for (const auto& n : bad.at("nodes").as_array()) {
    std::set<std::string> fields;
    for (const auto& e : n.at("errors").as_array())
      fields.insert(std::string(e.at("field").as_string()));
    EXPECT_EQ(fields,
              (std::set<std::string>{"polling_count", "failover_condition_wait", "flow[0].name"}))
        << n;
  }
  EXPECT_EQ(file_text(file_a), before_a);
  EXPECT_EQ(file_text(file_b), before_b);

  // A change checked on one node only when the other cannot take it: the version read no longer
  // matches on node a, so neither is written.
  r = c.request(
      "PATCH", "/api/v1/groups/lab/nodes/node-a/config",
      R"({"changes":{"polling_count":4},"apply_to_peer":true,"expected_version":"0000000000000000"})");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(file_text(file_a), before_a);
  EXPECT_EQ(file_text(file_b), before_b);

  // Accepted: written on both, the heartbeat's count taken live, the roles kept.
  r = c.request(
      "PATCH", "/api/v1/groups/lab/nodes/node-a/config",
      R"({"changes":{"polling_count":4,"failover_condition_wait":"30s"},"apply_to_peer":true,
                    "expected_version":")" +
          version_a + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto done = parsed(r.body);
  const std::string action_id(done.at("action_id").as_string());
  ASSERT_EQ(done.at("nodes").as_array().size(), 2u);
  for (const auto& n : done.at("nodes").as_array()) {
    EXPECT_EQ(n.at("ok"), true) << n;
    EXPECT_EQ(n.at("changed"), true) << n;
    const auto* hb = daemon_outcome(n, "heartbeat");
    ASSERT_TRUE(hb) << n;
    EXPECT_EQ(hb->at("status"), "applied") << n;
    const auto* mon = daemon_outcome(n, "monitor");
    ASSERT_TRUE(mon) << n;
    EXPECT_EQ(mon->at("status"), "unchanged") << n;  // none of its settings changed
  }
  // The executor's flow settings: never changed under the Active's running resources.
  const auto& row_a = done.at("nodes").as_array()[0];
  const auto& row_b = done.at("nodes").as_array()[1];
  EXPECT_EQ(row_a.at("node"), "node-a");
  const auto* exec_a = daemon_outcome(row_a, "executor");
  const auto* exec_b = daemon_outcome(row_b, "executor");
  ASSERT_TRUE(exec_a && exec_b) << done;
  EXPECT_EQ(exec_a->at("status"), "pending") << row_a;
  EXPECT_EQ(exec_b->at("status"), "restarting") << row_b;

  EXPECT_NE(file_text(file_a), before_a);
  EXPECT_NE(file_text(file_b), before_b);
  for (const char* node : {"a", "b"}) {
    auto s = status_of(l, node);
    ASSERT_TRUE(s) << node;
    EXPECT_EQ(s->count, 4) << node;
  }
  got = parsed(c.get("/api/v1/groups/lab/nodes/node-b/config").body);
  EXPECT_EQ(got.at("settings").at("polling_count"), 4) << got;
  EXPECT_EQ(got.at("settings").at("failover_condition_wait"), "30s") << got;
  EXPECT_FALSE(got.at("history").as_array().empty()) << got;  // the previous version kept
  EXPECT_EQ(client_reads(l, "198.51.100.100"), "node-a");
  EXPECT_TRUE(manager_shows(c, {{"node-a", "active"}, {"node-b", "standby"}}, 1s));

  // The Standby's executor came back with the new file: its readiness answers.
  EXPECT_TRUE(wait_status(l, "a", {"--role", "active", "--peer-role", "standby"}, 5s));
  // Audit and the nodes' events share the action id.
  bool audited = false;
  const auto audit = parsed(c.get("/api/v1/audit?limit=5").body);
  for (const auto& e : audit.as_array())
    if (e.at("action_id") == action_id.c_str() && e.at("action") == "configuration change")
      audited = true;
  EXPECT_TRUE(audited);
  for (const char* node : {"a", "b"}) {
    auto events = l.ctl(node, "events", "--last", "20", "--json", "--group", "lab");
    EXPECT_NE(events.out.find("\"action_id\":\"" + action_id + "\""), std::string::npos)
        << node << events.out;
    EXPECT_NE(events.out.find("config_changed"), std::string::npos) << node << events.out;
  }

  // Killed and started again while the change waits, node a's executor keeps the flow its
  // resources were started by (it keeps serving) and still waits.
  event_stream ev(l, "a");
  ASSERT_OK(l.run("kill", "a", "executor", "--signal", "KILL"));
  ASSERT_OK(l.run("start", "a", "executor"));
  EXPECT_TRUE(wait_status(l, "a", {"--role", "active", "--flow", "done"}, 10s));
  EXPECT_EQ(client_reads(l, "198.51.100.100"), "node-a");
  auto executor_log = [&] {
    std::ifstream log(l.dir() / "a" / "executor.log");
    return std::string{std::istreambuf_iterator<char>(log), {}};
  };
  EXPECT_TRUE(eventually(
      [&] {
        return executor_log().find("still holds resources of the flow it ran") != std::string::npos;
      },
      5s))
      << executor_log();

  // Node a's executor takes the new flow settings once its resources are released: a failover.
  ASSERT_OK(l.ctl("a", "failover", "--group", "lab"));
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  EXPECT_TRUE(ev.wait_for("config_flow_taken", 10s)) << ev.transcript();
  EXPECT_TRUE(wait_status(l, "a", {"--role", "standby", "--peer-role", "active"}, 10s));
  EXPECT_EQ(w.longest_overlap(), 0ms);

  // Node b's monitors alone (its own pattern and start command kept, a slower period): its
  // monitor starts itself again with them, and its verdict follows; node a is not touched.
  auto b_conf = parsed(c.get("/api/v1/groups/lab/nodes/node-b/config").body);
  auto monitor = b_conf.at("settings").at("monitor");
  ASSERT_EQ(monitor.at("period"), "200ms") << monitor;
  monitor.as_object()["period"] = "300ms";
  const std::string before_monitor_a = file_text(file_a);
  r = c.request("PATCH", "/api/v1/groups/lab/nodes/node-b/config",
                json::serialize(json::object{{"changes", json::object{{"monitor", monitor}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto one = parsed(r.body);
  ASSERT_EQ(one.at("nodes").as_array().size(), 1u) << r.body;
  const auto* mon = daemon_outcome(one.at("nodes").as_array()[0], "monitor");
  ASSERT_TRUE(mon) << r.body;
  EXPECT_EQ(mon->at("status"), "restarting") << r.body;
  auto monitor_log = [&] {
    std::ifstream log(l.dir() / "b" / "monitor.log");
    return std::string{std::istreambuf_iterator<char>(log), {}};
  };
  EXPECT_TRUE(
      eventually([&] { return monitor_log().find("period 300 ms") != std::string::npos; }, 10s))
      << monitor_log();
  EXPECT_TRUE(wait_status(l, "b", {"--role", "active", "--healthy", "yes"}, 10s));
  EXPECT_EQ(file_text(file_a), before_monitor_a);
}
