// The node's event log (E5, E6): the JetStream stream EVENTS on the node's nats-server captures
// hasys.evt.> on disk, capped in bytes (the oldest go first). Its JetStream API is plain
// request/reply JSON on $JS.API.>; these helpers build and read those bodies. No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hasys::events {

inline constexpr std::string_view stream_name = "EVENTS";
inline constexpr std::string_view stream_subjects = "hasys.evt.>";
// JetStream drops a second publish with the same Nats-Msg-Id within this window: a publish
// retried after a lost acknowledgement is stored once.
inline constexpr std::int64_t duplicate_window_ns = 120'000'000'000;

// $JS.API.STREAM.CREATE.EVENTS body: file storage, at most max_bytes, the oldest discarded.
std::string stream_config_json(std::uint64_t max_bytes);

// Whether a STREAM.INFO reply's config already holds every setting stream_config_json(max_bytes)
// sets: then no STREAM.UPDATE is sent. (An update reaching a stream nats-server has registered
// but not yet given its store would meet a store that is not there.)
bool config_is(std::string_view info_reply, std::uint64_t max_bytes);

// What a JetStream API reply says: an error (code, err_code and description) or not.
struct api_error {
  int code = 0;      // HTTP-like: 404, 400, 503...
  int err_code = 0;  // JetStream's own, e.g. 10059 stream not found
  std::string description;
};
// nullopt when the body is a success; an api_error (err_code 0) when it is not JSON at all.
std::optional<api_error> error_of(std::string_view reply_body);
inline constexpr int err_stream_not_found = 10059;

// A publish acknowledgement: {"stream":"EVENTS","seq":N[,"duplicate":true]}.
struct pub_ack {
  std::uint64_t seq = 0;
  bool duplicate = false;
};
std::optional<pub_ack> pub_ack_of(std::string_view reply_body);

}  // namespace hasys::events
