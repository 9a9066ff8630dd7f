// A WebSocket client over TLS for tests of hasys-manager-api's /api/v1/stream: the upgrade with
// the session cookie (and an Origin), then messages read with a deadline each.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace hasys::test {

class wss_client {
 public:
  // Connects and asks for the upgrade. When refused, refused_status() is the HTTP status.
  // receive_buffer: SO_RCVBUF in bytes before connecting (a client that takes little at a time,
  // for the slow-client tests); 0 leaves the kernel's default.
  wss_client(const std::string& host, std::uint16_t port, const std::string& target,
             const std::string& cookie, const std::string& origin = {}, int receive_buffer = 0);
  ~wss_client();
  wss_client(const wss_client&) = delete;
  wss_client& operator=(const wss_client&) = delete;

  int refused_status() const;
  bool open() const;
  // The next message, or nothing when the deadline passed or the stream closed (open() says).
  std::optional<std::string> read(std::chrono::milliseconds timeout);
  // Sends a text message; false when it could not.
  bool write(const std::string& text);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::test
