// hasys-manager-api as a real process over real HTTPS, with a real nats-server as its hub
// (issue 11): sessions and the first-login password change (M1), the password policy, CSRF,
// login lockout, idle expiry, users (M2), the live groups from the bus and their scope, the
// audit log, bad input, TLS versions, a restart.
#include <hasys/bus/bus.hpp>
#include <hasys/test/child_process.hpp>
#include <hasys/test/coroutine_test.hpp>
#include <hasys/test/file_wait.hpp>
#include <hasys/test/https_client.hpp>
#include <hasys/test/nats_server.hpp>
#include <hasys/test/wss_client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

namespace fs = std::filesystem;
namespace json = boost::json;
using hasys::test::child_process;
using hasys::test::https_client;
using hasys::test::https_response;
using namespace std::chrono_literals;

namespace {

json::value body_of(const https_response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  return ec ? json::value(nullptr) : v;
}

std::string text(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  auto* x = v.as_object().if_contains(key);
  return x && x->is_string() ? std::string(x->as_string()) : std::string();
}

struct manager_api : ::testing::Test {
  fs::path dir;
  hasys::test::nats_server hub;
  std::optional<child_process> api;
  std::uint16_t port = 0;
  std::vector<std::string> extra_args;

  void SetUp() override {
    static int n = 0;
    dir = fs::temp_directory_path() /
          ("hma" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override {
    api.reset();
    // Every exchange of the test, checked against docs/openapi.yaml.
    if (fs::exists(dir / "exchanges.jsonl")) {
      auto [rc, out] = check_openapi({(dir / "exchanges.jsonl").string()});
      EXPECT_EQ(rc, 0) << out;
    }
    fs::remove_all(dir);
  }

  std::pair<int, std::string> check_openapi(std::vector<std::string> args) {
    std::string cmd = "/usr/bin/python3 " HASYS_SOURCE_DIR
                      "/tests/contract/check_openapi.py " HASYS_SOURCE_DIR "/docs/openapi.yaml";
    for (auto& a : args) cmd += " '" + a + "'";
    cmd += " >'" + (dir / "check.out").string() + "' 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(dir / "check.out");
    return {WEXITSTATUS(rc), std::string(std::istreambuf_iterator<char>(in), {})};
  }

  void start(std::vector<std::string> args = {}) {
    fs::remove(dir / "port");
    hasys::test::file_watch watch(dir);
    std::vector<std::string> argv{"--listen",      "127.0.0.1:0",
                                  "--port-file",   (dir / "port").string(),
                                  "--db",          (dir / "manager.db").string(),
                                  "--tls-cert",    (dir / "tls.crt").string(),
                                  "--tls-key",     (dir / "tls.key").string(),
                                  "--bus",         hub.url(),
                                  "--bcrypt-cost", "4"};
    argv.insert(argv.end(), args.begin(), args.end());
    api.emplace(child_process::spec{HASYS_MANAGER_API, argv, dir / "manager-api.log"});
    auto p = watch.wait_for(dir / "port", *api, 20s);
    ASSERT_TRUE(p) << "hasys-manager-api did not start; its log:\n" << log();
    port = static_cast<std::uint16_t>(std::stoi(*p));
  }
  std::string log() const {
    std::ifstream in(dir / "manager-api.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  https_client client() const {
    https_client c("127.0.0.1", port);
    c.capture_file = (dir / "exchanges.jsonl").string();
    return c;
  }

  // Logs in as hasys and changes the first password to `password`.
  https_client admin(const std::string& password = "n3w-Secret!") {
    auto c = client();
    auto r = c.login("hasys", "manager");
    EXPECT_EQ(r.status, 200) << r.body;
    r = c.request("PUT", "/api/v1/session/password",
                  R"({"current_password":"manager","new_password":")" + password + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    return c;
  }

  // A user an administrator made with the password <name>-pass-1, logged in and past the first
  // password change (to <name>-pass-2).
  https_client first_login(const std::string& name) {
    auto c = client();
    EXPECT_EQ(c.login(name, name + "-pass-1").status, 200);
    auto r = c.request(
        "PUT", "/api/v1/session/password",
        R"({"current_password":")" + name + R"(-pass-1","new_password":")" + name + "-pass-2\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) c.cookie.clear();
    return c;
  }

  // The real event store in manager mode on the hub, exporting into dir/exports.
  child_process start_store() {
    return child_process(
        child_process::spec{HASYS_EVENT_STORE,
                            {"--manager", "--db", (dir / "events.db").string(), "--bus", hub.url(),
                             "--export-dir", (dir / "exports").string()},
                            dir / "store.log"});
  }

  // Batches (node, ingest request) sent as the nodes' forwarders send them, each until the store
  // (which subscribes in its own time after it starts) answers that it committed it.
  void ingest(const std::vector<std::pair<std::string, std::string>>& batches) {
    boost::asio::io_context ioc;
    auto op = [&]() -> boost::asio::awaitable<void> {
      auto o = hasys::bus::options{};
      o.url = hub.url();
      auto c = co_await hasys::bus::connection::open(ioc.get_executor(), o);
      for (const auto& [node, body] : batches) {
        bool committed = false;
        for (int attempt = 0; attempt < 100 && !committed; ++attempt) {
          auto r = co_await c.request("hasys.mgr.evt.ingest." + node, body, 2s);
          committed = r && r->data.find("\"ok\":true") != std::string::npos;
        }
        EXPECT_TRUE(committed) << "the store did not take " << node << "'s batch";
      }
      c.close();
    };
    hasys::test::run_coroutine_test(ioc, op(), 30s);
  }

  // Publishes on the hub as a node would.
  void publish(const std::vector<std::pair<std::string, std::string>>& messages) {
    boost::asio::io_context ioc;
    auto op = [&]() -> boost::asio::awaitable<void> {
      auto o = hasys::bus::options{};
      o.url = hub.url();
      o.retry_on_failed_connect = false;
      auto c = co_await hasys::bus::connection::open(ioc.get_executor(), o);
      for (auto& [s, d] : messages) c.publish(s, d);
      (void)co_await c.flush(2s);
      c.close();
    };
    hasys::test::run_coroutine_test(ioc, op(), 10s);
  }

  // Nodes publish their status every second; so does this, until the API shows what pred wants
  // (the manager subscribes to the hub in its own time after it starts).
  template <class Pred>
  bool publish_until(const std::vector<std::pair<std::string, std::string>>& messages, Pred p,
                     std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      publish(messages);
      if (eventually(p, 200ms)) return true;
    }
    return false;
  }

  // The API answers a state that arrives through the bus (no push yet to wait on): asked again
  // every 20 ms until it holds or 5 s passed.
  template <class Pred>
  bool eventually(Pred p, std::chrono::milliseconds limit = 5s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (p()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return p();
  }
};

// A stand-in for a node's daemons (the real ones answer in the lab test, lab_manager_tests):
// it answers requests on one subject pattern with a fixed reply and keeps what it was asked.
class stand_in_node {
 public:
  stand_in_node(const std::string& url, std::string subject, std::string reply)
      : thread_([this, url, subject = std::move(subject), reply = std::move(reply)] {
          auto op = serve(url, subject, reply);
          boost::asio::co_spawn(ioc_, std::move(op), [](std::exception_ptr) {});
          ioc_.run();
        }) {
    std::unique_lock lock(mutex_);
    ready_cv_.wait_for(lock, 10s, [this] { return ready_; });
  }
  ~stand_in_node() {
    boost::asio::post(ioc_, [this] {
      if (conn_) conn_->close();
    });
    ioc_.stop();
    thread_.join();
  }
  std::vector<std::pair<std::string, std::string>> asked() {
    std::lock_guard lock(mutex_);
    return asked_;
  }

 private:
  boost::asio::awaitable<void> serve(std::string url, std::string subject, std::string reply) {
    auto o = hasys::bus::options{};
    o.url = url;
    o.retry_on_failed_connect = false;
    conn_.emplace(co_await hasys::bus::connection::open(ioc_.get_executor(), o));
    auto sub = conn_->subscribe(subject);
    (void)co_await conn_->flush(2s);
    {
      std::lock_guard lock(mutex_);
      ready_ = true;
    }
    ready_cv_.notify_all();
    while (auto m = co_await sub.next()) {
      {
        std::lock_guard lock(mutex_);
        asked_.emplace_back(m->subject, m->data);
      }
      conn_->respond(*m, reply);
    }
  }
  boost::asio::io_context ioc_;
  std::optional<hasys::bus::connection> conn_;
  std::mutex mutex_;
  std::condition_variable ready_cv_;
  bool ready_ = false;
  std::vector<std::pair<std::string, std::string>> asked_;
  std::thread thread_;
};

std::string status_json(const std::string& group, const std::string& node,
                        const std::string& role) {
  return json::serialize(json::object{{"v", 1},
                                      {"group", group},
                                      {"node", node},
                                      {"time_unix_ms", 1},
                                      {"role", role},
                                      {"mode", "auto"},
                                      {"epoch", 3},
                                      {"healthy", true}});
}

}  // namespace

TEST_F(manager_api, the_first_login_must_change_the_default_password_before_anything_else) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto c = client();
  auto r = c.login("hasys", "manager");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("must_change_password"), true);
  const auto cookie = r.header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;

  r = c.get("/api/v1/groups");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(body_of(r).at("must_change_password"), true);

  r = c.request("PUT", "/api/v1/session/password",
                R"({"current_password":"wrong","new_password":"another-one"})");
  EXPECT_EQ(r.status, 403) << r.body;
  r = c.request("PUT", "/api/v1/session/password",
                R"({"current_password":"manager","new_password":"manager"})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = c.request("PUT", "/api/v1/session/password",
                R"({"current_password":"manager","new_password":"another-one"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = c.get("/api/v1/groups");
  EXPECT_EQ(r.status, 200) << r.body;

  auto again = client();
  EXPECT_EQ(again.login("hasys", "manager").status, 401);
  r = again.login("hasys", "another-one");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("must_change_password"), false);
}

TEST_F(manager_api, the_strong_policy_names_every_rule_a_password_breaks) {
  ASSERT_NO_FATAL_FAILURE(start({"--strong-passwords"}));
  auto c = client();
  ASSERT_EQ(c.login("hasys", "manager").status, 200);
  auto r = c.request("PUT", "/api/v1/session/password",
                     R"({"current_password":"manager","new_password":"ABC"})");
  ASSERT_EQ(r.status, 400) << r.body;
  const auto problems = body_of(r).at("problems").as_array();
  EXPECT_EQ(problems.size(), 4u) << r.body;  // length, lower case, digit, special
  r = c.request("PUT", "/api/v1/session/password",
                R"({"current_password":"manager","new_password":"g00d-enough"})");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(manager_api, state_changing_requests_need_the_session_csrf_token) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto c = admin();
  const auto token = c.csrf;
  c.csrf.clear();
  auto r = c.request("DELETE", "/api/v1/session");
  EXPECT_EQ(r.status, 403) << r.body;
  c.csrf = std::string(token.size(), '0');
  r = c.request("DELETE", "/api/v1/session");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(c.get("/api/v1/session").status, 200);  // still logged in
  c.csrf = token;
  r = c.request("DELETE", "/api/v1/session");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(c.cookie.empty());  // the server cleared it
  c.cookie = "hasys_session=" + std::string(64, 'f');
  EXPECT_EQ(c.get("/api/v1/session").status, 401);
}

TEST_F(manager_api, failed_logins_lock_the_user_out_even_with_the_right_password) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto c = client();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.login("hasys", "guess" + std::to_string(i)).status, 401);
  auto r = c.login("hasys", "manager");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_FALSE(r.header("retry-after").empty());
  // Another user from the same address is locked out too (the address has failed five times).
  EXPECT_EQ(c.login("someone", "x").status, 429);
}

TEST_F(manager_api, an_idle_session_expires) {
  ASSERT_NO_FATAL_FAILURE(start({"--session-idle", "1"}));
  auto c = client();
  ASSERT_EQ(c.login("hasys", "manager").status, 200);
  EXPECT_EQ(c.get("/api/v1/session").status, 200);
  std::this_thread::sleep_for(1500ms);  // the idleness is what is tested
  EXPECT_EQ(c.get("/api/v1/session").status, 401);
}

TEST_F(manager_api, admins_manage_users_and_the_default_user_cannot_be_deleted) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  auto r =
      a.request("POST", "/api/v1/users", R"({"name":"bob","password":"bob-pass-1","admin":false})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"bob","password":"x2","admin":false})").status,
      409);
  EXPECT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"bad name!","password":"x2","admin":false})")
          .status,
      400);

  auto bob = client();
  ASSERT_EQ(bob.login("bob", "bob-pass-1").status, 200);
  EXPECT_EQ(bob.get("/api/v1/groups").status, 403);  // must change first
  ASSERT_EQ(bob.request("PUT", "/api/v1/session/password",
                        R"({"current_password":"bob-pass-1","new_password":"bob-pass-2"})")
                .status,
            200);
  EXPECT_EQ(bob.get("/api/v1/groups").status, 200);
  EXPECT_EQ(bob.get("/api/v1/users").status, 403);  // not an admin
  EXPECT_EQ(bob.request("DELETE", "/api/v1/users/hasys").status, 403);

  r = a.request("DELETE", "/api/v1/users/hasys");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(text(body_of(r), "error").find("cannot be deleted"), std::string::npos) << r.body;
  EXPECT_EQ(a.request("DELETE", "/api/v1/users/bob").status, 200);
  EXPECT_EQ(bob.get("/api/v1/session").status, 401);  // bob's session ended with bob
  r = a.get("/api/v1/users");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).as_array().size(), 1u) << r.body;
}

TEST_F(manager_api, groups_show_what_the_nodes_publish_within_the_users_scope) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"eve","password":"eve-pass-1","admin":false})")
          .status,
      201);
  ASSERT_TRUE(publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")},
                             {"hasys.g1.node-b.status", status_json("g1", "node-b", "standby")},
                             // A status in another node's name is refused, not shown.
                             {"hasys.g1.node-c.status", status_json("g1", "node-a", "active")}},
                            [&] {
                              auto r = a.get("/api/v1/groups/g1");
                              return r.status == 200 &&
                                     body_of(r).at("nodes").as_array().size() == 2;
                            }))
      << a.get("/api/v1/groups").body;
  auto g = body_of(a.get("/api/v1/groups/g1"));
  EXPECT_EQ(g.at("nodes").at(0).at("role"), "active");
  EXPECT_EQ(g.at("nodes").at(1).at("role"), "standby");
  EXPECT_EQ(g.at("roles_disagree"), false);

  // Both claim the Active role: the group says so.
  publish({{"hasys.g1.node-b.status", status_json("g1", "node-b", "active")}});
  EXPECT_TRUE(
      eventually([&] { return body_of(a.get("/api/v1/groups/g1")).at("roles_disagree") == true; }));

  // eve belongs to no business group: she sees nothing, and g1 looks as unknown as a group
  // that does not exist.
  auto eve = first_login("eve");
  ASSERT_FALSE(eve.cookie.empty());
  auto r = eve.get("/api/v1/groups");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).as_array().size(), 0u) << r.body;
  EXPECT_EQ(eve.get("/api/v1/groups/g1").status, 404);
  EXPECT_EQ(eve.get("/api/v1/groups/nope").status, 404);
}

TEST_F(manager_api, business_groups_decide_which_ha_groups_a_user_sees) {  // M3
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"eve","password":"eve-pass-1","admin":false})")
          .status,
      201);
  ASSERT_TRUE(
      publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")},
                     {"hasys.g2.node-c.status", status_json("g2", "node-c", "active")}},
                    [&] { return body_of(a.get("/api/v1/groups")).as_array().size() == 2; }));
  // A Korean business group name, percent-encoded in the path.
  auto r = a.request("POST", "/api/v1/business-groups", R"({"name":"영업"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string path = "/api/v1/business-groups/%EC%98%81%EC%97%85";
  // Refused whole: a user that does not exist; nothing is kept.
  r = a.request("PUT", path, R"({"ha_groups":["g1"],"users":["eve","nobody"]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(text(body_of(r), "error").find("nobody"), std::string::npos) << r.body;
  r = a.request("PUT", path, R"({"ha_groups":["g1","bad name"],"users":["eve"]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(text(body_of(r), "error").find("ha_groups[1]"), std::string::npos) << r.body;

  auto eve = first_login("eve");
  ASSERT_FALSE(eve.cookie.empty());
  EXPECT_EQ(body_of(eve.get("/api/v1/groups")).as_array().size(), 0u);

  r = a.request("PUT", path, R"({"ha_groups":["g1"],"users":["eve"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto groups = body_of(eve.get("/api/v1/groups"));
  ASSERT_EQ(groups.as_array().size(), 1u) << groups;
  EXPECT_EQ(groups.at(0).at("name"), "g1");
  EXPECT_EQ(groups.at(0).at("business_groups").at(0), "영업");
  EXPECT_EQ(eve.get("/api/v1/groups/g1").status, 200);
  EXPECT_EQ(eve.get("/api/v1/groups/g2").status, 404);
  EXPECT_EQ(eve.get("/api/v1/business-groups").status, 403);
  EXPECT_EQ(eve.request("PUT", path, R"({"ha_groups":["g1","g2"],"users":["eve"]})").status, 403);

  r = a.get("/api/v1/business-groups");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).at(0).at("users").at(0), "eve") << r.body;
  EXPECT_EQ(a.request("DELETE", path).status, 200);
  EXPECT_EQ(body_of(eve.get("/api/v1/groups")).as_array().size(), 0u);
  EXPECT_EQ(eve.get("/api/v1/groups/g1").status, 404);
}

TEST_F(manager_api, a_node_of_another_protocol_version_is_shown_as_such) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  auto future = json::serialize(json::object{
      {"v", 2}, {"group", "g2"}, {"node", "node-x"}, {"state", json::object{{"who", "knows"}}}});
  ASSERT_TRUE(publish_until({{"hasys.g2.node-x.status", future},
                             {"hasys.g2.node-y.status", status_json("g2", "node-y", "active")}},
                            [&] {
                              auto r = a.get("/api/v1/groups/g2");
                              return r.status == 200 &&
                                     body_of(r).at("nodes").as_array().size() == 2;
                            }));
  auto g = body_of(a.get("/api/v1/groups/g2"));
  EXPECT_EQ(g.at("nodes").at(0).at("protocol_version"), 2);
  EXPECT_NE(text(g.at("nodes").at(0), "note").find("protocol version 2"), std::string::npos);
  EXPECT_EQ(g.at("nodes").at(1).at("role"), "active");
}

TEST_F(manager_api, the_audit_log_records_logins_and_changes_for_admins) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto c = client();
  EXPECT_EQ(c.login("hasys", "wrong").status, 401);
  auto a = admin();
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"dan","password":"dan-pass-1","admin":true})")
          .status,
      201);
  auto r = a.get("/api/v1/audit?limit=10");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> seen;
  const auto entries = body_of(r);
  for (const auto& e : entries.as_array())
    seen.push_back(text(e, "action") + " " + text(e, "target") + " " + text(e, "user") + ": " +
                   text(e, "result"));
  // Newest first; each names who, what and the result, from an address.
  const std::vector<std::string> expected{"user add dan hasys: ok", "password hasys hasys: ok",
                                          "login hasys hasys: ok",
                                          "login hasys hasys: failed: wrong user or password"};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(text(entries.at(0), "address"), "127.0.0.1");
  EXPECT_EQ(a.get("/api/v1/audit?limit=5000").status, 400);
}

TEST_F(manager_api, bad_requests_get_clear_errors_and_change_nothing) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto c = client();
  auto r = c.request("POST", "/api/v1/session", "not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(text(body_of(r), "error").find("JSON object"), std::string::npos) << r.body;
  r = c.request("POST", "/api/v1/session", R"({"user":"hasys"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(text(body_of(r), "error").find("password"), std::string::npos) << r.body;
  r = c.request("POST", "/api/v1/session", std::string(100 * 1024, 'x'));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(c.get("/api/v1/nothing-here").status, 401);  // unknown routes need a session too
  EXPECT_EQ(c.get("/elsewhere").status, 404);
  auto a = admin();
  r = a.request("PUT", "/api/v1/users/hasys", R"({"admin":false})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = a.request("PUT", "/api/v1/users/hasys", R"({"colour":"blue"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(text(body_of(r), "error").find("colour"), std::string::npos) << r.body;
  EXPECT_EQ(a.get("/api/v1/nothing-here").status, 404);
  // Nothing changed: hasys is still an admin.
  EXPECT_EQ(body_of(a.get("/api/v1/session")).at("admin"), true);
}

TEST_F(manager_api, tls_is_1_2_or_newer_with_aes_256_or_chacha20_only) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto c = client();
  ASSERT_EQ(c.get("/healthz").status, 200);
  EXPECT_EQ(c.tls_version, "TLSv1.3");
  EXPECT_TRUE(c.cipher == "TLS_AES_256_GCM_SHA384" || c.cipher == "TLS_CHACHA20_POLY1305_SHA256")
      << c.cipher;
  // A TLS 1.1 client, and a TLS 1.2 client offering only AES-128, are refused.
  namespace asio = boost::asio;
  auto handshake = [&](auto configure) {
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    configure(ctx.native_handle());
    boost::beast::ssl_stream<boost::beast::tcp_stream> s(ioc, ctx);
    boost::beast::get_lowest_layer(s).expires_after(5s);
    boost::beast::get_lowest_layer(s).connect({asio::ip::make_address("127.0.0.1"), port});
    boost::system::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    return ec;
  };
  EXPECT_TRUE(handshake([](SSL_CTX* x) {
    SSL_CTX_set_security_level(x, 0);
    SSL_CTX_set_min_proto_version(x, TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(x, TLS1_1_VERSION);
  }));
  EXPECT_TRUE(handshake([](SSL_CTX* x) {
    SSL_CTX_set_max_proto_version(x, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(x, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
  }));
  EXPECT_FALSE(handshake([](SSL_CTX* x) {
    SSL_CTX_set_max_proto_version(x, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(x, "ECDHE-ECDSA-AES256-GCM-SHA384");
  }));
}

TEST_F(manager_api, a_restarted_manager_keeps_its_users_and_certificate) {
  ASSERT_NO_FATAL_FAILURE(start());
  admin("kept-Secret1!");
  std::ifstream cert_before(dir / "tls.crt");
  const std::string before{std::istreambuf_iterator<char>(cert_before), {}};
  EXPECT_EQ(fs::status(dir / "tls.key").permissions() & fs::perms::others_read, fs::perms::none);
  api->stop();
  ASSERT_NO_FATAL_FAILURE(start());
  std::ifstream cert_after(dir / "tls.crt");
  EXPECT_EQ(before, std::string(std::istreambuf_iterator<char>(cert_after), {}));
  auto c = client();
  auto r = c.login("hasys", "kept-Secret1!");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("must_change_password"), false);
}

// A restart of the manager (an upgrade, a crash) is a normal event: the browsers stay logged in,
// the NOC wall keeps its stream. A session that ended before stays ended, and the database holds
// no cookie value that would let its reader in.
TEST_F(manager_api, a_restarted_or_killed_manager_keeps_its_sessions_and_forgets_ended_ones) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin("kept-Secret1!");
  auto ended = client();
  ASSERT_EQ(ended.login("hasys", "kept-Secret1!").status, 200);
  ASSERT_EQ(ended.request("DELETE", "/api/v1/session").status, 200);
  const std::string ended_cookie = ended.cookie.empty() ? "" : ended.cookie;
  api->stop();  // SIGTERM
  ASSERT_NO_FATAL_FAILURE(start());
  auto again = client();
  again.cookie = a.cookie;
  again.csrf = a.csrf;
  auto r = again.get("/api/v1/session");
  ASSERT_EQ(r.status, 200) << "logged out by a restart: " << r.body;
  EXPECT_EQ(body_of(r).at("user"), "hasys");
  EXPECT_EQ(text(body_of(r), "csrf"), a.csrf);
  // The CSRF token is the session's, as before.
  r = again.request("POST", "/api/v1/users",
                    R"({"name":"eve","password":"eve-pass-1","admin":false})");
  EXPECT_EQ(r.status, 201) << r.body;
  hasys::test::wss_client ws("127.0.0.1", port, "/api/v1/stream", a.cookie);
  ASSERT_TRUE(ws.open()) << ws.refused_status();
  // The logged-out session is not back.
  auto gone = client();
  gone.cookie = ended_cookie;
  EXPECT_EQ(gone.get("/api/v1/session").status, 401);

  // Killed outright: a session answered once (its write is ordered before that answer's
  // database read) is kept too.
  auto eve = first_login("eve");
  ASSERT_FALSE(eve.cookie.empty());
  ASSERT_EQ(eve.get("/api/v1/session").status, 200);
  api->signal(SIGKILL);
  ASSERT_TRUE(api->wait_exit(10s));
  ASSERT_NO_FATAL_FAILURE(start());
  auto eve_again = client();
  eve_again.cookie = eve.cookie;
  eve_again.csrf = eve.csrf;
  r = eve_again.get("/api/v1/session");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("user"), "eve");

  // The database holds ids (SHA-256 of the cookie), never the cookie's value.
  api->stop();
  std::ifstream db_file(dir / "manager.db", std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(db_file), {}};
  for (auto wal : {"manager.db-wal"}) {
    std::ifstream w(dir / wal, std::ios::binary);
    bytes += std::string{std::istreambuf_iterator<char>(w), {}};
  }
  const auto value = [](const std::string& cookie) { return cookie.substr(cookie.find('=') + 1); };
  ASSERT_GE(value(a.cookie).size(), 32u);
  EXPECT_EQ(bytes.find(value(a.cookie)), std::string::npos);
  EXPECT_EQ(bytes.find(value(eve.cookie)), std::string::npos);
  ASSERT_NO_FATAL_FAILURE(start());  // for TearDown's checks
}

TEST_F(manager_api, a_manager_killed_while_making_its_secrets_starts_again) {
  ASSERT_NO_FATAL_FAILURE(start());
  api->stop();
  // Killed after the key, before the certificate: its own half pair is made again; a token
  // write cut short left only its temporary file.
  fs::remove(dir / "tls.crt");
  fs::remove(dir / "metrics.token");
  std::ofstream(dir / "metrics.token.tmp") << "half";
  ASSERT_NO_FATAL_FAILURE(start());
  EXPECT_TRUE(fs::exists(dir / "tls.crt"));
  EXPECT_EQ(client().get("/healthz").status, 200);
  std::string token;
  std::ifstream(dir / "metrics.token") >> token;
  EXPECT_EQ(token.size(), 48u);
  EXPECT_EQ(fs::status(dir / "metrics.token").permissions() & fs::perms::others_read,
            fs::perms::none);
  api->stop();
  // A pair given by the operator (no marker) that lacks its certificate is refused, not replaced.
  fs::remove(dir / "tls.crt");
  fs::remove(dir / "tls.key.self-signed");
  child_process again(child_process::spec{
      HASYS_MANAGER_API,
      {"--listen", "127.0.0.1:0", "--db", (dir / "manager.db").string(), "--tls-cert",
       (dir / "tls.crt").string(), "--tls-key", (dir / "tls.key").string(), "--bus", hub.url()},
      dir / "again.log"});
  auto status = again.wait_exit(20s);
  ASSERT_TRUE(status);
  EXPECT_NE(WEXITSTATUS(*status), 0);
  std::ifstream in(dir / "again.log");
  const std::string out{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NE(out.find("give both or neither"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "tls.crt"));
}

TEST_F(manager_api, every_operation_of_the_openapi_document_answers_as_it_says) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto anon = client();
  EXPECT_EQ(anon.get("/healthz").status, 200);
  EXPECT_EQ(anon.get("/api/v1/version").status, 200);
  auto a = admin();
  EXPECT_EQ(a.get("/api/v1/session").status, 200);
  EXPECT_EQ(a.get("/metrics").status, 200);
  // No event store on this hub: both say so (the store's own answers are in the events test).
  EXPECT_EQ(a.get("/api/v1/audit/999999/events").status, 404);
  EXPECT_EQ(a.get("/api/v1/events").status, 503);
  EXPECT_EQ(a.get("/api/v1/fault-rules").status, 503);
  {
    const auto r = a.get("/api/v1/event-catalogue");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"code\":\"peer_lost\""), std::string::npos) << r.body.substr(0, 200);
  }
  EXPECT_EQ(a.request("PUT", "/api/v1/fault-rules", R"({"rules":[]})").status, 503);
  EXPECT_EQ(
      a.request("POST", "/api/v1/events/export", R"({"format":"csv","max_rows":10,"query":{}})")
          .status,
      503);
  EXPECT_TRUE(publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")}},
                            [&] { return a.get("/api/v1/groups/g1").status == 200; }));
  EXPECT_EQ(a.get("/api/v1/groups").status, 200);
  {
    stand_in_node node_a(hub.url(), "hasys.g1.node-a.cmd.*",
                         R"({"v":1,"accepted":true,"text":"done"})");
    EXPECT_EQ(a.request("POST", "/api/v1/groups/g1/operations",
                        R"({"kind":"set_mode_manual","node":"node-a"})")
                  .status,
              200);
    // The stand-in answers every cmd.* alike: not a configuration (the real heartbeats answer
    // in remote_configuration_is_checked_on_both_servers_and_written_on_both_or_neither).
    EXPECT_EQ(a.get("/api/v1/groups/g1/nodes/node-a/config").status, 502);
    EXPECT_EQ(a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                        R"({"changes":{"polling_count":4}})")
                  .status,
              504);
  }
  EXPECT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"op","password":"op-pass-1","admin":false})")
          .status,
      201);
  EXPECT_EQ(a.request("PUT", "/api/v1/users/op", R"({"admin":true})").status, 200);
  EXPECT_EQ(a.get("/api/v1/users").status, 200);
  EXPECT_EQ(a.get("/api/v1/audit").status, 200);
  EXPECT_EQ(a.request("POST", "/api/v1/business-groups", R"({"name":"ops"})").status, 201);
  EXPECT_EQ(
      a.request("PUT", "/api/v1/business-groups/ops", R"({"ha_groups":["g1"],"users":["op"]})")
          .status,
      200);
  EXPECT_EQ(a.get("/api/v1/business-groups").status, 200);
  EXPECT_EQ(a.request("DELETE", "/api/v1/business-groups/ops").status, 200);
  EXPECT_EQ(a.request("POST", "/api/v1/servers",
                      R"({"group":"g1","node":"n1","public_address":"198.51.100.9","note":""})")
                .status,
            201);
  EXPECT_EQ(a.get("/api/v1/servers").status, 200);
  EXPECT_EQ(a.request("PUT", "/api/v1/servers/g1/n1", R"({"note":"x"})").status, 200);
  EXPECT_EQ(a.request("DELETE", "/api/v1/servers/g1/n1").status, 200);
  EXPECT_EQ(a.request("DELETE", "/api/v1/users/op").status, 200);
  EXPECT_EQ(a.request("DELETE", "/api/v1/session").status, 200);
  auto [rc, out] = check_openapi({(dir / "exchanges.jsonl").string(), "--all-operations"});
  EXPECT_EQ(rc, 0) << out;
}

TEST_F(manager_api, the_openapi_checker_refuses_an_undocumented_answer) {
  // The checker can fail: an undocumented status, an extra field, a wrong type.
  std::ofstream(dir / "bad.jsonl")
      << R"({"method":"GET","target":"/healthz","status":418,"content_type":"application/json","body":"{}"})"
      << "\n"
      << R"({"method":"GET","target":"/healthz","status":200,"content_type":"application/json","body":"{\"ok\":true,\"bus_connected\":true,\"nodes\":1,\"extra\":1}"})"
      << "\n"
      << R"({"method":"GET","target":"/api/v1/version","status":200,"content_type":"application/json","body":"{\"api\":\"v1\",\"version\":1,\"node_protocol\":1}"})"
      << "\n";
  auto [rc, out] = check_openapi({(dir / "bad.jsonl").string()});
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("status 418 is not documented"), std::string::npos) << out;
  EXPECT_NE(out.find("field 'extra'"), std::string::npos) << out;
  EXPECT_NE(out.find("at version"), std::string::npos) << out;
}

TEST_F(manager_api, operations_reach_the_node_with_their_id_and_say_when_nobody_answers) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  ASSERT_TRUE(publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")},
                             {"hasys.g1.node-b.status", status_json("g1", "node-b", "standby")}},
                            [&] {
                              auto r = a.get("/api/v1/groups/g1");
                              return r.status == 200 &&
                                     body_of(r).at("nodes").as_array().size() == 2;
                            }));
  // Nobody answers for node-a yet: a clear 504, and the audit says so.
  auto r =
      a.request("POST", "/api/v1/groups/g1/operations", R"({"kind":"manual_failover","node":""})");
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(text(body_of(r), "error").find("node-a does not answer"), std::string::npos) << r.body;

  stand_in_node node_a(hub.url(), "hasys.g1.node-a.cmd.*",
                       R"({"v":1,"accepted":true,"text":"handing over to the peer"})");
  stand_in_node node_b(hub.url(), "hasys.g1.node-b.exec.ready",
                       R"({"v":1,"accepted":true,"text":"ready: 3 checks passed"})");
  r = a.request("POST", "/api/v1/groups/g1/operations?dry_run=1",
                R"({"kind":"manual_failover","node":""})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = body_of(r);
  EXPECT_EQ(p.at("active_now"), "node-a");
  EXPECT_EQ(p.at("active_after"), "node-b");
  EXPECT_EQ(p.at("readiness").at("ready"), true) << r.body;
  r = a.request("POST", "/api/v1/groups/g1/operations", R"({"kind":"manual_failover","node":""})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = text(body_of(r), "action_id");
  EXPECT_EQ(id.size(), 16u) << r.body;

  auto asked = node_a.asked();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].first, "hasys.g1.node-a.cmd.manual_failover");
  auto preview = json::parse(asked[0].second);
  EXPECT_EQ(preview.at("dry_run"), true);
  auto real = json::parse(asked[1].second);
  EXPECT_EQ(real.at("origin"), "manager");
  EXPECT_EQ(real.at("user"), "hasys");
  EXPECT_EQ(real.at("action_id"), id.c_str());
  EXPECT_EQ(real.at("dry_run"), false);
  EXPECT_EQ(node_b.asked().size(), 1u);  // readiness asked of the node that would take over

  auto audit = body_of(a.get("/api/v1/audit?limit=3"));
  EXPECT_EQ(audit.at(0).at("action"), "operation manual_failover");
  EXPECT_EQ(audit.at(0).at("target"), "g1/node-a");
  EXPECT_EQ(audit.at(0).at("action_id"), id.c_str());
  EXPECT_EQ(audit.at(0).at("result"), "accepted: handing over to the peer");
  EXPECT_NE(text(audit.at(1), "result").find("no answer"), std::string::npos) << audit;

  // Bad operations change nothing and say why.
  EXPECT_EQ(
      a.request("POST", "/api/v1/groups/g1/operations", R"({"kind":"explode","node":""})").status,
      400);
  r = a.request("POST", "/api/v1/groups/g1/operations",
                R"({"kind":"forced_active","node":"node-z"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(text(body_of(r), "error").find("node-z"), std::string::npos) << r.body;
  EXPECT_EQ(
      a.request("POST", "/api/v1/groups/g1/operations", R"({"kind":"forced_active","node":""})")
          .status,
      400);
  EXPECT_EQ(
      a.request("POST", "/api/v1/groups/zz/operations", R"({"kind":"manual_failover","node":""})")
          .status,
      404);
  EXPECT_EQ(node_a.asked().size(), 2u);
}

TEST_F(manager_api, a_user_cannot_act_on_a_group_outside_their_business_groups) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"eve","password":"eve-pass-1","admin":false})")
          .status,
      201);
  ASSERT_TRUE(publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")}},
                            [&] { return a.get("/api/v1/groups/g1").status == 200; }));
  stand_in_node node_a(hub.url(), "hasys.g1.node-a.cmd.*",
                       R"({"v":1,"accepted":true,"text":"done"})");
  auto eve = first_login("eve");
  ASSERT_FALSE(eve.cookie.empty());
  auto r = eve.request("POST", "/api/v1/groups/g1/operations",
                       R"({"kind":"forced_active","node":"node-a"})");
  EXPECT_EQ(r.status, 404) << r.body;
  r = eve.request("POST", "/api/v1/groups/g1/operations?dry_run=1",
                  R"({"kind":"forced_active","node":"node-a"})");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_TRUE(node_a.asked().empty());
}

namespace {

// Messages of a stream read for `window`, parsed.
std::vector<json::value> read_for(hasys::test::wss_client& ws, std::chrono::milliseconds window) {
  std::vector<json::value> out;
  const auto end = std::chrono::steady_clock::now() + window;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto m = ws.read(left);
    if (!m) break;
    out.push_back(json::parse(*m));
  }
  return out;
}

// The first message within `limit` that pred accepts; null when none came.
template <class Pred>
json::value wait_message(hasys::test::wss_client& ws, Pred pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return nullptr;
    auto m = ws.read(left);
    if (!m) return nullptr;
    auto v = json::parse(*m);
    if (pred(v)) return v;
  }
}

std::string role_in(const json::value& message, const std::string& group, const std::string& node) {
  for (const auto& n : message.at("nodes").as_array())
    if (n.at("group") == group.c_str() && n.at("node") == node.c_str() && n.at("role").is_string())
      return std::string(n.at("role").as_string());
  return {};
}

}  // namespace

TEST_F(manager_api, the_stream_needs_a_session_and_a_page_of_this_manager) {
  ASSERT_NO_FATAL_FAILURE(start());
  hasys::test::wss_client anonymous("127.0.0.1", port, "/api/v1/stream", "");
  EXPECT_EQ(anonymous.refused_status(), 401);
  auto a = admin();
  hasys::test::wss_client foreign("127.0.0.1", port, "/api/v1/stream", a.cookie,
                                  "https://evil.example");
  EXPECT_EQ(foreign.refused_status(), 403);
  hasys::test::wss_client ok("127.0.0.1", port, "/api/v1/stream", a.cookie,
                             "https://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(ok.open()) << ok.refused_status();
  auto first = ok.read(2s);
  ASSERT_TRUE(first);
  EXPECT_EQ(json::parse(*first).at("type"), "snapshot");
  // Logging out ends the stream.
  ASSERT_EQ(a.request("DELETE", "/api/v1/session").status, 200);
  EXPECT_TRUE(read_for(ok, 2s).empty());
  EXPECT_FALSE(ok.open());
}

TEST_F(manager_api, the_stream_pushes_changes_of_visible_groups_only_coalesced) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"eve","password":"eve-pass-1","admin":false})")
          .status,
      201);
  ASSERT_EQ(a.request("POST", "/api/v1/business-groups", R"({"name":"web"})").status, 201);
  ASSERT_EQ(
      a.request("PUT", "/api/v1/business-groups/web", R"({"ha_groups":["g1"],"users":["eve"]})")
          .status,
      200);
  ASSERT_TRUE(
      publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")},
                     {"hasys.g2.node-c.status", status_json("g2", "node-c", "active")}},
                    [&] { return body_of(a.get("/api/v1/groups")).as_array().size() == 2; }));
  auto eve = first_login("eve");
  ASSERT_FALSE(eve.cookie.empty());
  hasys::test::wss_client admin_ws("127.0.0.1", port, "/api/v1/stream", a.cookie);
  hasys::test::wss_client eve_ws("127.0.0.1", port, "/api/v1/stream", eve.cookie);
  ASSERT_TRUE(admin_ws.open() && eve_ws.open());
  auto snap = json::parse(*admin_ws.read(2s));
  EXPECT_EQ(snap.at("nodes").as_array().size(), 2u) << snap;
  snap = json::parse(*eve_ws.read(2s));
  ASSERT_EQ(snap.at("nodes").as_array().size(), 1u) << snap;
  EXPECT_EQ(snap.at("nodes").at(0).at("group"), "g1");
  EXPECT_TRUE(snap.at("groups").as_array().empty()) << snap;  // none watched yet

  // A role change reaches the stream well within a second.
  const auto t0 = std::chrono::steady_clock::now();
  publish({{"hasys.g1.node-a.status", status_json("g1", "node-a", "standby")}});
  auto d = wait_message(
      eve_ws, [](const json::value& m) { return role_in(m, "g1", "node-a") == "standby"; }, 2s);
  ASSERT_FALSE(d.is_null());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);

  // Forty changes in a burst, and events of both groups: eve gets a few coalesced messages, the
  // last state, g1's event — and nothing of g2, ever.
  std::vector<std::pair<std::string, std::string>> burst;
  for (int i = 0; i < 40; ++i) {
    burst.emplace_back("hasys.g1.node-a.status",
                       status_json("g1", "node-a", i % 2 ? "active" : "standby"));
    burst.emplace_back("hasys.g2.node-c.status",
                       status_json("g2", "node-c", i % 2 ? "active" : "standby"));
  }
  burst.emplace_back("hasys.g1.node-a.status", status_json("g1", "node-a", "active"));
  burst.emplace_back(
      "hasys.evt.g1.node-a",
      R"({"v":1,"time_unix_ms":1,"group":"g1","node":"node-a","severity":"information","code":"active","text":"This node is Active [node-a]","details":{}})");
  burst.emplace_back(
      "hasys.evt.g2.node-c",
      R"({"v":1,"time_unix_ms":1,"group":"g2","node":"node-c","severity":"information","code":"active","text":"This node is Active [node-c]","details":{}})");
  publish(burst);
  auto seen = read_for(eve_ws, 1500ms);
  EXPECT_GE(seen.size(), 1u);
  EXPECT_LE(seen.size(), 4u);  // at most one per 250 ms
  std::string last_role;
  int g1_events = 0;
  for (const auto& m : seen) {
    EXPECT_EQ(json::serialize(m).find("g2"), std::string::npos) << m;
    EXPECT_EQ(json::serialize(m).find("node-c"), std::string::npos) << m;
    if (auto r = role_in(m, "g1", "node-a"); !r.empty()) last_role = r;
    g1_events += static_cast<int>(m.at("events").as_array().size());
  }
  EXPECT_EQ(last_role, "active");
  EXPECT_EQ(g1_events, 1);

  // Watching a group (M6) brings its whole view; a group out of scope cannot be watched.
  ASSERT_TRUE(eve_ws.write(R"({"watch":["g1","g2"]})"));
  auto watched = wait_message(
      eve_ws, [](const json::value& m) { return !m.at("groups").as_array().empty(); }, 2s);
  ASSERT_FALSE(watched.is_null());
  ASSERT_EQ(watched.at("groups").as_array().size(), 1u) << watched;
  EXPECT_EQ(watched.at("groups").at(0).at("name"), "g1");
  EXPECT_TRUE(watched.at("groups").at(0).at("nodes").at(0).as_object().contains("links"));

  // Taking g1 out of eve's business group takes it off her stream.
  ASSERT_EQ(
      a.request("PUT", "/api/v1/business-groups/web", R"({"ha_groups":[],"users":["eve"]})").status,
      200);
  auto removed = wait_message(
      eve_ws, [](const json::value& m) { return !m.at("removed").as_array().empty(); }, 2s);
  ASSERT_FALSE(removed.is_null());
  EXPECT_EQ(removed.at("removed").at(0), "g1");
  publish({{"hasys.g1.node-a.status", status_json("g1", "node-a", "standby")}});
  for (const auto& m : read_for(eve_ws, 800ms)) {
    EXPECT_TRUE(m.at("nodes").as_array().empty()) << m;
    EXPECT_TRUE(m.at("groups").as_array().empty()) << m;
  }
}

// A browser that stops reading (a laptop put to sleep, a stalled tab) is disconnected once it has
// not taken one message within the write timeout, and costs the others nothing meanwhile: they
// keep getting their message every 250 ms while its writes wait.
TEST_F(manager_api, a_stream_client_that_stops_reading_is_dropped_and_the_others_keep_up) {
  ASSERT_NO_FATAL_FAILURE(start({"--stream-write-timeout", "3"}));
  std::string token;
  std::ifstream(dir / "metrics.token") >> token;
  auto a = admin();
  constexpr int groups = 500;
  auto statuses = [&](int round) {
    std::vector<std::pair<std::string, std::string>> out;
    for (int g = 0; g < groups; ++g) {
      const auto name = "g" + std::to_string(g);
      out.emplace_back("hasys." + name + ".node-a.status",
                       status_json(name, "node-a", round % 2 ? "standby" : "active"));
    }
    return out;
  };
  ASSERT_TRUE(publish_until(
      statuses(0), [&] { return body_of(a.get("/api/v1/groups")).as_array().size() == groups; }));
  auto metric = [&](const std::string& name) -> long {
    auto r = client().request("GET", "/metrics", "", {{"Authorization", "Bearer " + token}});
    const auto at = r.body.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stol(r.body.substr(at + name.size() + 2));
  };
  hasys::test::wss_client reader("127.0.0.1", port, "/api/v1/stream", a.cookie);
  hasys::test::wss_client sleeper("127.0.0.1", port, "/api/v1/stream", a.cookie, {},
                                  /*receive_buffer=*/4096);
  ASSERT_TRUE(reader.open() && sleeper.open());
  ASSERT_TRUE(reader.read(2s));  // the snapshot; the sleeper never reads again
  EXPECT_EQ(metric("hasys_api_streams"), 2);

  // Every node changes role every 100 ms: each message holds 500 overview lines.
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    for (int round = 1; !stop; ++round) {
      publish(statuses(round));
      std::this_thread::sleep_for(100ms);
    }
  });
  struct joiner {
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop = true;
      t.join();
    }
  } join_publisher{stop, publisher};

  auto longest_gap = std::chrono::steady_clock::duration::zero();
  long messages = 0;
  auto last = std::chrono::steady_clock::now();
  const auto give_up = last + 60s;
  bool dropped = false;
  while (std::chrono::steady_clock::now() < give_up) {
    auto m = reader.read(2s);
    const auto now = std::chrono::steady_clock::now();
    ASSERT_TRUE(m) << "the reading client got nothing for 2 s, after " << messages << " messages";
    longest_gap = std::max(longest_gap, now - last);
    last = now;
    ++messages;
    if (messages % 8 == 0 && metric("hasys_api_streams_dropped_slow_total") == 1) {
      dropped = true;
      break;
    }
  }
  ASSERT_TRUE(dropped) << "the client that stopped reading was not dropped in 60 s";
  std::printf("dropped after %ld messages to the reader, the longest gap %lld ms\n", messages,
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap).count()));
  EXPECT_EQ(metric("hasys_api_streams"), 1) << "the reading client's stream stays";
  // While the sleeper's writes waited (3 s each before it was dropped), the reader's messages
  // kept their 250 ms pace.
  EXPECT_LT(longest_gap, 1s)
      << std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap).count()
      << " ms between two messages, " << messages << " messages";
  EXPECT_GE(messages, 12) << "it ran at least 3 s (the write timeout)";
  ASSERT_TRUE(reader.read(2s)) << "the reading client still gets its messages";
}

TEST_F(manager_api, metrics_need_the_token_and_count_what_the_fleet_does) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto anon = client();
  EXPECT_EQ(anon.get("/metrics").status, 401);
  EXPECT_EQ(anon.request("GET", "/metrics", "", {{"Authorization", "Bearer wrong"}}).status, 401);
  std::string token;
  std::ifstream(dir / "metrics.token") >> token;
  ASSERT_GE(token.size(), 16u);
  EXPECT_EQ(fs::status(dir / "metrics.token").permissions() & fs::perms::others_read,
            fs::perms::none);
  auto a = admin();
  // node-a is Active, then Standby, then Active again: one failover seen.
  ASSERT_TRUE(publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")}},
                            [&] { return a.get("/api/v1/groups/g1").status == 200; }));
  publish({{"hasys.g1.node-a.status", status_json("g1", "node-a", "standby")},
           {"hasys.g1.node-a.status", status_json("g1", "node-a", "active")}});
  std::string text;
  ASSERT_TRUE(eventually([&] {
    auto r = anon.request("GET", "/metrics", "", {{"Authorization", "Bearer " + token}});
    text = r.body;
    return r.status == 200 &&
           text.find("hasys_group_failovers_total{group=\"g1\"} 1") != std::string::npos;
  })) << text;
  EXPECT_NE(text.find("hasys_node_role{group=\"g1\",node=\"node-a\",role=\"active\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("hasys_api_request_duration_seconds_count"), std::string::npos);
  EXPECT_NE(text.find("hasys_api_logins_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("hasys_api_database_write_failures_total 0"), std::string::npos) << text;
  // The Prometheus text format: every sample's family declared by a TYPE line before it, and
  // each family in one block.
  std::set<std::string> typed, closed;
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "TYPE twice: " << name;
      if (!current.empty()) closed.insert(current);
      current = name;
      continue;
    }
    if (line.empty() || line.starts_with("#")) continue;
    auto name = line.substr(0, line.find_first_of("{ "));
    for (auto suffix : {"_bucket", "_sum", "_count"})
      if (name.ends_with(suffix) &&
          typed.contains(name.substr(0, name.size() - std::string(suffix).size())))
        name = name.substr(0, name.size() - std::string(suffix).size());
    EXPECT_EQ(name, current) << line;
    EXPECT_FALSE(closed.contains(name)) << "family split: " << line;
  }
  EXPECT_EQ(a.get("/metrics").status, 200);  // an administrator's session
}

TEST_F(manager_api, nodes_register_after_the_managers_hello_and_admins_edit_the_list) {  // M4
  // A stand-in node: it registers when it hears hello, as hasys-heartbeat does.
  const std::string registration =
      R"({"v":1,"group":"g1","node":"node-a","peer":"node-b","public_address":"198.51.100.11",)"
      R"("heartbeat_address":"192.0.2.11","virtual_ips":["198.51.100.100"],"version":"0.1.0",)"
      R"("protocol":1,"boot_id":7,"time_unix_ms":1,"reason":"hello"})";
  boost::asio::io_context ioc;
  std::promise<void> subscribed;
  std::thread node([&] {
    auto op = [&]() -> boost::asio::awaitable<void> {
      auto o = hasys::bus::options{};
      o.url = hub.url();
      auto c = co_await hasys::bus::connection::open(ioc.get_executor(), o);
      auto hello = c.subscribe("hasys.mgr.hello");
      (void)co_await c.flush(2s);
      subscribed.set_value();
      if (co_await hello.next()) {
        c.publish("hasys.reg.g1.node-a", registration);
        // Speaking in another node's name is refused.
        c.publish("hasys.reg.g1.node-z", registration);
        (void)co_await c.flush(2s);
      }
      c.close();
    };
    boost::asio::co_spawn(ioc, op(), [](std::exception_ptr) {});
    ioc.run_for(20s);
  });
  ASSERT_EQ(subscribed.get_future().wait_for(10s), std::future_status::ready);
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  ASSERT_TRUE(eventually([&] { return body_of(a.get("/api/v1/servers")).as_array().size() == 1; }))
      << a.get("/api/v1/servers").body;
  node.join();
  auto list = body_of(a.get("/api/v1/servers"));
  EXPECT_EQ(list.at(0).at("node"), "node-a");
  EXPECT_EQ(list.at(0).at("version"), "0.1.0");
  EXPECT_EQ(list.at(0).at("virtual_ips").at(0), "198.51.100.100");
  EXPECT_EQ(list.at(0).at("manual"), false);

  auto r = a.request("POST", "/api/v1/servers",
                     R"({"group":"g9","node":"db-1","public_address":"not an ip","note":""})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(text(body_of(r), "error").find("public_address"), std::string::npos) << r.body;
  ASSERT_EQ(
      a.request("POST", "/api/v1/servers",
                R"({"group":"g9","node":"db-1","public_address":"198.51.100.31","note":"rack 4"})")
          .status,
      201);
  EXPECT_EQ(a.request("PUT", "/api/v1/servers/g9/db-1", R"({"note":"rack 5"})").status, 200);
  EXPECT_EQ(a.request("PUT", "/api/v1/servers/g9/db-1", R"({"colour":"red"})").status, 400);
  list = body_of(a.get("/api/v1/servers"));
  ASSERT_EQ(list.as_array().size(), 2u);
  EXPECT_EQ(list.at(1).at("note"), "rack 5");
  EXPECT_EQ(list.at(1).at("manual"), true);
  EXPECT_EQ(a.request("DELETE", "/api/v1/servers/g9/db-1").status, 200);
  EXPECT_EQ(a.request("DELETE", "/api/v1/servers/g9/db-1").status, 404);

  // Users see the servers of their groups only, and change none.
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"eve","password":"eve-pass-1","admin":false})")
          .status,
      201);
  auto eve = first_login("eve");
  ASSERT_FALSE(eve.cookie.empty());
  EXPECT_EQ(body_of(eve.get("/api/v1/servers")).as_array().size(), 0u);
  EXPECT_EQ(eve.request("DELETE", "/api/v1/servers/g1/node-a").status, 403);
}

TEST_F(manager_api, events_are_searched_and_exported_through_the_store_within_scope) {  // E2, E3
  // The real event store in manager mode on the same hub, sharing the export folder.
  auto store = start_store();
  ASSERT_NO_FATAL_FAILURE(start({"--export-dir", (dir / "exports").string()}));
  // Two nodes' batches, as their forwarders send them (the store answers once committed).
  auto batch = [](const std::string& group, const std::string& node, const std::string& text) {
    json::array events;
    for (int i = 1; i <= 3; ++i)
      events.push_back(
          json::object{{"v", 1},
                       {"seq", i},
                       {"event", json::object{{"v", 1},
                                              {"time_unix_ms", 1796160000000 + i},
                                              {"group", group},
                                              {"node", node},
                                              {"source", "heartbeat"},
                                              {"severity", i == 3 ? "critical" : "information"},
                                              {"code", "active"},
                                              {"text", text + " " + std::to_string(i)},
                                              {"details", json::object{}}}}});
    return json::serialize(json::object{{"v", 1}, {"node", node}, {"events", events}});
  };
  ingest({{"node-a", batch("g1", "node-a", "서버 활성화")},
          {"node-c", batch("g2", "node-c", "other group")}});

  auto a = admin();
  auto r = a.get("/api/v1/events?page_size=10");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("total"), 6) << r.body;
  r = a.get("/api/v1/events?kind=basic&field=text&keyword=%EC%84%9C%EB%B2%84");  // 서버
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("total"), 3) << r.body;
  r = a.get("/api/v1/events?severities=critical&groups=g1,g2");
  EXPECT_EQ(body_of(r).at("total"), 2) << r.body;
  EXPECT_EQ(a.get("/api/v1/events?page=x").status, 400);
  r = a.get("/api/v1/events?page_size=5000");
  EXPECT_EQ(r.status, 400) << r.body;  // the store's own refusal, passed on

  // eve sees g1's events only, whatever she asks for.
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"eve","password":"eve-pass-1","admin":false})")
          .status,
      201);
  ASSERT_EQ(a.request("POST", "/api/v1/business-groups", R"({"name":"web"})").status, 201);
  ASSERT_EQ(
      a.request("PUT", "/api/v1/business-groups/web", R"({"ha_groups":["g1"],"users":["eve"]})")
          .status,
      200);
  auto eve = first_login("eve");
  ASSERT_FALSE(eve.cookie.empty());
  r = eve.get("/api/v1/events?groups=g1,g2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("total"), 3) << r.body;
  EXPECT_EQ(r.body.find("node-c"), std::string::npos) << r.body;

  // Exports: CSV and XLSX, of the user's scope, sent as files.
  r = eve.request("POST", "/api/v1/events/export", R"({"format":"csv","max_rows":100,"query":{}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("text/csv"), std::string::npos);
  EXPECT_NE(r.header("content-disposition").find("attachment"), std::string::npos);
  EXPECT_NE(r.body.find("서버 활성화 3"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("other group"), std::string::npos) << r.body;
  r = a.request("POST", "/api/v1/events/export",
                R"({"format":"xlsx","max_rows":100,"query":{"severities":"critical"}})");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  EXPECT_TRUE(r.body.starts_with("PK")) << "not an XLSX (zip) file";
  EXPECT_EQ(
      a.request("POST", "/api/v1/events/export", R"({"format":"pdf","max_rows":1,"query":{}})")
          .status,
      400);
  EXPECT_EQ(
      a.request("POST", "/api/v1/events/export", R"({"format":"csv","max_rows":0,"query":{}})")
          .status,
      400);
  EXPECT_TRUE(fs::is_empty(dir / "exports"));  // each file sent once, then removed
}

TEST_F(manager_api, a_read_only_user_watches_and_acts_on_nothing) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = admin();
  EXPECT_EQ(a.request("POST", "/api/v1/users",
                      R"({"name":"x","password":"x-pass-1","admin":true,"read_only":true})")
                .status,
            400);
  ASSERT_EQ(a.request("POST", "/api/v1/users",
                      R"({"name":"noc","password":"noc-pass-1","admin":false,"read_only":true})")
                .status,
            201);
  ASSERT_EQ(a.request("POST", "/api/v1/business-groups", R"({"name":"all"})").status, 201);
  ASSERT_EQ(
      a.request("PUT", "/api/v1/business-groups/all", R"({"ha_groups":["g1"],"users":["noc"]})")
          .status,
      200);
  ASSERT_TRUE(publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")}},
                            [&] { return a.get("/api/v1/groups/g1").status == 200; }));
  stand_in_node node_a(hub.url(), "hasys.g1.node-a.cmd.*",
                       R"({"v":1,"accepted":true,"text":"done"})");
  auto noc = first_login("noc");
  ASSERT_FALSE(noc.cookie.empty());
  EXPECT_EQ(body_of(noc.get("/api/v1/session")).at("read_only"), true);
  EXPECT_EQ(noc.get("/api/v1/groups/g1").status, 200);
  hasys::test::wss_client ws("127.0.0.1", port, "/api/v1/stream", noc.cookie);
  ASSERT_TRUE(ws.open());
  EXPECT_TRUE(ws.read(2s));
  auto r = noc.request("POST", "/api/v1/groups/g1/operations",
                       R"({"kind":"manual_failover","node":""})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(noc.request("POST", "/api/v1/groups/g1/operations?dry_run=1",
                        R"({"kind":"manual_failover","node":""})")
                .status,
            403);
  EXPECT_TRUE(node_a.asked().empty());
  // An admin lifts it; making an admin read-only is refused.
  EXPECT_EQ(a.request("PUT", "/api/v1/users/hasys", R"({"read_only":true})").status, 400);
  EXPECT_EQ(a.request("PUT", "/api/v1/users/noc", R"({"read_only":false})").status, 200);
  EXPECT_EQ(
      noc.request("POST", "/api/v1/groups/g1/operations", R"({"kind":"manual_failover","node":""})")
          .status,
      200);
}

TEST_F(manager_api, an_audited_operation_links_to_the_events_it_caused) {
  auto store = start_store();
  ASSERT_NO_FATAL_FAILURE(start({"--export-dir", (dir / "exports").string()}));
  auto a = admin();
  ASSERT_TRUE(publish_until({{"hasys.g1.node-a.status", status_json("g1", "node-a", "active")},
                             {"hasys.g1.node-b.status", status_json("g1", "node-b", "standby")}},
                            [&] {
                              auto r = a.get("/api/v1/groups/g1");
                              return r.status == 200 &&
                                     body_of(r).at("nodes").as_array().size() == 2;
                            }));
  std::string action_id;
  {
    stand_in_node node_a(hub.url(), "hasys.g1.node-a.cmd.*",
                         R"({"v":1,"accepted":true,"text":"handing over"})");
    auto r = a.request("POST", "/api/v1/groups/g1/operations",
                       R"({"kind":"manual_failover","node":""})");
    ASSERT_EQ(r.status, 200) << r.body;
    action_id = text(body_of(r), "action_id");
  }
  const auto entries = body_of(a.get("/api/v1/audit?limit=1"));
  const auto id = entries.at(0).at("id").as_int64();
  ASSERT_EQ(entries.at(0).at("action_id"), action_id.c_str());
  // What the nodes raised meanwhile, as their forwarders deliver it: node-a tags its events with
  // the id; node-b's take-over is not tagged; another group's event is not this operation's.
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto event = [&](const std::string& group, const std::string& node, const std::string& code,
                   std::int64_t seq, bool tagged) {
    json::object details;
    if (tagged) details["action_id"] = action_id;
    return json::object{{"v", 1},
                        {"seq", seq},
                        {"event", json::object{{"v", 1},
                                               {"time_unix_ms", now + seq},
                                               {"group", group},
                                               {"node", node},
                                               {"source", "heartbeat"},
                                               {"severity", "information"},
                                               {"code", code},
                                               {"text", code + " [" + node + "]"},
                                               {"details", details}}}};
  };
  auto batch = [](const std::string& node, json::array events) {
    return json::serialize(json::object{{"v", 1}, {"node", node}, {"events", std::move(events)}});
  };
  ingest({{"node-a", batch("node-a", {event("g1", "node-a", "operator_command", 1, true),
                                      event("g1", "node-a", "standby", 2, true)})},
          {"node-b", batch("node-b", {event("g1", "node-b", "active", 1, false)})},
          {"node-c", batch("node-c", {event("g2", "node-c", "active", 1, false)})}});

  auto r = a.get("/api/v1/audit/" + std::to_string(id) + "/events");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = body_of(r);
  EXPECT_EQ(v.at("entry").at("action"), "operation manual_failover");
  ASSERT_EQ(v.at("caused").as_array().size(), 2u) << r.body;
  EXPECT_EQ(v.at("caused").at(0).at("node"), "node-a");
  ASSERT_EQ(v.at("around").as_array().size(), 1u) << r.body;
  EXPECT_EQ(v.at("around").at(0).at("event").at("code"), "active");
  EXPECT_EQ(v.at("around").at(0).at("node"), "node-b");
  EXPECT_EQ(a.get("/api/v1/audit/x/events").status, 400);
}

TEST_F(manager_api, an_export_is_sent_only_as_the_store_wrote_it) {
  fs::create_directories(dir / "exports");
  std::ofstream(dir / "exports" / "short.csv") << "a,b\n";  // 4 bytes; the store says 400
  std::ofstream(dir / "elsewhere.csv") << "x";
  ASSERT_NO_FATAL_FAILURE(start({"--export-dir", (dir / "exports").string()}));
  auto a = admin();
  const std::string body = R"({"format":"csv","max_rows":10,"query":{}})";
  {
    // A stand-in event store: its answer names a file cut short.
    stand_in_node store(hub.url(), "hasys.mgr.evt.export",
                        R"({"v":1,"ok":true,"error":"","file":")" +
                            (dir / "exports" / "short.csv").string() +
                            R"(","rows":10,"bytes":400})");
    auto r = a.request("POST", "/api/v1/events/export", body);
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_NE(text(body_of(r), "error").find("400"), std::string::npos) << r.body;
  }
  {
    // One outside the export folder is never read.
    stand_in_node store(hub.url(), "hasys.mgr.evt.export",
                        R"({"v":1,"ok":true,"error":"","file":")" +
                            (dir / "elsewhere.csv").string() + R"(","rows":1,"bytes":1})");
    auto r = a.request("POST", "/api/v1/events/export", body);
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_TRUE(fs::exists(dir / "elsewhere.csv"));
  }
}

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A real hasys-heartbeat (standalone: no executor, no real-time) talking straight to the hub,
// over UDP on loopback addresses 127.0.0.11 (node-a) and 127.0.0.12 (node-b).
struct heartbeat_pair {
  fs::path dir;
  std::string hub_url;
  std::uint16_t udp_port = static_cast<std::uint16_t>(30000 + (::getpid() % 20000));
  // The group's key, shared by both nodes' files.
  heartbeat_pair(fs::path d, std::string url) : dir(std::move(d)), hub_url(std::move(url)) {
    fs::create_directories(dir);
    std::ofstream(dir / "g1.key") << std::string(64, 'a') << "\n";
    fs::permissions(dir / "g1.key", fs::perms::owner_read | fs::perms::owner_write);
  }
  fs::path file(char n) const { return dir / std::string(1, n) / "node.toml"; }
  void write(char n) const {
    const char peer = n == 'a' ? 'b' : 'a';
    const fs::path d = dir / std::string(1, n);
    fs::create_directories(d);
    std::ofstream(file(n))
        << "[node]\nname = \"node-" << n << "\"\nstate_dir = \"" << (d / "state").string()
        << "\"\ncommand_dir = \"" << (d / "cmd").string() << "\"\nbus_url = \"" << hub_url
        << "\"\ncontrol_socket_dir = \"" << (d / "run").string()
        << "\"\n\n[[group]]\nname = \"g1\"\npeer = \"node-" << peer
        << "\"\nkey_file = \"../g1.key\"\npolling_period = \"100ms\"\npublic_interface = \"lo\"\n"
        << "\n[group.public]\nself = \"127.0.0." << (n == 'a' ? 11 : 12) << "\"\npeer = \"127.0.0."
        << (n == 'a' ? 12 : 11) << "\"\nport = " << udp_port << "\n";
  }
  child_process start(char n) const {
    return child_process(
        child_process::spec{HASYS_HEARTBEAT,
                            {"--config", file(n).string(), "--standalone", "--no-realtime"},
                            dir / (std::string(1, n) + ".log")});
  }
};

const json::value* daemon_of(const json::value& node_row, std::string_view daemon) {
  for (const auto& d : node_row.at("daemons").as_array())
    if (d.at("daemon").as_string() == daemon) return &d;
  return nullptr;
}

}  // namespace

// M8/M9 through the API against real heartbeat daemons (issue 11): read, refused whole on both
// servers, checked without writing, written on both, and written on neither when one of them
// cannot answer.
TEST_F(manager_api,
       remote_configuration_is_checked_on_both_servers_and_written_on_both_or_neither) {
  ASSERT_NO_FATAL_FAILURE(start());
  heartbeat_pair pair{dir / "nodes", hub.url()};
  pair.write('a');
  pair.write('b');
  auto node_a = pair.start('a');
  std::optional<child_process> node_b(pair.start('b'));
  auto a = admin();
  auto both_seen = [&] {
    auto v = body_of(a.get("/api/v1/groups/g1"));
    const auto* nodes = v.is_object() ? v.as_object().if_contains("nodes") : nullptr;
    return nodes && nodes->as_array().size() == 2;
  };
  ASSERT_TRUE(eventually(both_seen, 15s))
      << a.get("/api/v1/groups/g1").body << read_text(pair.dir / "a.log");

  auto r = a.get("/api/v1/groups/g1/nodes/node-a/config");
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = body_of(r);
  EXPECT_EQ(got.at("settings").at("polling_period"), "100ms") << r.body;
  EXPECT_EQ(got.at("fixed").at("peer"), "node-b") << r.body;
  EXPECT_EQ(got.at("peer"), "node-b") << r.body;
  const std::string version_a = text(got, "version");
  EXPECT_EQ(a.get("/api/v1/groups/g1/nodes/node-z/config").status, 404);
  EXPECT_EQ(a.get("/api/v1/groups/nope/nodes/node-a/config").status, 404);
  const std::string before_a = read_text(pair.file('a')), before_b = read_text(pair.file('b'));

  // Refused whole, every field named on each server; nothing written.
  r = a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                R"({"changes":{"polling_count":0,"public_interface":"eth9",
                    "flow":[{"type":"application","name":"app","start":"start.sh","stop":"/bin/true"}]},
                    "apply_to_peer":true})");
  ASSERT_EQ(r.status, 422) << r.body;
  const auto refused1 = body_of(r);
  for (const auto& n : refused1.at("nodes").as_array()) {
    std::set<std::string> fields;
    for (const auto& e : n.at("errors").as_array()) fields.insert(text(e, "field"));
    EXPECT_EQ(fields, (std::set<std::string>{"public_interface"}))
        << n;  // read-only: refused first
  }
  r = a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                R"({"changes":{"polling_count":0,
                    "flow":[{"type":"application","name":"app","start":"start.sh","stop":"/bin/true"}]},
                    "apply_to_peer":true})");
  ASSERT_EQ(r.status, 422) << r.body;
  const auto refused2 = body_of(r);
  for (const auto& n : refused2.at("nodes").as_array()) {
    std::set<std::string> fields;
    for (const auto& e : n.at("errors").as_array()) fields.insert(text(e, "field"));
    EXPECT_EQ(fields, (std::set<std::string>{"polling_count", "flow[0].start"})) << n;
  }
  EXPECT_EQ(a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config", R"({"changes":{}})").status,
            400);
  EXPECT_EQ(a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                      R"({"changes":{"mode":"manual"},"colour":1})")
                .status,
            400);
  // Checked only.
  r = a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config?dry_run=1",
                R"({"changes":{"polling_count":5},"apply_to_peer":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("dry_run"), true);
  EXPECT_EQ(read_text(pair.file('a')), before_a);
  EXPECT_EQ(read_text(pair.file('b')), before_b);

  // Written on both and taken live by each heartbeat.
  r = a.request(
      "PATCH", "/api/v1/groups/g1/nodes/node-a/config",
      R"({"changes":{"polling_count":5,"mode":"manual"},"apply_to_peer":true,"expected_version":")" +
          version_a + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto done = body_of(r);
  const std::string action_id = text(done, "action_id");
  for (const auto& n : done.at("nodes").as_array()) {
    EXPECT_EQ(n.at("ok"), true) << n;
    const auto* hb = daemon_of(n, "heartbeat");
    ASSERT_TRUE(hb) << n;
    EXPECT_EQ(hb->at("status"), "applied") << n;
    const auto* mon = daemon_of(n, "monitor");
    ASSERT_TRUE(mon) << n;
    EXPECT_EQ(mon->at("status"), "no answer") << n;  // none runs here: it reads the file at start
  }
  EXPECT_NE(read_text(pair.file('a')), before_a);
  EXPECT_NE(read_text(pair.file('b')), before_b);
  auto live_mode = [&] {
    auto v = body_of(a.get("/api/v1/groups/g1"));
    int manual = 0;
    for (const auto& n : v.at("nodes").as_array())
      if (n.at("mode") == "manual") ++manual;
    return manual == 2;
  };
  EXPECT_TRUE(eventually(live_mode, 5s)) << a.get("/api/v1/groups/g1").body;
  got = body_of(a.get("/api/v1/groups/g1/nodes/node-b/config"));
  EXPECT_EQ(got.at("settings").at("polling_count"), 5) << got;
  ASSERT_EQ(got.at("history").as_array().size(), 1u) << got;
  bool audited = false;
  const auto audit = body_of(a.get("/api/v1/audit?limit=5"));
  for (const auto& e : audit.as_array())
    if (text(e, "action_id") == action_id && text(e, "action") == "configuration change")
      audited = true;
  EXPECT_TRUE(audited) << audit;

  // A version read before someone else's change is refused; so is a change when the peer is
  // gone — and then the first server keeps its file too.
  r = a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                R"({"changes":{"polling_count":6},"expected_version":")" + version_a + R"("})");
  EXPECT_EQ(r.status, 409) << r.body;
  const std::string after_a = read_text(pair.file('a'));
  node_b.reset();
  r = a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                R"({"changes":{"polling_count":6},"apply_to_peer":true})");
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(read_text(pair.file('a')), after_a);
  {
    // A peer that accepts the check but is gone at the commit: node a, written first, is brought
    // back to the version it had.
    stand_in_node half_b(
        hub.url(), "hasys.g1.node-b.cmd.config_prepare",
        R"({"v":1,"ok":true,"text":"checked","errors":[],"changed":true,"version":"x","previous_version":"y","daemons":[]})");
    r = a.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                  R"({"changes":{"polling_count":7},"apply_to_peer":true})");
    EXPECT_EQ(r.status, 502) << r.body;
    const auto undone = body_of(r);
    ASSERT_TRUE(undone.is_object()) << r.body;
    const auto& first = undone.at("nodes").as_array().at(0);
    EXPECT_EQ(first.at("node"), "node-a") << r.body;
    ASSERT_TRUE(first.as_object().contains("restored")) << r.body;
    EXPECT_EQ(first.at("restored").at("ok"), true) << r.body;
    EXPECT_EQ(read_text(pair.file('a')), after_a);
  }
  // A read-only user reads and changes nothing.
  ASSERT_EQ(a.request("POST", "/api/v1/users",
                      R"({"name":"wall","password":"wall-pass-1","admin":false,"read_only":true})")
                .status,
            201);
  ASSERT_EQ(a.request("POST", "/api/v1/business-groups", R"({"name":"noc"})").status, 201);
  ASSERT_EQ(
      a.request("PUT", "/api/v1/business-groups/noc", R"({"ha_groups":["g1"],"users":["wall"]})")
          .status,
      200);
  auto wall = first_login("wall");
  EXPECT_EQ(wall.get("/api/v1/groups/g1/nodes/node-a/config").status, 200);
  EXPECT_EQ(wall.request("PATCH", "/api/v1/groups/g1/nodes/node-a/config",
                         R"({"changes":{"polling_count":4}})")
                .status,
            403);
}

// E4 through the API: the event store's fault rules, read and replaced whole by administrators.
TEST_F(manager_api, fault_rules_are_read_and_replaced_whole_by_administrators) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto store = start_store();
  auto a = admin();
  auto ready = [&] { return a.get("/api/v1/fault-rules").status == 200; };
  ASSERT_TRUE(eventually(ready, 15s)) << a.get("/api/v1/fault-rules").body;
  auto r = a.request("PUT", "/api/v1/fault-rules",
                     R"({"rules":[{"server":"*","code":"peer_lost","store":true,"forward":true},)"
                     R"({"server":"node-a","code":"*","store":true,"forward":false}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("rules").as_array().size(), 2u) << r.body;
  // Refused whole, the old set kept.
  r = a.request("PUT", "/api/v1/fault-rules",
                R"({"rules":[{"server":"bad name!","code":"*","store":true,"forward":false}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(a.request("PUT", "/api/v1/fault-rules", R"({"rulez":[]})").status, 400);
  const auto now = body_of(a.get("/api/v1/fault-rules"));
  ASSERT_TRUE(now.is_object());
  EXPECT_EQ(now.at("rules").as_array().size(), 2u) << now;
  ASSERT_EQ(
      a.request("POST", "/api/v1/users", R"({"name":"op","password":"op-pass-1","admin":false})")
          .status,
      201);
  auto op = first_login("op");
  EXPECT_EQ(op.get("/api/v1/fault-rules").status, 403);
  bool audited = false;
  const auto audit = body_of(a.get("/api/v1/audit?limit=10"));
  for (const auto& e : audit.as_array())
    if (text(e, "action") == "fault rules" && text(e, "result").starts_with("ok")) audited = true;
  EXPECT_TRUE(audited) << audit;
}

// A heartbeat killed after writing a new configuration but before passing it on finds its marker
// at the next start and tells the other daemons then (they compare the file with what they run);
// one that does not answer is asked again every 5 s, and the marker stays until it has answered.
TEST_F(manager_api, a_heartbeat_restarted_in_the_middle_of_a_change_passes_it_on_at_start) {
  heartbeat_pair pair{dir / "nodes", hub.url()};
  pair.write('a');
  const auto marker = pair.dir / "a" / "state" / "config-history" / "applying";
  fs::create_directories(marker.parent_path());
  std::ofstream(marker) << "0123456789abcdef\n";
  auto node_a = pair.start('a');
  // Nobody answers for hasys-monitor yet: the marker stays, and the heartbeat asks again.
  EXPECT_TRUE(eventually(
      [&] { return read_text(pair.dir / "a.log").find("monitor no answer") != std::string::npos; },
      15s))
      << read_text(pair.dir / "a.log");
  EXPECT_TRUE(fs::exists(marker)) << "told nobody, yet marked as passed on";
  stand_in_node monitor(hub.url(), "hasys.local.node-a.config.monitor",
                        R"({"v":1,"daemon":"monitor","status":"unchanged","text":"same file"})");
  EXPECT_TRUE(eventually([&] { return !monitor.asked().empty(); }, 15s))
      << read_text(pair.dir / "a.log");
  EXPECT_TRUE(eventually([&] { return !fs::exists(marker); }, 5s)) << read_text(pair.dir / "a.log");
  EXPECT_NE(read_text(pair.dir / "a.log").find("monitor unchanged"), std::string::npos)
      << read_text(pair.dir / "a.log");
}
