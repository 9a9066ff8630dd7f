// A request and a response as the API's handlers see them: plain values, no Beast, so the
// handlers and their tests need not include it (the server converts at the edge).
#pragma once

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

}  // namespace hasys::manager
