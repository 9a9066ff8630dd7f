// The manager hub (issue 10): each node's nats-server is a leaf of the hub over TLS with
// credentials and an account of its own (deploy/nats/hub-conf.sh and node-leaf.conf.template,
// rendered here as set-up renders them). Events
// cross to the manager's store and survive the leaf link's loss; with node A's credentials
// nothing speaks for node B, commands to B never reach A, and node-local subjects stay home.
#include "event_db.hpp"
#include "raiser.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/events/outbox.hpp>
#include <hasys/test/child_process.hpp>
#include <hasys/test/nats_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
namespace proto = hasys::proto;
using hasys::event_store::event_db;
using hasys::test::child_process;
using hasys::test::nats_server;
using namespace std::chrono_literals;

namespace {

std::string read(const fs::path& p) {
  std::stringstream s;
  s << std::ifstream(p).rdbuf();
  return s.str();
}

std::string render(std::string text, const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [k, v] : vars)
    for (std::size_t at; (at = text.find("@" + k + "@")) != std::string::npos;)
      text.replace(at, k.size() + 2, v);
  return text;
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A client of one nats-server on a thread of its own: publishes, and keeps what it hears.
class client {
 public:
  client(std::string url, std::string user, std::string password, std::string subscribe_to) {
    thread_ = std::thread([this, url, user, password, subscribe_to] {
      boost::asio::co_spawn(ioc_, open(url, user, password, subscribe_to), boost::asio::detached);
      ioc_.run();
    });
    std::unique_lock lock(m_);
    cv_.wait_for(lock, 10s, [&] { return ready_; });
  }
  ~client() {
    boost::asio::post(ioc_, [this] {
      if (conn_) conn_->close();
      ioc_.stop();
    });
    thread_.join();
  }
  void publish(std::string subject, std::string data = "x") {
    boost::asio::post(ioc_, [this, subject = std::move(subject), data = std::move(data)] {
      if (conn_) conn_->publish(subject, data);
    });
  }
  bool heard(const std::string& subject, std::chrono::milliseconds within) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, within, [&] {
      return std::find(subjects_.begin(), subjects_.end(), subject) != subjects_.end();
    });
  }
  std::vector<std::string> subjects() {
    std::lock_guard lock(m_);
    return subjects_;
  }

 private:
  boost::asio::awaitable<void> open(std::string url, std::string user, std::string password,
                                    std::string subject) {
    hasys::bus::options o;
    o.url = url;
    o.user = user;
    o.password = password;
    o.name = "leaf-test";
    conn_.emplace(co_await hasys::bus::connection::open(ioc_.get_executor(), o));
    auto sub = conn_->subscribe(subject, 100000);
    co_await conn_->flush(5s);
    {
      std::lock_guard lock(m_);
      ready_ = true;
    }
    cv_.notify_all();
    while (auto m = co_await sub.next()) {
      {
        std::lock_guard lock(m_);
        subjects_.push_back(m->subject);
      }
      cv_.notify_all();
    }
  }

  boost::asio::io_context ioc_;
  std::optional<hasys::bus::connection> conn_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  bool ready_ = false;
  std::vector<std::string> subjects_;
};

struct leaf_site : ::testing::Test {
  fs::path dir;
  std::uint16_t leaf_port = free_port();
  std::optional<nats_server> hub, node_a, node_b;
  std::optional<child_process> forwarder, store;

  void SetUp() override {
    static int n = 0;
    dir = fs::temp_directory_path() /
          ("hlf" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::remove_all(dir);
    fs::create_directories(dir);
    // The set-up's CA and the hub's certificate (made here, as set-up makes them: never kept).
    const std::string d = dir.string();
    const std::string cmd =
        "cd " + d +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -subj /CN=hasys-test-ca -keyout ca.key -out ca.pem"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -subj /CN=hasys-hub -keyout hub.key -out hub.csr"
        " && printf 'subjectAltName=IP:127.0.0.1\\n' > hub.ext"
        " && openssl x509 -req -in hub.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1"
        " -extfile hub.ext -out hub.pem) >" + d + "/openssl.log 2>&1";  // in the test's folder
    ASSERT_EQ(std::system(("(" + cmd).c_str()), 0) << read(dir / "openssl.log");

    const std::string render_hub =
        std::string(HASYS_NATS_TEMPLATES) +
        "/hub-conf.sh --listen 127.0.0.1:4222 --leaf-listen 127.0.0.1:" +
        std::to_string(leaf_port) + " --cert " + d + "/hub.pem --key " + d +
        "/hub.key --manager manager:manager-secret --integrator itsm:itsm-secret "
        "node-a:leaf-secret-node-a node-b:leaf-secret-node-b > " +
        d + "/hub.conf 2>&1";
    ASSERT_EQ(std::system(render_hub.c_str()), 0) << read(dir / "hub.conf");
    hasys::test::nats_server_options ho;
    ho.config = read(dir / "hub.conf");
    hub.emplace(ho);
    node_a.emplace(node_options("node-a"));
    node_b.emplace(node_options("node-b"));
    std::ofstream(dir / "manager.cred") << "manager:manager-secret\n";
    std::ofstream(dir / "node-a.cred") << "local:local-secret\n";
  }
  void TearDown() override {
    forwarder.reset();
    store.reset();
    node_a.reset();
    node_b.reset();
    hub.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  hasys::test::nats_server_options node_options(const std::string& node) {
    fs::create_directories(dir / node);
    hasys::test::nats_server_options o;
    o.config = render(read(fs::path(HASYS_NATS_TEMPLATES) / "node.conf.template"),
                      {{"SERVER_NAME", node},
                       {"LISTEN", "127.0.0.1:4222"},
                       {"USER", "local"},
                       {"PASSWORD", "local-secret"},
                       {"STORE_DIR", (dir / node).string()}}) +
               "\n" +
               render(read(fs::path(HASYS_NATS_TEMPLATES) / "node-leaf.conf.template"),
                      {{"LEAF_USER", node},
                       {"LEAF_PASSWORD", "leaf-secret-" + node},
                       {"MANAGER_ADDRESS", "127.0.0.1"},
                       {"MANAGER_PORT", std::to_string(leaf_port)},
                       {"MANAGER_CA", (dir / "ca.pem").string()}});
    return o;
  }

  // The leaf link carries node A's own events to the hub (interest crosses it in a moment).
  void wait_for_leaf(client& on_hub, client& on_a) {
    for (int i = 0; i < 200 && !on_hub.heard("hasys.evt.g.node-a", 50ms); ++i)
      on_a.publish("hasys.evt.g.node-a");
    ASSERT_TRUE(on_hub.heard("hasys.evt.g.node-a", 1s)) << "no leaf link\nhub log:\n"
                                                        << hub->log() << "\nnode-a log:\n"
                                                        << node_a->log();
  }

  void write_node_toml() {
    std::ofstream(dir / "key") << std::string(64, 'a') << "\n";
    fs::permissions(dir / "key", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream(dir / "node.toml")
        << "[node]\nname = \"node-a\"\nstate_dir = \"" << (dir / "state").string()
        << "\"\ncommand_dir = \"" << (dir / "cmd").string() << "\"\nbus_url = \"" << node_a->url()
        << "\"\nbus_credentials = \"node-a.cred\"\n\n"
           "[[group]]\nname = \"g\"\npeer = \"node-b\"\nkey_file = \"key\"\n"
           "public_interface = \"eth0\"\n\n[group.public]\n"
           "self = \"203.0.113.11\"\npeer = \"203.0.113.12\"\nport = 29955\n\n"
           "[[group.flow]]\ntype = \"wait\"\nname = \"w\"\nseconds = 1\n";
  }
  std::uint64_t kept() {
    return fs::exists(dir / "events.db") ? event_db(dir / "events.db").count() : 0;
  }
  bool kept_at_least(std::uint64_t n, std::chrono::milliseconds within) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      if (kept() >= n) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

}  // namespace

TEST_F(leaf_site, events_cross_the_tls_leaf_link_and_survive_its_loss) {  // E5
  client on_hub(hub->url(), "manager", "manager-secret", "hasys.evt.>");
  client on_a(node_a->url(), "local", "local-secret", "_INBOX.unused");
  ASSERT_NO_FATAL_FAILURE(wait_for_leaf(on_hub, on_a));
  write_node_toml();
  store.emplace(
      child_process::spec{HASYS_EVENT_STORE,
                          {"--manager", "--db", (dir / "events.db").string(), "--bus", hub->url(),
                           "--bus-credentials", (dir / "manager.cred").string()},
                          dir / "store.log"});
  forwarder.emplace(child_process::spec{
      HASYS_EVENT_STORE, {"--config", (dir / "node.toml").string()}, dir / "forwarder.log"});
  hasys::test::raiser a(node_a->url(), "local", "local-secret");
  a.raise(0, 2000);
  ASSERT_TRUE(kept_at_least(1, 30s)) << read(dir / "forwarder.log") << read(dir / "store.log");
  hub->restart();  // the leaf link is cut (and the store's connection); it comes back
  a.raise(2000, 2000);
  ASSERT_TRUE(kept_at_least(4000, 60s)) << kept() << " kept\n"
                                        << read(dir / "forwarder.log") << read(dir / "store.log");
  auto rows = event_db(dir / "events.db").texts_of("node-a");
  ASSERT_EQ(rows.size(), 4000u);
  for (std::size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(rows[i].second, std::to_string(i));
}

TEST_F(leaf_site, with_node_a_credentials_nothing_speaks_for_node_b_or_leaks_local_subjects) {
  client on_hub(hub->url(), "manager", "manager-secret", ">");
  client on_a(node_a->url(), "local", "local-secret", "hasys.*.node-a.cmd.>");
  client on_b(node_b->url(), "local", "local-secret", "hasys.*.node-b.cmd.>");
  ASSERT_NO_FATAL_FAILURE(wait_for_leaf(on_hub, on_a));
  // The manager commands node B: it gets there (through B's leaf).
  for (int i = 0; i < 200 && !on_b.heard("hasys.g.node-b.cmd.failover", 50ms); ++i)
    on_hub.publish("hasys.g.node-b.cmd.failover");
  ASSERT_TRUE(on_b.heard("hasys.g.node-b.cmd.failover", 1s));
  EXPECT_FALSE(on_a.heard("hasys.g.node-b.cmd.failover", 0ms)) << "node A never hears B's commands";
  // Node A tries to speak for B, and to export what stays on a node; then says something of its
  // own. Messages of one leaf link arrive in order: once the last is at the hub, the others
  // would have been there before it.
  for (const char* s :
       {"hasys.g.node-b.cmd.forged_by_a", "hasys.evt.g.node-b", "hasys.g.node-b.status",
        "hasys.mgr.evt.ingest.node-b", "hasys.reg.g.node-b", "hasys.local.g.node-a.health",
        "$JS.API.STREAM.INFO.EVENTS"})
    on_a.publish(s);
  on_a.publish("hasys.g.node-a.status");
  ASSERT_TRUE(on_hub.heard("hasys.g.node-a.status", 5s));
  EXPECT_FALSE(on_b.heard("hasys.g.node-b.cmd.forged_by_a", 200ms)) << "node A commanded node B";
  for (const auto& s : on_hub.subjects()) {
    if (s == "hasys.g.node-b.cmd.failover") continue;  // the manager's own command, above
    EXPECT_EQ(s.find("node-b"), std::string::npos) << s << " reached the hub from node A";
    EXPECT_NE(s.rfind("hasys.local.", 0), 0u) << s << " left the node";
    EXPECT_NE(s.rfind("$JS.", 0), 0u) << s << " left the node";
  }
}

// E4: an integrator (the seed's TruITM) has an account of its own on the hub: it hears the
// events the fault rules forward and nothing else, and what it publishes reaches nobody.
TEST_F(leaf_site, an_integrator_hears_only_forwarded_events_and_commands_nobody) {
  client on_hub(hub->url(), "manager", "manager-secret", "hasys.>");
  client on_a(node_a->url(), "local", "local-secret", "hasys.*.node-a.cmd.>");
  client itsm(hub->url(), "itsm", "itsm-secret", ">");
  ASSERT_NO_FATAL_FAILURE(wait_for_leaf(on_hub, on_a));
  // The manager commands node A (it gets there), and forwards an event to integrators.
  for (int i = 0; i < 200 && !on_a.heard("hasys.g.node-a.cmd.failover", 50ms); ++i)
    on_hub.publish("hasys.g.node-a.cmd.failover");
  ASSERT_TRUE(on_a.heard("hasys.g.node-a.cmd.failover", 1s));
  on_hub.publish("hasys.itsm.g.node-a");
  ASSERT_TRUE(itsm.heard("hasys.itsm.g.node-a", 5s));
  for (const auto& s : itsm.subjects())
    EXPECT_EQ(s.rfind("hasys.itsm.", 0), 0u) << "the integrator heard " << s;
  // The integrator tries to command node A; then the manager says something A hears. What the
  // integrator published would have reached A before it, had it crossed.
  itsm.publish("hasys.g.node-a.cmd.forged_by_itsm");
  on_hub.publish("hasys.g.node-a.cmd.marker");
  ASSERT_TRUE(on_a.heard("hasys.g.node-a.cmd.marker", 5s));
  EXPECT_FALSE(on_a.heard("hasys.g.node-a.cmd.forged_by_itsm", 200ms))
      << "an integrator commanded a node";
  for (const auto& s : on_hub.subjects())
    EXPECT_EQ(s.find("forged_by_itsm"), std::string::npos) << s << " reached the manager";
}
