// Issue 8 in the netns lab: a heartbeat daemon stopped (SIGSTOP) for five periods, on the Active
// with its executor running, and on the Standby. The Active's executor lets go before the peer
// can take over (ADR 0005: no two holders, an outage of about the release budget); a daemon that
// resumes reads what waited in its sockets and does not count its own stop as its peer's silence.
#include "client_probe.hpp"
#include "node_view.hpp"
#include "vip_watch.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace cluster = hasys::cluster;
using hasys::lab::client_probe;
using hasys::lab::client_reads;
using hasys::lab::event_stream;
using hasys::lab::expect_serving;
using hasys::lab::expect_settled;
using hasys::lab::lab;
using hasys::lab::up_options;
using hasys::lab::vip_watch;
using hasys::lab::wait_status;
using namespace std::chrono_literals;

namespace {

const std::string vip = "198.51.100.100";

struct setting {
  std::string period;
  std::chrono::milliseconds period_ms;
};

void PrintTo(const setting& s, std::ostream* os) { *os << s.period << " x 3"; }

std::string name_of(const ::testing::TestParamInfo<setting>& i) {
  return "at_" + i.param.period + "_x_3";
}

// Stops a daemon of a node for `how_long` (SIGSTOP, then SIGCONT): the fault under test.
void stop_for(const lab& l, const std::string& node, const std::string& daemon,
              std::chrono::milliseconds how_long) {
  ASSERT_OK(l.run("kill", node, daemon, "--signal", "STOP"));
  std::this_thread::sleep_for(how_long);  // the length of the stop is the fault itself
  ASSERT_OK(l.run("kill", node, daemon, "--signal", "CONT"));
}

class heartbeat_stop : public ::testing::TestWithParam<setting> {};

}  // namespace

TEST_P(heartbeat_stop, on_the_active_the_executor_lets_go_before_the_peer_takes_over) {
  SKIP_UNLESS_ROOT();
  const auto& s = GetParam();
  up_options o;
  o.period = s.period;
  o.count = 3;
  lab l(s.period == "100ms" ? "hs1" : "hs2", o);
  vip_watch w(l, {"a", "b"}, vip, "eth0", 1ms);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream ea(l, "a"), eb(l, "b");
  client_probe probe(l, 4s, vip);
  std::this_thread::sleep_for(500ms);  // a steady baseline for the client before the fault
  stop_for(l, "a", "heartbeat", 5 * s.period_ms);
  // b took over; a's executor had let go first, a yields when its heartbeat runs again.
  auto fenced = ea.wait_for("fenced", 5s);
  ASSERT_TRUE(fenced) << ea.transcript();
  EXPECT_NE(fenced->text.find("no word from hasys-heartbeat"), std::string::npos) << fenced->text;
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, "b"));
  ASSERT_TRUE(wait_status(l, "a", {"--role", "standby", "--peer-role", "active"}, 10s));
  EXPECT_EQ(w.longest_overlap(), 0ms) << "both nodes held the address at once";
  const double ms = probe.longest_gap_ms();
  ASSERT_GE(ms, 0) << probe.transcript();
  // The rule (ADR 0005): the address leaves a at the watchdog, period x count - 2 ms after the
  // heartbeat's last word, and comes up on b at its detection time, period x count, plus its
  // takeover — never two holders (above). How long the client waits is a speed, measured by
  // bench/failover (issue 18), not asserted here but for a bound a loaded machine keeps: the
  // address's lease (1 s), beyond which something was stuck rather than slow.
  EXPECT_LE(ms, 1000.0) << "the client waited longer than the address's lease";
  std::cout << "[ measured ] " << s.period << " x 3, heartbeat stopped on the Active for "
            << 5 * s.period_ms.count() << " ms: client ping gap " << ms << " ms\n";
  EXPECT_EQ(client_reads(l, vip), "node-b");
}

TEST_P(heartbeat_stop, on_the_standby_its_own_stop_is_not_its_peers_silence) {
  SKIP_UNLESS_ROOT();
  const auto& s = GetParam();
  up_options o;
  o.period = s.period;
  o.count = 3;
  lab l(s.period == "100ms" ? "hs3" : "hs4", o);
  vip_watch w(l, {"a", "b"}, vip);
  ASSERT_NO_FATAL_FAILURE(expect_settled(l, w, "a", "b"));
  event_stream eb(l, "b");
  stop_for(l, "b", "heartbeat", 5 * s.period_ms);
  // On resume its timers fire late: it reads what a sent meanwhile before judging a's silence.
  auto stall = eb.wait_for("self_stall", 5s);
  ASSERT_TRUE(stall) << eb.transcript();
  for (auto& e : eb.collect_for(10 * s.period_ms)) {
    EXPECT_NE(e.code, "peer_lost") << "its own stop was taken for the peer's silence: " << e.text;
    EXPECT_NE(e.code, "activating") << e.text;
  }
  EXPECT_TRUE(wait_status(l, "b", {"--role", "standby", "--peer-role", "active"}, 5s));
  EXPECT_EQ(w.holders(), std::vector<std::string>{"a"});
  EXPECT_EQ(client_reads(l, vip), "node-a");
}

INSTANTIATE_TEST_SUITE_P(issue8, heartbeat_stop,
                         ::testing::Values(setting{"100ms", 100ms}, setting{"20ms", 20ms}),
                         name_of);
