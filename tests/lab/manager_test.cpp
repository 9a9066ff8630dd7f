// The manager in the lab (issue 11): hasys-manager-api runs in the lab's mgr namespace behind
// the hub, and the host reaches it at https://127.0.0.1:<ui.port> through the lab's relay, as
// an operator's browser would. Its groups follow the nodes live.
#include "node_view.hpp"
#include "vip_watch.hpp"

#include <hasys/test/https_client.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using hasys::lab::client_reads;
using hasys::lab::expect_serving;
using hasys::lab::lab;
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
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "a"));
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
