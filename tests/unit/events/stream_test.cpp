// The EVENTS stream's JetStream bodies (libs/events/stream): whether a STREAM.INFO reply already
// holds the settings the forwarder would otherwise send again with STREAM.UPDATE.
#include <hasys/events/stream.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace hasys::events;

namespace {

std::string info_with(const std::string& config) {
  return R"({"type":"io.nats.jetstream.api.v1.stream_info_response","config":)" + config +
         R"(,"state":{"messages":0}})";
}

TEST(events_stream, a_stream_with_every_setting_needs_no_update) {
  EXPECT_TRUE(config_is(info_with(stream_config_json(10 << 20)), 10 << 20));
  // nats-server says more than we set (max_consumers, sealed, ...): those are not ours.
  std::string more = stream_config_json(10 << 20);
  more.insert(1, R"("max_consumers":-1,"sealed":false,)");
  EXPECT_TRUE(config_is(info_with(more), 10 << 20));
}

TEST(events_stream, another_cap_or_a_missing_setting_needs_the_update) {
  EXPECT_FALSE(config_is(info_with(stream_config_json(10 << 20)), 64 << 20));
  std::string no_window = stream_config_json(10 << 20);
  no_window.replace(no_window.find("\"duplicate_window\""), std::string::npos, "\"x\":1}");
  EXPECT_FALSE(config_is(info_with(no_window), 10 << 20));
  EXPECT_FALSE(config_is(R"({"error":{"code":404,"err_code":10059}})", 10 << 20));
  EXPECT_FALSE(config_is("not json", 10 << 20));
}

}  // namespace
