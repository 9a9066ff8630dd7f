// The manager in the lab (issue 11): hasys-manager-api runs in the lab's mgr namespace behind
// the hub, and the host reaches it at https://127.0.0.1:<ui.port> through the lab's relay, as
// an operator's browser would. Its groups follow the nodes live.
#include "node_view.hpp"

#include <hasys/test/https_client.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

using hasys::lab::lab;
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
}
