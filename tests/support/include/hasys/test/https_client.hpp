// A small HTTPS client for tests of hasys-manager-api: one TLS connection per request (like a
// browser's first request), a cookie jar of one session cookie, the CSRF token sent back on
// state-changing requests. Synchronous, with a deadline per request.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hasys::test {

struct https_response {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string header(const std::string& name) const;
};

class https_client {
 public:
  https_client(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}
  // Throws std::runtime_error when the server cannot be reached or the deadline passes.
  https_response request(const std::string& method, const std::string& target,
                         const std::string& body = {},
                         std::vector<std::pair<std::string, std::string>> headers = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  https_response get(const std::string& target) { return request("GET", target); }
  // POST /api/v1/session; on success keeps the cookie and the CSRF token.
  https_response login(const std::string& user, const std::string& password);

  std::string cookie;       // "hasys_session=..." once set by the server
  std::string csrf;         // sent as X-CSRF-Token on anything but GET and HEAD
  // When set, every exchange is appended here as a JSON line {method, target, status,
  // content_type, body} for tests/contract/check_openapi.py.
  std::string capture_file;
  std::string tls_version;  // of the last connection, e.g. "TLSv1.3"
  std::string cipher;       // of the last connection

 private:
  std::string host_;
  std::uint16_t port_;
};

}  // namespace hasys::test
