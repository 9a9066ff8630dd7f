// GET /metrics' takeover phases (issue 18): vip_up events with the executor's timing become
// histograms; other events, and a takeover without a timed decision, are not counted.
#include "takeover_metrics.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

using hasys::manager::takeover_metrics;

namespace {

boost::json::object event(const std::string& json) { return boost::json::parse(json).as_object(); }

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST(takeover_metrics, a_timed_vip_up_fills_every_phase_it_carries) {
  takeover_metrics m;
  m.observe(event(R"({"code":"vip_up","details":{"peer_silent_ms":"30.25","decision_to_executor_ms":"0.10",
      "executor_to_address_ms":"0.33","address_to_announce_ms":"0.20","decision_to_announce_ms":"0.63"}})"));
  m.observe(event(R"({"code":"vip_up","details":{"decision_to_executor_ms":"0.09",
      "executor_to_address_ms":"7.5","address_to_announce_ms":"0.2","decision_to_announce_ms":"7.8"}})"));
  EXPECT_EQ(m.takeovers(), 2u);
  std::string out;
  m.write(out);
  EXPECT_TRUE(has_line(out, "# TYPE hasys_takeover_phase_seconds histogram")) << out;
  // 30.25 ms of silence: above 25 ms, within 50 ms.
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_bucket{phase="peer_silent",le="0.025"} 0)")) << out;
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_bucket{phase="peer_silent",le="0.05"} 1)")) << out;
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_count{phase="peer_silent"} 1)")) << out;
  // The address: 0.33 ms once and 7.5 ms once.
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_bucket{phase="executor_to_address",le="0.0005"} 1)"))
      << out;
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_bucket{phase="executor_to_address",le="0.01"} 2)"))
      << out;
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_bucket{phase="executor_to_address",le="+Inf"} 2)"))
      << out;
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_sum{phase="executor_to_address"} 0.007830)")) << out;
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_count{phase="decision_to_announce"} 2)")) << out;
}

TEST(takeover_metrics, other_events_and_untimed_addresses_are_not_takeovers) {
  takeover_metrics m;
  m.observe(event(R"({"code":"vip_down","details":{"decision_to_announce_ms":"1"}})"));
  m.observe(event(R"({"code":"vip_up","details":{"interface":"eth0"}})"));  // adopted after a restart
  m.observe(event(R"({"code":"vip_up"})"));
  EXPECT_EQ(m.takeovers(), 0u);
  std::string out;
  m.write(out);
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_count{phase="decision_to_announce"} 0)")) << out;
}

TEST(takeover_metrics, a_phase_that_is_not_a_number_is_counted_and_skipped) {
  takeover_metrics m;
  m.observe(event(R"({"code":"vip_up","details":{"decision_to_announce_ms":"soon","executor_to_address_ms":"0.5"}})"));
  EXPECT_EQ(m.unreadable(), 1u);
  std::string out;
  m.write(out);
  EXPECT_TRUE(has_line(out, "hasys_takeover_phases_unreadable_total 1")) << out;
  EXPECT_TRUE(has_line(out, R"(hasys_takeover_phase_seconds_count{phase="executor_to_address"} 1)")) << out;
}
