// hasys-executor as a real process (simulate mode: no root needed), driven by a fake heartbeat
// over the real control socket: flows up and down, stop on error, fencing on end-of-file and on
// the watchdog, and convergence after a kill -9 in the middle of a flow (no double start).
#include <hasys/proto/messages.hpp>
#include <hasys/test/child_process.hpp>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

namespace fs = std::filesystem;
namespace proto = hasys::proto;
using hasys::test::child_process;
using namespace std::chrono_literals;

namespace {

// A folder with a node config whose flow is: vip (simulated), app1, app2. Each script appends
// "<node> <start|stop>" to a log so the test can count what ran.
struct executor_fixture : ::testing::Test {
  fs::path dir;
  std::optional<child_process> executor;

  void SetUp() override {
    dir = fs::temp_directory_path() / ("hasys-exec-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "scripts");
    std::ofstream(dir / "key") << std::string(64, 'a') << "\n";
    fs::permissions(dir / "key", fs::perms::owner_read | fs::perms::owner_write);
  }
  void TearDown() override {
    executor.reset();
    // A script the executor started may still be exiting in its own session: try again briefly.
    std::error_code ec;
    for (int i = 0; i < 50 && (fs::remove_all(dir, ec), ec); ++i) std::this_thread::sleep_for(20ms);
  }

  std::string script(const std::string& name, const std::string& body) {
    const auto p = dir / "scripts" / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
  }
  std::string logger(const std::string& name, const std::string& extra = "") {
    return script(name, extra + "echo \"$HASYS_FLOW_NODE $(basename $0)\" >> " + (dir / "ran.log").string());
  }

  void write_config(const std::string& app1_start, const std::string& app1_stop, const std::string& app2_start,
                    const std::string& app2_stop, bool stop_on_error = true, const std::string& group_extra = "") {
    std::ofstream(dir / "node.toml") << R"([node]
name = "node-a"
state_dir = ")" << (dir / "state").string() << R"("
command_dir = ")" << (dir / "cmd").string() << R"("
bus_url = "nats://127.0.0.1:1"
control_socket_dir = ")" << (dir / "run").string() << R"("

[[group]]
name = "g"
peer = "node-b"
key_file = "key"
polling_period = "100ms"
public_interface = "eth0"
)" << group_extra << R"(

[group.public]
self = "203.0.113.11"
peer = "203.0.113.12"
port = 29955

[[group.flow]]
type = "vip"
name = "vip"
ip = "203.0.113.100"
prefix = 24

[[group.flow]]
type = "application"
name = "app1"
start = ")" << app1_start << R"("
stop = ")" << app1_stop << R"("
stop_on_error = )" << (stop_on_error ? "true" : "false") << R"(
timeout = "10s"

[[group.flow]]
type = "application"
name = "app2"
start = ")" << app2_start << R"("
stop = ")" << app2_stop << R"("
timeout = "10s"
)";
  }

  void start_executor() {
    executor.emplace(child_process::spec{HASYS_EXECUTOR, {"--config", (dir / "node.toml").string(), "--simulate"},
                                         dir / "executor.log"});
  }

  std::vector<std::string> ran() const {
    std::ifstream in(dir / "ran.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
  std::string executor_log() const {
    std::ifstream in(dir / "executor.log");
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
};

// The heartbeat's end of the control link.
class fake_heartbeat {
 public:
  explicit fake_heartbeat(const fs::path& socket, std::chrono::milliseconds within = 10s) {
    const auto end = std::chrono::steady_clock::now() + within;
    for (;;) {
      fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket.c_str());
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return;
      ::close(fd_);
      fd_ = -1;
      if (std::chrono::steady_clock::now() > end) throw std::runtime_error("executor socket never came up");
      std::this_thread::sleep_for(20ms);  // the executor is starting: its socket appears soon
    }
  }
  ~fake_heartbeat() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(std::uint64_t epoch, bool up, std::int64_t watchdog_ms = 5000, std::uint64_t announce = 0) {
    const auto text = proto::to_json(proto::desired_state{"g", epoch, up, false, 1, watchdog_ms, announce});
    ASSERT_GT(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL), 0);
  }
  // Sends the desired state every 50 ms (as the heartbeat does every period) until an observed
  // state matches, or the deadline passes.
  std::optional<proto::observed_state> until(std::uint64_t epoch, bool up, proto::flow_phase phase,
                                             std::chrono::milliseconds within, bool keep_sending = true,
                                             bool desired_up = true) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
      if (keep_sending) send(epoch, desired_up);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      auto o = proto::from_json<proto::observed_state>(std::string_view(buf, static_cast<std::size_t>(n)));
      if (o && o->epoch == epoch && o->up == up && o->phase == phase) return *o;
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
};

std::size_t count(const std::vector<std::string>& lines, const std::string& line) {
  return static_cast<std::size_t>(std::count(lines.begin(), lines.end(), line));
}

}  // namespace

TEST_F(executor_fixture, brings_the_flow_up_top_down_and_down_bottom_up) {  // W1
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_EQ(ran(), (std::vector<std::string>{"app1 s1", "app2 s2"}));
  ASSERT_TRUE(hb.until(1, false, proto::flow_phase::done, 10s, true, false)) << executor_log();
  EXPECT_EQ(ran(), (std::vector<std::string>{"app1 s1", "app2 s2", "app2 t2", "app1 t1"}));
}

TEST_F(executor_fixture, stops_on_error_reports_why_and_does_not_retry_the_epoch) {  // W1
  write_config(script("s1", "echo disk full; exit 3"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  auto failed = hb.until(1, true, proto::flow_phase::failed, 10s);
  ASSERT_TRUE(failed) << executor_log();
  EXPECT_NE(failed->detail.find("app1"), std::string::npos) << failed->detail;
  EXPECT_NE(failed->detail.find("exit 3"), std::string::npos) << failed->detail;
  EXPECT_FALSE(hb.until(1, true, proto::flow_phase::done, 1s)) << "the failed epoch is not run again";
  EXPECT_EQ(count(ran(), "app2 s2"), 0u) << "nothing after the failed node ran";
  // The heartbeat then takes the flow down: the failed node's stop runs (it may hold something).
  ASSERT_TRUE(hb.until(1, false, proto::flow_phase::done, 10s, true, false)) << executor_log();
  EXPECT_EQ(count(ran(), "app1 t1"), 1u);
}

TEST_F(executor_fixture, a_node_without_stop_on_error_lets_the_flow_go_on) {
  write_config(script("s1", "exit 3"), logger("t1"), logger("s2"), logger("t2"), false);
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_EQ(count(ran(), "app2 s2"), 1u);
}

TEST_F(executor_fixture, releases_everything_when_the_heartbeat_connection_closes) {  // F9
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  {
    fake_heartbeat hb(dir / "run/executor.sock");
    ASSERT_TRUE(hb.until(4, true, proto::flow_phase::done, 10s)) << executor_log();
  }  // the heartbeat dies: its connection closes
  fake_heartbeat again(dir / "run/executor.sock");
  // The next incarnation asks for the same epoch: it was fenced, the executor says released.
  auto released = again.until(4, false, proto::flow_phase::released, 10s);
  ASSERT_TRUE(released) << executor_log();
  EXPECT_NE(released->detail.find("closed its connection"), std::string::npos) << released->detail << executor_log();
  EXPECT_EQ(count(ran(), "app1 t1"), 1u);
  EXPECT_EQ(count(ran(), "app2 t2"), 1u);
  // A new epoch brings it up again.
  ASSERT_TRUE(again.until(5, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_EQ(count(ran(), "app1 s1"), 2u);
}

TEST_F(executor_fixture, releases_everything_when_the_heartbeat_falls_silent) {  // watchdog
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  hb.send(1, true, 300);
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s, false)) << executor_log();
  // Connected but silent (a frozen heartbeat): released after the 300 ms watchdog.
  const auto t0 = std::chrono::steady_clock::now();
  auto released = hb.until(1, false, proto::flow_phase::released, 5s, false);
  ASSERT_TRUE(released) << executor_log();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 2s);
  EXPECT_NE(released->detail.find("no word from hasys-heartbeat"), std::string::npos) << released->detail;
  EXPECT_EQ(count(ran(), "app1 t1"), 1u);
}

TEST_F(executor_fixture, a_restart_in_the_middle_of_a_flow_converges_without_starting_twice) {
  const auto marker = (dir / "s1.started").string();
  // app1's start script is slow: the executor is killed while it runs.
  write_config(logger("s1", "touch " + marker + "; sleep 2; "), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  {
    fake_heartbeat hb(dir / "run/executor.sock");
    hb.send(1, true);
    for (int i = 0; i < 200 && !fs::exists(marker); ++i) std::this_thread::sleep_for(20ms);  // a file poll
    ASSERT_TRUE(fs::exists(marker)) << executor_log();
    executor->signal(SIGKILL);
    ASSERT_TRUE(executor->wait_exit(5s));
  }
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_NE(executor_log().find("interrupted by an executor restart [app1]"), std::string::npos) << executor_log();
  std::this_thread::sleep_for(2500ms);  // let the orphaned first start script finish writing
  EXPECT_EQ(count(ran(), "app1 s1"), 1u) << "app1 was started once";
  EXPECT_EQ(count(ran(), "app2 s2"), 1u) << "the flow went on from where it stopped";
}

TEST_F(executor_fixture, a_restarted_executor_brings_back_what_it_can_see_is_gone) {
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat first(dir / "run/executor.sock");  // stays open: no fence before the kill
  ASSERT_TRUE(first.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  // Killed while up: its journal says the whole flow is up, but the (simulated) VIP is gone.
  executor->signal(SIGKILL);
  ASSERT_TRUE(executor->wait_exit(5s));
  first.close();
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  const auto log = executor_log();
  std::size_t vip_ups = 0;
  for (auto at = log.find("Virtual IP is normal"); at != std::string::npos; at = log.find("Virtual IP is normal", at + 1))
    ++vip_ups;
  EXPECT_EQ(vip_ups, 2u) << "the VIP was added again\n" << log;
  EXPECT_EQ(count(ran(), "app1 s1"), 1u) << "scripts, which cannot tell, are not run twice";
}

TEST_F(executor_fixture, the_common_start_program_runs_once_per_boot_before_any_flow) {  // W8
  const auto common = logger("HA_APP_COMSRT", "sleep 0.3; ");
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"), true,
               "common_start = \"" + common + "\"\ncommon_start_wait = \"10s\"\n");
  start_executor();
  {
    fake_heartbeat hb(dir / "run/executor.sock");
    ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
    hb.send(1, false);
    ASSERT_TRUE(hb.until(1, false, proto::flow_phase::done, 10s, true, false)) << executor_log();
  }
  // The common start ran first (it runs with no flow node: HASYS_FLOW_NODE is its own name).
  const auto lines = ran();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "HA_APP_COMSRT HA_APP_COMSRT") << "the flow waited for it";
  executor.reset();  // a restart of the executor in the same machine boot
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(2, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_EQ(count(ran(), "HA_APP_COMSRT HA_APP_COMSRT"), 1u) << "not run again in the same boot";
}

TEST_F(executor_fixture, the_holder_announces_its_virtual_ip_again_when_the_heartbeat_asks) {  // W2, R5, F12
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  const std::string said = "Virtual IP is announced again [VIP: 203.0.113.100]";
  EXPECT_EQ(executor_log().find(said), std::string::npos) << "nothing asked for it yet";
  hb.send(1, true, 5000, 1);  // the peer came back, or stood down from Active
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (executor_log().find(said) == std::string::npos && std::chrono::steady_clock::now() < end)
    hb.until(1, true, proto::flow_phase::done, 100ms, false);  // waits on the socket, not a sleep
  const auto log = executor_log();
  ASSERT_NE(log.find(said), std::string::npos) << log;
  hb.send(1, true, 5000, 1);  // the same generation again: no new announcement
  hb.until(1, true, proto::flow_phase::done, 300ms, false);
  const auto again = executor_log();
  EXPECT_EQ(again.find(said, again.find(said) + 1), std::string::npos) << again;
  EXPECT_EQ(ran(), (std::vector<std::string>{"app1 s1", "app2 s2"})) << "nothing else ran";
}
