// JSON bus messages: round trips, the version rule, and clear refusals of bad input.
#include <hasys/proto/messages.hpp>

#include <gtest/gtest.h>

using namespace hasys;
using namespace hasys::proto;

TEST(messages, status_round_trips) {
  status_msg m;
  m.group = "lab";
  m.node = "node-a";
  m.time_unix_ms = 1'764'000'000'000;
  m.boot_id = 9;
  m.role = cluster::role::active;
  m.mode = cluster::failover_mode::manual;
  m.epoch = 3;
  m.role_for_ms = 1234;
  m.healthy = false;
  m.held = true;
  m.period_ms = 100;
  m.count = 3;
  m.gateway_configured = true;
  m.gateway = "198.51.100.1";
  m.gateway_ok = true;
  m.heartbeat_link = {true, true, 12, 100, 0, 99};
  m.public_link = {true, false, std::nullopt, 100, 3, 0};
  m.peer.name = "node-b";
  m.peer.alive = true;
  m.peer.role = cluster::role::standby;
  m.peer.epoch = 2;
  m.flow = {false, true, 3, "done", "", false};
  m.dropped = {{"bad_mac", 4}, {"replayed", 1}};
  auto back = from_json<status_msg>(to_json(m));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, m);
}

TEST(messages, event_round_trips_and_carries_an_iso_time) {
  event_msg e{1'764'000'000'007, "lab", "node-a", "heartbeat", cluster::severity::critical,
              "peer_lost", "Subnode is not responding [node-b]", {{"peer", "node-b"}}};
  auto text = to_json(e);
  EXPECT_NE(text.find("\"time\":\"2025-11-24T16:00:00.007Z\""), std::string::npos) << text;
  auto back = from_json<event_msg>(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

TEST(messages, control_messages_round_trip) {
  desired_state d{"lab", 7, true, true, 55, 300, 4, 123456789, 123450000, 123400000};
  EXPECT_EQ(*from_json<desired_state>(to_json(d)), d);
  observed_state o{"lab", 7, true, flow_phase::failed, "vip: address in use"};
  EXPECT_EQ(*from_json<observed_state>(to_json(o)), o);
  command_reply r{true, "handing over to node-b"};
  EXPECT_EQ(*from_json<command_reply>(to_json(r)), r);
  command_request q{"hasysctl", "root"};
  EXPECT_EQ(*from_json<command_request>(to_json(q)), q);
}

TEST(messages, bad_input_is_refused_with_a_reason) {
  EXPECT_EQ(from_json<command_reply>("not json").error(), make_error_code(errc::bad_json));
  EXPECT_EQ(from_json<command_reply>("[1]").error(), make_error_code(errc::bad_json));
  EXPECT_EQ(from_json<command_reply>(R"({"accepted":true,"text":"x"})").error(),
            make_error_code(errc::bad_field));  // no "v"
  EXPECT_EQ(from_json<command_reply>(R"({"v":2,"accepted":true,"text":"x"})").error(),
            make_error_code(errc::unsupported_version));
  EXPECT_EQ(from_json<command_reply>(R"({"v":1,"accepted":"yes","text":"x"})").error(),
            make_error_code(errc::bad_field));
  EXPECT_EQ(from_json<observed_state>(
                R"({"v":1,"group":"g","epoch":1,"up":true,"phase":"dancing"})").error(),
            make_error_code(errc::bad_field));
  EXPECT_EQ(from_json<status_msg>(R"({"v":1,"group":"g"})").error(), make_error_code(errc::bad_field));
}

TEST(messages, a_duration_histogram_counts_by_bucket_and_keeps_the_largest) {  // issue 8
  hasys::proto::duration_histogram h;
  EXPECT_EQ(h.percentile_us(99), 0);
  for (int i = 0; i < 98; ++i) h.add(std::chrono::microseconds(100));
  h.add(std::chrono::milliseconds(3));
  h.add(std::chrono::milliseconds(45));
  EXPECT_EQ(h.count, 100u);
  EXPECT_EQ(h.max_us, 45000);
  EXPECT_EQ(h.percentile_us(50), 250);
  EXPECT_EQ(h.percentile_us(99), 5000);
  EXPECT_EQ(h.percentile_us(100), 45000);
  ASSERT_EQ(h.counts.size(), hasys::proto::histogram_bounds_us.size() + 1);
}

TEST(messages, status_jitter_round_trips) {
  hasys::proto::status_msg m;
  m.group = "g";
  m.node = "n";
  m.jitter.send_late.add(std::chrono::microseconds(80));
  m.jitter.public_gap.add(std::chrono::milliseconds(11));
  m.jitter.stalls = 2;
  m.jitter.longest_stall_us = 31000;
  auto back = hasys::proto::from_json<hasys::proto::status_msg>(hasys::proto::to_json(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->jitter, m.jitter);
}

TEST(messages, heartbeat_metrics_round_trip) {  // issue 8
  hasys::proto::heartbeat_metrics_msg m;
  m.group = "g";
  m.node = "n";
  m.time_unix_ms = 1796136000000;
  m.period_ms = 10;
  m.count = 3;
  m.jitter.heartbeat_gap.add(std::chrono::milliseconds(10));
  m.public_link.configured = true;
  m.public_link.received = 42;
  m.dropped["bad_mac"] = 1;
  const auto text = hasys::proto::to_json(m);
  EXPECT_NE(text.find("\"v\":1"), std::string::npos);
  auto back = hasys::proto::from_json<hasys::proto::heartbeat_metrics_msg>(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}
