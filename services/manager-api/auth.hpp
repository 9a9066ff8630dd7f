// Who may come in (M1): the password policy, the session table with idle expiry and CSRF
// tokens, and the login limiter per user and per address. Pure: no clock, no I/O — the caller
// passes the time; randomness comes in as a function.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hasys::manager {

using clock = std::chrono::steady_clock;

// Every rule a new password breaks, in words; empty when it passes. Always: 1..72 bytes (bcrypt
// reads no more), not the user's name. Strong (M1 "+"): at least 8 characters, a lower-case
// letter, a digit and a special character.
std::vector<std::string> password_problems(const std::string& user, const std::string& password,
                                           bool strong);

struct session {
  std::string token;  // the cookie's value (random, 256 bits)
  std::string csrf;   // sent back in X-CSRF-Token on every state-changing request
  std::string user;
  clock::time_point last_seen;
};

class session_table {
 public:
  session_table(std::chrono::seconds idle, std::function<std::string()> random_token)
      : idle_(idle), random_(std::move(random_token)) {}
  const session& open(const std::string& user, clock::time_point now);
  // The session of the cookie, its idle time restarted; nothing when unknown or idle too long
  // (then it is forgotten).
  const session* use(const std::string& token, clock::time_point now);
  void close(const std::string& token);
  // A user deleted or whose password changed elsewhere: every session of theirs ends, but one.
  void close_user(const std::string& user, const std::string& except_token = {});
  std::size_t size() const { return sessions_.size(); }
  std::chrono::seconds idle() const { return idle_; }

 private:
  std::chrono::seconds idle_;
  std::function<std::string()> random_;
  std::map<std::string, session> sessions_;
};

// Login rate limiting: after `max_failures` failures within `window` for a user, or for an
// address, further attempts for it are refused until `lockout` passed since the last failure —
// even with the right password. A success clears the user's and the address's failures.
class login_limiter {
 public:
  struct options {
    int max_failures = 5;
    std::chrono::seconds window{300};
    std::chrono::seconds lockout{300};
  };
  explicit login_limiter(options o) : o_(o) {}
  // How long the attempt must wait; nothing when it may go ahead.
  std::optional<std::chrono::seconds> blocked(const std::string& user, const std::string& address,
                                              clock::time_point now) const;
  void failed(const std::string& user, const std::string& address, clock::time_point now);
  void succeeded(const std::string& user, const std::string& address);

 private:
  struct record {
    std::vector<clock::time_point> failures;  // within the window, oldest first
  };
  std::optional<std::chrono::seconds> blocked_for(const std::map<std::string, record>& m,
                                                  const std::string& key,
                                                  clock::time_point now) const;
  void add(std::map<std::string, record>& m, const std::string& key, clock::time_point now);
  options o_;
  std::map<std::string, record> by_user_, by_address_;
};

}  // namespace hasys::manager
