// A request and a response as the API's handlers see them: plain values, no Beast, so the
// handlers and their tests need not include it (the server converts at the edge).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hasys::manager {

struct http_request {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string remote;  // the client's address
  // The first header of that (lower-case) name, or "".
  const std::string& header(const std::string& name) const {
    static const std::string none;
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return none;
  }
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The messages of one WebSocket client (/api/v1/stream), produced by the API; the server only
// carries them.
class stream_feed {
 public:
  virtual ~stream_feed() = default;
  // The next message to send, waiting as long as it takes; nothing: close the stream.
  virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
  // A text message from the client.
  virtual void received(std::string_view) {}
};

// The API's answer to an upgrade request: a feed, or the refusal to send instead.
struct stream_open {
  http_response refusal;
  std::unique_ptr<stream_feed> feed;
};

}  // namespace hasys::manager
