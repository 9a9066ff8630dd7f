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
  std::string id;    // the SHA-256 of the cookie's value (hex): what is kept, never the value
  std::string csrf;  // sent back in X-CSRF-Token on every state-changing request
  std::string user;
  clock::time_point last_seen;
  clock::time_point saved;  // when last_seen was last handed to on_saved (for a restart)
  std::string token;        // the cookie's value (random, 256 bits): set by open() only
};

// The id of a cookie's value: sessions are found, kept and written by it, so the manager
// database never holds a value that would let its reader in.
std::string session_id(const std::string& token);

class session_table {
 public:
  // What the table changed, for a copy that survives a restart (the manager database): a
  // session opened, or used again `save_every` after it was last saved; one that ended; every
  // session of a user but one that ended.
  struct listener {
    std::function<void(const session&)> saved;
    std::function<void(const std::string& id)> removed;
    std::function<void(const std::string& user, const std::string& except_id)> removed_user;
  };
  static constexpr std::chrono::seconds save_every{30};

  session_table(std::chrono::seconds idle, std::function<std::string()> random_token,
                listener l = {})
      : idle_(idle), random_(std::move(random_token)), listener_(std::move(l)) {}
  const session& open(const std::string& user, clock::time_point now);
  // A session kept before a restart, last seen `idle_for` ago (nothing when that is past the
  // idle time). The cookie's value is not known again: `token` stays empty.
  void restore(std::string id, std::string csrf, std::string user, clock::duration idle_for,
               clock::time_point now);
  // The session of the cookie, its idle time restarted; nothing when unknown or idle too long
  // (then it is forgotten).
  const session* use(const std::string& token, clock::time_point now);
  void close(const std::string& id);
  // A user deleted or whose password changed elsewhere: every session of theirs ends, but one.
  void close_user(const std::string& user, const std::string& except_id = {});
  std::size_t size() const { return sessions_.size(); }
  std::chrono::seconds idle() const { return idle_; }

 private:
  std::chrono::seconds idle_;
  std::function<std::string()> random_;
  listener listener_;
  std::map<std::string, session> sessions_;  // by id
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
