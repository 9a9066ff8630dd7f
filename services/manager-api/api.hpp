// The REST API under /api/v1 (issue 11): sessions (M1), users (M2), the live groups (M5, M6),
// the audit log. Every route checks the session, its CSRF token on state-changing requests and
// the user's scope; every body is validated whole and a refusal names what is wrong.
#pragma once

#include "auth.hpp"
#include "fleet.hpp"
#include "http_types.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace hasys::daemon {
class blocking_lane;
}

namespace hasys::manager {

class manager_db;

// A request over the hub with a deadline (the manager's bus connection, or a test's stand-in).
struct bus_reply {
  bool ok = false;
  std::string data;   // the reply, when ok
  std::string error;  // why not: "no responders", "timeout", "not connected"
};
using bus_request_fn = std::function<boost::asio::awaitable<bus_reply>(
    std::string subject, std::string body, std::chrono::milliseconds timeout)>;

class api {
 public:
  struct options {
    bool strong_passwords = false;  // M1's optional policy
    int bcrypt_cost = 12;
    std::chrono::seconds session_idle{15 * 60};
    login_limiter::options limits;
    std::string version;  // this build's version
    // GET /metrics answers "Authorization: Bearer <token>" (Prometheus' credentials_file) or an
    // administrator's session; empty: administrators only.
    std::string metrics_token;
    // Where hasys-event-store --manager writes exports (its --export-dir); the API sends a file
    // from there only.
    std::string export_dir = "/var/lib/hasys/exports";
    // The built web manager (issue 12), served at / from memory; empty: the API only.
    std::string web_root;
    // More samples for GET /metrics in the Prometheus text format (the HTTPS server's own
    // counters); called on the API's executor.
    std::function<void(std::string&)> more_metrics;
  };
  struct counters {
    std::uint64_t requests = 0, logins = 0, login_failures = 0, login_blocked = 0, csrf_refused = 0,
                  forbidden = 0, bad_bodies = 0;
  };

  // db is used only on `lane`; fleet only on the caller's executor.
  api(manager_db& db, daemon::blocking_lane& lane, fleet& f, bus_request_fn request, options o);
  ~api();
  boost::asio::awaitable<http_response> handle(http_request r);
  // GET /api/v1/stream (WebSocket): status, metrics and event deltas of the groups the user
  // may see, at most one message per 250 ms.
  boost::asio::awaitable<stream_open> open_stream(http_request r);
  // hasys.evt.<group>.<node> from the hub, for the streams.
  void on_event(std::string_view subject, std::string_view data);
  // hasys.reg.<group>.<node> (M4): kept, and written in batches by flush_registrations().
  void on_registration(std::string_view subject, std::string_view data);
  void flush_registrations();
  const counters& stats() const;
  std::size_t sessions() const;
  void bus_connected(bool c);

  struct impl;  // opaque; public so the stream clients of api.cpp may hold one

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::manager
