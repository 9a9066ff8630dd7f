// hasys-executor as a real process (simulate mode: no root needed), driven by a fake heartbeat
// over the real control socket: flows up and down, stop on error, fencing on end-of-file and on
// the watchdog, and convergence after a kill -9 in the middle of a flow (no double start).
#include <hasys/proto/messages.hpp>
#include <hasys/test/child_process.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

  // vip_extra: more keys of the VIP node; tail: more flow nodes after app2.
  void write_config(const std::string& app1_start, const std::string& app1_stop, const std::string& app2_start,
                    const std::string& app2_stop, bool stop_on_error = true, const std::string& group_extra = "",
                    const std::string& vip_extra = "", const std::string& tail = "") {
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
)" << vip_extra << R"(

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
)" << tail;
  }

  void start_executor() {
    executor.emplace(child_process::spec{HASYS_EXECUTOR,
                                         {"--config", (dir / "node.toml").string(), "--simulate", "--faults",
                                          (dir / "faults").string()},
                                         dir / "executor.log"});
  }
  void faults(const std::string& rules) { std::ofstream(dir / "faults", std::ios::trunc) << rules << "\n"; }
  // The stand-in kernel's addresses (--simulate keeps them in the state directory).
  // "eth0 203.0.113.100/24": present and its lease not run out (the file keeps monotonic-clock ms).
  bool kernel_has(const std::string& entry = "eth0 203.0.113.100/24") const {
    std::ifstream in(dir / "state/executor/simulated-kernel.json");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto at = text.find("\"" + entry + "\":");
    if (at == std::string::npos) return false;
    const long long expiry = std::stoll(text.substr(at + entry.size() + 3));
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch()).count();
    return expiry == 0 || expiry > now;
  }
  // Waits for a log line while answering the executor (each wait is a poll on its socket).
  template <class Heartbeat>
  bool wait_log(Heartbeat& hb, const std::string& needle, std::chrono::milliseconds within = 5s) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (executor_log().find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() > end) return false;
      hb.next(50ms);
    }
    return true;
  }
  // The count of a log line once it reached n (or the wait ran out): an event's line is written
  // just after the state that caused it was sent, so it may lag the observed state.
  template <class Heartbeat>
  std::size_t log_count_once(Heartbeat& hb, const std::string& needle, std::size_t n,
                             std::chrono::milliseconds within = 5s) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (log_count(needle) < n && std::chrono::steady_clock::now() < end) hb.next(50ms);
    return log_count(needle);
  }
  std::size_t log_count(const std::string& needle) const {
    const auto log = executor_log();
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
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
  void send_raw(const std::string& text) { ASSERT_GT(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL), 0); }
  // The next observed state within the time given.
  std::optional<proto::observed_state> next(std::chrono::milliseconds within) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(within.count())) <= 0) return std::nullopt;
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    auto o = proto::from_json<proto::observed_state>(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!o) return std::nullopt;
    return *o;
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
      char buf[65536];
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
  // Its end-of-file, or (when the next incarnation is quicker) the new connection that replaces it.
  EXPECT_TRUE(released->detail.find("closed its connection") != std::string::npos ||
              released->detail.find("connected again") != std::string::npos)
      << released->detail << executor_log();
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

// Issue 18: the executor writes its log on its slow side, never on the thread that reads the
// heartbeat's word and keeps the leases. A log nobody reads — journald stalled on a busy disk —
// fills its pipe; the flows, the answers and the watchdog go on (before, the real-time thread
// blocked in the write: no answer at all, and a false fence once it wrote again).
TEST_F(executor_fixture, a_log_nobody_reads_holds_up_neither_the_flow_nor_the_watchdog) {
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  const auto fifo = dir / "stalled-log";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  ASSERT_GE(::fcntl(reader, F_SETPIPE_SZ, 4096), 0);  // one page: a few dozen lines fill it
  executor.emplace(child_process::spec{
      HASYS_EXECUTOR, {"--config", (dir / "node.toml").string(), "--simulate"}, fifo});
  fake_heartbeat hb(dir / "run/executor.sock");
  // Flows up and down until the log's pipe is full (each run logs its events).
  int queued = 0;
  for (std::uint64_t epoch = 1; epoch <= 40 && queued < 3500; ++epoch) {
    ASSERT_TRUE(hb.until(epoch, true, proto::flow_phase::done, 10s)) << "epoch " << epoch << " did not come up";
    ASSERT_TRUE(hb.until(epoch, false, proto::flow_phase::done, 10s, true, false)) << "epoch " << epoch;
    ASSERT_EQ(::ioctl(reader, FIONREAD, &queued), 0);
  }
  ASSERT_GE(queued, 3500) << "the log never filled its pipe";
  // Full: the next run, and two seconds of the heartbeat's word every 50 ms with a 300 ms
  // watchdog, each answered, nothing released on its own.
  ASSERT_TRUE(hb.until(100, true, proto::flow_phase::done, 10s)) << "the flow stopped with its log";
  const auto end = std::chrono::steady_clock::now() + 2s;
  int answers = 0;
  while (std::chrono::steady_clock::now() < end) {
    hb.send(100, true, 300);
    auto o = hb.next(500ms);
    ASSERT_TRUE(o) << "no answer for 500 ms: the executor waits for its log";
    EXPECT_NE(o->phase, proto::flow_phase::releasing) << o->detail;
    EXPECT_NE(o->phase, proto::flow_phase::released) << o->detail;
    ++answers;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(answers, 20);
  EXPECT_TRUE(kernel_has()) << "the address's lease ran out";
  executor->signal(SIGKILL);  // before the reader goes: a write to a pipe without one is SIGPIPE
  executor->wait_exit(5s);
  ::close(reader);
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

TEST_F(executor_fixture, a_restart_within_the_lease_adopts_the_address_and_keeps_it_alive) {  // issue 7
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat first(dir / "run/executor.sock");  // stays open: no fence before the kill
  ASSERT_TRUE(first.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  // kill -9, then started again half a second later (Restart=always, RestartSec=500ms)
  executor->signal(SIGKILL);
  ASSERT_TRUE(executor->wait_exit(5s));
  first.close();
  std::this_thread::sleep_for(500ms);  // the restart delay under test, not a wait for an event
  ASSERT_TRUE(kernel_has()) << "the kill took nothing away: the lease still runs";
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  auto done = hb.until(1, true, proto::flow_phase::done, 10s);
  ASSERT_TRUE(done) << executor_log();
  EXPECT_EQ(log_count_once(hb, "taken over by the restarted executor [VIP: vip", 1), 1u) << executor_log();
  EXPECT_EQ(log_count("Virtual IP is normal"), 1u) << "adopted, not added again\n" << executor_log();
  EXPECT_TRUE(wait_log(hb, "Virtual IP is announced again")) << "clients hear the holder again" << executor_log();
  EXPECT_EQ(count(ran(), "app1 s1"), 1u) << "scripts are never run twice";
  // Two leases later the address is still there, refreshed by the new executor, and status says so.
  const auto until = std::chrono::steady_clock::now() + 2s;
  std::int64_t oldest_check = 0;
  while (std::chrono::steady_clock::now() < until) {
    hb.send(1, true);
    if (auto o = hb.next(100ms); o && !o->resources.empty()) {
      EXPECT_EQ(o->resources[0].state, "present");
      oldest_check = std::max(oldest_check, o->resources[0].verified_ms_ago);
      EXPECT_TRUE(o->holding);
    }
  }
  EXPECT_TRUE(kernel_has()) << executor_log();
  EXPECT_LT(oldest_check, 400) << "refreshed every eighth of a lease";
}

TEST_F(executor_fixture, a_restart_after_the_lease_ran_out_adds_the_address_again) {
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat first(dir / "run/executor.sock");
  ASSERT_TRUE(first.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  executor->signal(SIGKILL);
  ASSERT_TRUE(executor->wait_exit(5s));
  first.close();
  std::this_thread::sleep_for(1300ms);  // longer than the 1 s lease: the stand-in kernel drops it
  ASSERT_FALSE(kernel_has());
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_EQ(log_count_once(hb, "Virtual IP is normal", 2), 2u) << "the VIP was added again\n" << executor_log();
  EXPECT_TRUE(kernel_has());
  EXPECT_EQ(count(ran(), "app1 s1"), 1u) << "scripts, which cannot tell, are not run twice";
}

TEST_F(executor_fixture, sigterm_keeps_what_is_up_and_the_next_executor_takes_it_over) {  // issue 7
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  {
    fake_heartbeat hb(dir / "run/executor.sock");
    ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
    executor->signal(SIGTERM);  // systemctl restart hasys-executor
    auto status = executor->wait_exit(5s);
    ASSERT_TRUE(status) << executor_log();
    EXPECT_EQ(*status, 0) << hasys::test::describe_wait_status(*status);
  }
  EXPECT_NE(executor_log().find("hasys-executor stopped"), std::string::npos) << executor_log();
  EXPECT_TRUE(kernel_has()) << "an orderly stop of the executor alone releases nothing";
  EXPECT_EQ(count(ran(), "app2 t2"), 0u);
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_EQ(log_count_once(hb, "taken over by the restarted executor", 1), 1u) << executor_log();
  EXPECT_EQ(count(ran(), "app1 s1"), 1u);
}

// Fail closed (issue 11): a flow is never changed under resources it started, across a restart
// of the executor too — even when the operator's new flow dropped a script of the old one and
// deleted it. The kept copy is read without file checks; before, it was unreadable then, and the
// held group was released by the new flow's stop scripts.
TEST_F(executor_fixture, a_held_group_keeps_the_flow_it_ran_when_a_script_of_it_was_deleted) {
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  {
    fake_heartbeat hb(dir / "run/executor.sock");
    ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
    executor->signal(SIGTERM);  // keeps what is up
    ASSERT_TRUE(executor->wait_exit(5s)) << executor_log();
  }
  // The new flow: app1 with scripts of its own; the old start script removed.
  write_config(logger("s1b"), logger("t1b"), logger("s2"), logger("t2"));
  fs::remove(dir / "scripts" / "s1");
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  EXPECT_NE(executor_log().find("still holds resources of the flow it ran"), std::string::npos)
      << executor_log();
  ASSERT_TRUE(hb.until(1, false, proto::flow_phase::done, 10s, true, false)) << executor_log();
  EXPECT_EQ(count(ran(), "app1 t1"), 1u) << "released by the flow that started it";
  EXPECT_EQ(count(ran(), "app1 t1b"), 0u);
  EXPECT_EQ(count(ran(), "app1 s1b"), 0u);
}

TEST_F(executor_fixture, sigterm_during_a_release_finishes_the_release_before_exiting) {  // node target stop
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2", "sleep 1; "));
  start_executor();
  {
    fake_heartbeat hb(dir / "run/executor.sock");
    ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  }  // the heartbeat stops first (the node's target): its connection closes, the release begins
  executor->signal(SIGTERM);  // then the executor is asked to stop
  auto status = executor->wait_exit(10s);
  ASSERT_TRUE(status) << executor_log();
  EXPECT_EQ(*status, 0) << hasys::test::describe_wait_status(*status);
  EXPECT_EQ(count(ran(), "app2 t2"), 1u) << "the slow stop ran to its end";
  EXPECT_EQ(count(ran(), "app1 t1"), 1u);
  EXPECT_FALSE(kernel_has()) << "the address went first";
}

TEST_F(executor_fixture, a_removal_that_fails_during_a_release_is_never_reported_released) {  // fail closed
  // No lease on this address: nothing but a successful removal can take it away.
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"), true, "", "lease = \"0s\"\n");
  start_executor();
  {
    fake_heartbeat hb(dir / "run/executor.sock");
    ASSERT_TRUE(hb.until(4, true, proto::flow_phase::done, 10s)) << executor_log();
    faults("remove fail Operation not permitted");
  }  // the heartbeat dies: the executor lets go on its own
  fake_heartbeat again(dir / "run/executor.sock");
  auto releasing = again.until(4, false, proto::flow_phase::releasing, 5s, true, false);
  ASSERT_TRUE(releasing) << executor_log();
  EXPECT_TRUE(releasing->holding);
  // Scripts stopped, the address could not be removed: still releasing, never released.
  const auto end = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < end) {
    again.send(4, false);
    if (auto o = again.next(100ms)) {
      EXPECT_NE(o->phase, proto::flow_phase::released) << o->detail;
      EXPECT_TRUE(o->holding);
    }
  }
  EXPECT_TRUE(kernel_has());
  EXPECT_EQ(count(ran(), "app1 t1"), 1u);
  EXPECT_NE(executor_log().find("critical release_failed"), std::string::npos) << executor_log();
  EXPECT_NE(executor_log().find("Operation not permitted"), std::string::npos);
  faults("");  // the cause is fixed: the next retry removes it, verifies it, and lets go
  std::optional<proto::observed_state> let_go;
  for (const auto until = std::chrono::steady_clock::now() + 5s; !let_go && std::chrono::steady_clock::now() < until;) {
    again.send(4, false);
    auto o = again.next(100ms);
    // released, or (the heartbeat wanting the flow down) done going down: never while holding
    if (o && (o->phase == proto::flow_phase::released || o->phase == proto::flow_phase::done)) let_go = o;
  }
  ASSERT_TRUE(let_go) << executor_log();
  EXPECT_FALSE(let_go->holding);
  EXPECT_FALSE(kernel_has());
}

TEST_F(executor_fixture, a_failed_duplicate_address_probe_is_never_taken_for_a_clean_one) {  // W2, fail closed
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  faults("probe fail no packet socket");
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  // The background guard's probe fails: a warning, and nothing recorded as clean.
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (executor_log().find("vip_guard_failed") == std::string::npos && std::chrono::steady_clock::now() < end)
    hb.until(0, false, proto::flow_phase::done, 100ms, true, false);  // waits on the socket
  ASSERT_NE(executor_log().find("vip_guard_failed"), std::string::npos) << executor_log();
  // The takeover cannot skip the check, and a check that cannot run adds nothing.
  auto failed = hb.until(1, true, proto::flow_phase::failed, 5s);
  ASSERT_TRUE(failed) << executor_log();
  EXPECT_NE(failed->detail.find("Virtual IP not added"), std::string::npos) << failed->detail;
  EXPECT_FALSE(kernel_has());
  // Probes work again: a new epoch's takeover runs a fresh probe, then adds the address.
  faults("");
  ASSERT_TRUE(hb.until(2, true, proto::flow_phase::done, 5s)) << executor_log();
  EXPECT_NE(executor_log().find("duplicate_check=\"probe at takeover"), std::string::npos) << executor_log();
}

TEST_F(executor_fixture, refreshes_stay_on_time_while_another_netlink_reply_is_2_s_late) {  // issue 7
  const std::string second = R"(
[[group.flow]]
type = "vip"
name = "vip2"
ip = "203.0.113.101"
prefix = 24
)";
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"), true, "", "", second);
  faults("add@vip2 delay 2000");
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::running, 5s)) << executor_log();
  // While vip2's add waits 2 s for its reply, vip is refreshed every eighth of a lease all the same.
  std::int64_t oldest = 0;
  int seen = 0;
  bool done = false;
  const auto end = std::chrono::steady_clock::now() + 6s;
  while (!done && std::chrono::steady_clock::now() < end) {
    hb.send(1, true);
    auto o = hb.next(50ms);
    if (!o || o->resources.size() < 4) continue;
    if (o->resources[0].state == "present") {
      oldest = std::max(oldest, o->resources[0].verified_ms_ago);
      ++seen;
    }
    done = o->phase == proto::flow_phase::done;
  }
  ASSERT_TRUE(done) << executor_log();
  EXPECT_GT(seen, 20);
  EXPECT_LT(oldest, 400) << "vip's lease refresh was held up by vip2's late add";
  EXPECT_TRUE(kernel_has("eth0 203.0.113.101/24"));
}

TEST_F(executor_fixture, bad_control_messages_are_dropped_and_counted) {  // DESIGN §2.5
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"));
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  hb.send_raw("this is not json");
  hb.send_raw(R"({"v":1,"group":"no-such-group","epoch":1,"up":true})");
  auto o = hb.until(0, false, proto::flow_phase::done, 5s, true, false);
  ASSERT_TRUE(o) << executor_log();
  EXPECT_EQ(o->counters["bad_control_messages"], 2u);
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

TEST_F(executor_fixture, with_an_announce_interval_the_holder_announces_again_on_its_own) {  // W2
  write_config(logger("s1"), logger("t1"), logger("s2"), logger("t2"), true, "announce_interval = \"1s\"\n");
  start_executor();
  fake_heartbeat hb(dir / "run/executor.sock");
  ASSERT_TRUE(hb.until(1, true, proto::flow_phase::done, 10s)) << executor_log();
  // Nothing asks for it (the announce counter stays 0): the interval alone, about once a second.
  const auto end = std::chrono::steady_clock::now() + 2500ms;
  while (std::chrono::steady_clock::now() < end) hb.until(1, true, proto::flow_phase::done, 100ms);
  const auto n = log_count("Virtual IP is announced again");
  EXPECT_GE(n, 2u) << executor_log();
  EXPECT_LE(n, 3u) << executor_log();
  EXPECT_NE(executor_log().find("reason=\"periodic\""), std::string::npos) << executor_log();
}
