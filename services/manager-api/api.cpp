// The REST routes (see api.hpp).
#include "api.hpp"

#include "manager_db.hpp"
#include "remote_config.hpp"
#include "static_files.hpp"
#include "takeover_metrics.hpp"

#include <hasys/daemon/blocking_lane.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/events/catalogue.hpp>
#include <hasys/proto/messages.hpp>
#include <hasys/proto/registration_messages.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>
#include <boost/json.hpp>

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace hasys::manager {

// Request bodies, described once; Boost.JSON converts them.
struct login_body {
  std::string user, password;
};
BOOST_DESCRIBE_STRUCT(login_body, (), (user, password))
struct password_body {
  std::string current_password, new_password;
};
BOOST_DESCRIBE_STRUCT(password_body, (), (current_password, new_password))
struct new_user_body {
  std::string name, password;
  bool admin = false;
};
BOOST_DESCRIBE_STRUCT(new_user_body, (), (name, password, admin))
struct operation_body {
  std::string kind;
  std::string node;  // "" for a manual failover: the group's Active node
};
BOOST_DESCRIBE_STRUCT(operation_body, (), (kind, node))
struct new_server_body {
  std::string group, node, public_address, note;
};
BOOST_DESCRIBE_STRUCT(new_server_body, (), (group, node, public_address, note))
struct new_business_group_body {
  std::string name;
};
BOOST_DESCRIBE_STRUCT(new_business_group_body, (), (name))
struct business_group_body {
  std::vector<std::string> ha_groups, users;
};
BOOST_DESCRIBE_STRUCT(business_group_body, (), (ha_groups, users))

namespace {

constexpr std::string_view cookie_name = "hasys_session";
constexpr auto db_deadline = 10s;

http_response reply(int status, const json::value& body) {
  return {status, "application/json", json::serialize(body), {}};
}
http_response refuse(int status, const std::string& why) {
  return reply(status, json::object{{"error", why}});
}

// The body as T, or why not (every field, with its type, is needed).
template <class T>
std::optional<T> parse_body(const std::string& body, std::string& why, const char* shape) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    why = std::string("the body must be a JSON object ") + shape;
    return std::nullopt;
  }
  try {
    return json::value_to<T>(v);
  } catch (const std::exception&) {
    why = std::string("the body must be ") + shape;
    return std::nullopt;
  }
}

bool valid_user_name(const std::string& n) {
  static const std::regex re("[A-Za-z0-9_.@-]{1,32}");
  return std::regex_match(n, re);
}

std::string session_cookie(const std::string& token, std::chrono::seconds idle) {
  return std::string(cookie_name) + "=" + token +
         "; Path=/; Max-Age=" + std::to_string(idle.count()) +
         "; HttpOnly; Secure; SameSite=Strict";
}

std::string cookie_value(const std::string& header) {
  const std::string key = std::string(cookie_name) + "=";
  std::size_t pos = 0;
  while ((pos = header.find(key, pos)) != std::string::npos) {
    if (pos == 0 || header[pos - 1] == ' ' || header[pos - 1] == ';') {
      auto start = pos + key.size();
      auto end = header.find(';', start);
      return header.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    pos += key.size();
  }
  return {};
}

// %XX decoded (a business group's name may be Korean); nothing when malformed.
std::optional<std::string> percent_decoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2])))
      return std::nullopt;
    out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

bool valid_node_name(const std::string& n) {
  static const std::regex re("[A-Za-z0-9_.-]{1,15}");
  return std::regex_match(n, re);
}

bool valid_address(const std::string& a) {
  unsigned char buf[16];
  return inet_pton(AF_INET, a.c_str(), buf) == 1 || inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

bool valid_ha_group(const std::string& n) {
  static const std::regex re("[A-Za-z0-9_.-]{1,20}");
  return std::regex_match(n, re);
}

// A business group's name: 1..60 bytes of UTF-8 text (Korean names welcome), no control
// characters and no '/'.
bool valid_business_group(const std::string& n) {
  if (n.empty() || n.size() > 60) return false;
  return std::none_of(n.begin(), n.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '/';
  });
}

std::vector<std::string> path_segments(const std::string& target) {
  std::vector<std::string> out;
  const auto path = target.substr(0, target.find('?'));
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) {
      // A malformed escape keeps its raw text, which no name matches.
      auto raw = path.substr(start, slash - start);
      out.push_back(percent_decoded(raw).value_or(raw));
    }
    start = slash + 1;
  }
  return out;
}

std::string query_param(const std::string& target, const std::string& key) {
  auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string rest = target.substr(q + 1);
  std::size_t start = 0;
  while (start < rest.size()) {
    auto amp = rest.find('&', start);
    auto part = rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    auto eq = part.find('=');
    if (part.substr(0, eq) == key) return eq == std::string::npos ? "" : part.substr(eq + 1);
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return {};
}

json::object user_json(const user_record& u) {
  return {{"name", u.name},
          {"admin", u.admin},
          {"read_only", u.read_only},
          {"must_change_password", u.must_change_password},
          {"created_unix_ms", u.created_unix_ms}};
}

}  // namespace

struct api::impl {
  manager_db& db;
  daemon::blocking_lane& lane;
  daemon::blocking_lane hashing{"bcrypt"};
  fleet& live;
  bus_request_fn request;
  options opt;
  session_table sessions;
  login_limiter limiter;
  counters stats;
  bool bus_up = false;
  const std::string dummy_hash;  // of the configured cost
  static_files web;              // the web manager (issue 12)
  // Streams: a change of users or business groups makes every stream read its scope again.
  std::uint64_t scope_generation = 0;
  // The latest events heard, for the streams (E2's live window); bounded.
  struct recent_event {
    std::uint64_t seq;
    std::string group;
    json::value event;
  };
  std::deque<recent_event> recent_events;
  std::uint64_t event_seq = 0;
  static constexpr std::size_t recent_events_max = 5000;
  takeover_metrics takeovers;  // issue 18: vip_up events' phases, for /metrics
  // API latency (Prometheus histogram, seconds).
  static constexpr std::array<double, 9> latency_bounds{0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,  0.1,    0.5,   1.0};
  std::array<std::uint64_t, 10> latency_counts{};
  double latency_sum = 0;
  std::uint64_t latency_count = 0;
  void observe(clock::duration d) {
    const double secs = std::chrono::duration<double>(d).count();
    std::size_t i = 0;
    while (i < latency_bounds.size() && secs > latency_bounds[i]) ++i;
    ++latency_counts[i];
    latency_sum += secs;
    ++latency_count;
  }

  std::string prometheus() {
    std::string out;
    live.prometheus(out, clock::now());
    out +=
        "# HELP hasys_api_request_duration_seconds REST requests, from read to answer.\n"
        "# TYPE hasys_api_request_duration_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
      cumulative += latency_counts[i];
      char le[32];
      std::snprintf(le, sizeof le, "%g", latency_bounds[i]);
      out += "hasys_api_request_duration_seconds_bucket{le=\"" + std::string(le) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    cumulative += latency_counts.back();
    out += "hasys_api_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative) +
           "\n";
    out += "hasys_api_request_duration_seconds_sum " + std::to_string(latency_sum) + "\n";
    out += "hasys_api_request_duration_seconds_count " + std::to_string(latency_count) + "\n";
    auto counter = [&out](const char* name, const char* help, std::uint64_t v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
             " " + std::to_string(v) + "\n";
    };
    counter("hasys_api_logins_total", "Successful logins.", stats.logins);
    counter("hasys_api_login_failures_total", "Failed logins.", stats.login_failures);
    counter("hasys_api_login_blocked_total", "Logins refused by the limiter.", stats.login_blocked);
    counter("hasys_api_csrf_refused_total", "Requests refused for their CSRF token.",
            stats.csrf_refused);
    out +=
        "# HELP hasys_api_sessions Open sessions.\n# TYPE hasys_api_sessions gauge\n"
        "hasys_api_sessions " +
        std::to_string(sessions.size()) + "\n";
    out +=
        "# HELP hasys_api_database_write_failures_total Audit entries and registrations the "
        "database refused (the log says why).\n"
        "# TYPE hasys_api_database_write_failures_total counter\n"
        "hasys_api_database_write_failures_total " +
        std::to_string(lane.failed_posts()) + "\n";
    out +=
        "# HELP hasys_api_bus_connected Connected to the hub.\n"
        "# TYPE hasys_api_bus_connected gauge\nhasys_api_bus_connected " +
        std::string(bus_up ? "1" : "0") + "\n";
    takeovers.write(out);
    if (opt.more_metrics) opt.more_metrics(out);
    return out;
  }

  // Registrations heard since the last flush (M4), one transaction per flush.
  std::vector<server_record> pending_registrations;
  std::uint64_t registrations_refused = 0;

  // Each node's overview line and each group's view at its latest change, made once for every
  // stream.
  std::vector<std::pair<std::uint64_t, std::string>> row_cache;  // by node id
  std::map<std::string, std::pair<std::uint64_t, std::string>> group_cache;

  impl(manager_db& d, daemon::blocking_lane& l, fleet& f, bus_request_fn rq, options o)
      : db(d),
        lane(l),
        live(f),
        request(std::move(rq)),
        opt(std::move(o)),
        sessions(
            opt.session_idle, [] { return random_hex(32); }, session_listener()),
        limiter(opt.limits),
        dummy_hash(bcrypt_hash(random_hex(16), opt.bcrypt_cost)),
        web(opt.web_root) {
    restore_sessions();
  }

  // Sessions survive a restart of the manager (an upgrade, a crash, systemd): the table's
  // changes are written on the database lane in order, and read back at start. Written at most
  // every 30 s while used, so a restored session may end up to 30 s early, never late.
  session_table::listener session_listener() {
    session_table::listener l;
    l.saved = [this](const session& s) {
      session_record r{s.id, s.user, s.csrf,
                       proto::unix_ms_now() - std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  clock::now() - s.last_seen)
                                                  .count()};
      post_write("a session", [this, r = std::move(r)] { db.save_session(r); });
    };
    l.removed = [this](const std::string& id) {
      post_write("the end of a session", [this, id] { db.delete_session(id); });
    };
    l.removed_user = [this](const std::string& user, const std::string& except_id) {
      post_write("the end of a user's sessions",
                 [this, user, except_id] { db.delete_sessions_of(user, except_id); });
    };
    return l;
  }
  // At start, before anything else uses the database (the lane is idle): read on this thread.
  void restore_sessions() {
    const auto unix_now = proto::unix_ms_now();
    const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(opt.session_idle);
    const auto now = clock::now();
    for (auto& r : db.sessions(unix_now - idle_ms.count()))
      sessions.restore(
          r.id, r.csrf, r.user,
          std::chrono::milliseconds(std::max<std::int64_t>(0, unix_now - r.last_seen_unix_ms)),
          now);
  }

  const std::string& group_json(const std::string& name, std::uint64_t change);
  // A group's whole view (GET /api/v1/groups/{g}: with the 90 s history, facts and file
  // systems) as made at its latest change: what a stream watching it is sent (M6, M7).
  const std::string& group_full_json(const std::string& name, std::uint64_t change);
  std::map<std::string, std::pair<std::uint64_t, std::string>> group_full_cache;
  const std::string& row_json(const fleet::node_state& n, std::uint64_t change);

  // A database call on the lane; throws when it did not come back in time (a 500).
  template <class F>
  asio::awaitable<std::invoke_result_t<F&>> on_db(F f) {
    auto r = co_await lane.run(std::move(f), db_deadline);
    if (!r) throw std::runtime_error("the manager database did not answer in time");
    co_return std::move(*r);
  }

  // A write on the database lane that nobody waits for: a refusal is logged here and counted by
  // the lane (hasys_api_database_write_failures_total), never dropped silently.
  template <class F>
  void post_write(const char* what, F f) {
    lane.post([what, f = std::move(f)]() mutable {
      try {
        f();
      } catch (const std::exception& x) {
        daemon::logger{}.error(std::string("the manager database did not take ") + what + ": " +
                               x.what());
        throw;
      }
    });
  }

  // Written in order on the database lane; the request does not wait for it.
  void audit(const std::string& user, const http_request& r, const std::string& action,
             const std::string& target, const std::string& result) {
    audit_with_id(user, r, action, target, result, random_hex(8));
  }
  void audit_with_id(const std::string& user, const http_request& r, const std::string& action,
                     const std::string& target, const std::string& result,
                     const std::string& action_id) {
    audit_entry e{0, 0, user, r.remote, action, target, result, action_id};
    post_write("an audit entry", [this, e = std::move(e)] { db.audit(e); });
  }

  // --- sessions (M1) ---
  asio::awaitable<http_response> login(const http_request& r) {
    std::string why;
    auto body = parse_body<login_body>(r.body, why, "{\"user\": string, \"password\": string}");
    if (!body) co_return ++stats.bad_bodies, refuse(400, why);
    const auto now = clock::now();
    if (auto wait = limiter.blocked(body->user, r.remote, now)) {
      ++stats.login_blocked;
      auto a = refuse(
          429, "too many failed logins: try again in " + std::to_string(wait->count()) + " s");
      a.headers.emplace_back("Retry-After", std::to_string(wait->count()));
      audit(body->user, r, "login", body->user, "refused: too many failed logins");
      co_return a;
    }
    auto task1 = [this, name = body->user] { return db.user(name); };
    auto user = co_await on_db(std::move(task1));
    // A user that does not exist costs the same bcrypt as one that does (no timing oracle).
    auto verify = [pw = body->password, hash = user ? user->password_hash : dummy_hash] {
      return bcrypt_verify(pw, hash);
    };
    auto ok = co_await hashing.run(std::move(verify), 30s);
    if (!user || !ok || !*ok) {
      ++stats.login_failures;
      limiter.failed(body->user, r.remote, clock::now());
      audit(body->user, r, "login", body->user, "failed: wrong user or password");
      co_return refuse(401, "wrong user name or password");
    }
    limiter.succeeded(body->user, r.remote);
    ++stats.logins;
    const auto& s = sessions.open(user->name, clock::now());
    audit(user->name, r, "login", user->name, "ok");
    auto a = reply(200, json::object{{"user", user->name},
                                     {"admin", user->admin},
                                     {"read_only", user->read_only},
                                     {"must_change_password", user->must_change_password},
                                     {"csrf", s.csrf},
                                     {"idle_timeout_s", opt.session_idle.count()}});
    a.headers.emplace_back("Set-Cookie", session_cookie(s.token, opt.session_idle));
    co_return a;
  }

  asio::awaitable<http_response> change_password(const http_request& r, const session& s) {
    std::string why;
    auto body = parse_body<password_body>(
        r.body, why, "{\"current_password\": string, \"new_password\": string}");
    if (!body) co_return ++stats.bad_bodies, refuse(400, why);
    auto problems = password_problems(s.user, body->new_password, opt.strong_passwords);
    if (body->new_password == body->current_password)
      problems.emplace_back("the new password is the current one");
    if (!problems.empty()) {
      json::array list;
      for (auto& p : problems) list.emplace_back(p);
      co_return reply(400, json::object{{"error", "the new password is refused"},
                                        {"problems", std::move(list)}});
    }
    auto task2 = [this, name = s.user] { return db.user(name); };
    auto user = co_await on_db(std::move(task2));
    if (!user) co_return refuse(401, "the session's user no longer exists");
    auto verify = [pw = body->current_password, hash = user->password_hash] {
      return bcrypt_verify(pw, hash);
    };
    auto ok = co_await hashing.run(std::move(verify), 30s);
    if (!ok || !*ok) {
      audit(s.user, r, "password", s.user, "refused: wrong current password");
      co_return refuse(403, "the current password is wrong");
    }
    auto task3 = [pw = body->new_password, cost = opt.bcrypt_cost] {
      return bcrypt_hash(pw, cost);
    };
    auto hash = co_await hashing.run(std::move(task3), 30s);
    if (!hash) co_return refuse(503, "hashing the password took too long");
    auto task4 = [this, name = s.user, h = *hash] {
      return db.update_user(name, h, std::nullopt, false);
    };
    auto err = co_await on_db(std::move(task4));
    if (!err.empty()) co_return refuse(400, err);
    sessions.close_user(s.user, s.id);  // other sessions of the user end
    audit(s.user, r, "password", s.user, "ok");
    co_return reply(200, json::object{{"ok", true}});
  }

  // --- users (M2, admins) ---
  asio::awaitable<http_response> users_route(const http_request& r, const session& s,
                                             const std::vector<std::string>& seg) {
    if (seg.size() == 3 && r.method == "GET") {
      auto task5 = [this] { return db.users(); };
      auto list = co_await on_db(std::move(task5));
      json::array out;
      for (auto& u : list) out.push_back(user_json(u));
      co_return reply(200, out);
    }
    if (seg.size() == 3 && r.method == "POST") {
      std::string why;
      // Optional: a read-only user watches (the NOC wall display) and acts on nothing. Taken out
      // first: the described body has exactly the three fields.
      bool read_only = false;
      std::string rest_body = r.body;
      {
        boost::system::error_code ec;
        auto v = json::parse(r.body, ec);
        if (!ec && v.is_object()) {
          if (const auto* x = v.as_object().if_contains("read_only")) {
            if (!x->is_bool()) co_return refuse(400, "read_only: must be true or false");
            read_only = x->as_bool();
            v.as_object().erase("read_only");
            rest_body = json::serialize(v);
          }
        }
      }
      auto body = parse_body<new_user_body>(
          rest_body, why,
          "{\"name\": string, \"password\": string, \"admin\": boolean, \"read_only\": boolean "
          "(optional)}");
      if (!body) co_return ++stats.bad_bodies, refuse(400, why);
      if (!valid_user_name(body->name))
        co_return refuse(400, "name: \"" + body->name + "\" is not 1..32 of A-Za-z0-9_.@-");
      auto problems = password_problems(body->name, body->password, opt.strong_passwords);
      if (!problems.empty()) co_return refuse(400, "password: " + problems.front());
      auto task6 = [pw = body->password, cost = opt.bcrypt_cost] { return bcrypt_hash(pw, cost); };
      auto hash = co_await hashing.run(std::move(task6), 30s);
      if (!hash) co_return refuse(503, "hashing the password took too long");
      if (read_only && body->admin)
        co_return refuse(400, "read_only: an administrator cannot be read-only");
      // A new user changes the password an admin gave them at first login, like hasys.
      user_record u{body->name, *hash, body->admin, true, 0, read_only};
      auto task7 = [this, u] { return db.add_user(u); };
      auto err = co_await on_db(std::move(task7));
      audit(s.user, r, "user add", body->name, err.empty() ? "ok" : "refused: " + err);
      if (!err.empty()) co_return refuse(409, err);
      co_return reply(201, json::object{{"name", body->name}});
    }
    if (seg.size() == 4 && r.method == "DELETE") {
      const auto name = seg[3];
      if (name != manager_db::default_user && name == s.user)
        co_return refuse(400, "you cannot delete yourself");
      auto task8 = [this, name] { return db.delete_user(name); };
      auto err = co_await on_db(std::move(task8));
      audit(s.user, r, "user delete", name, err.empty() ? "ok" : "refused: " + err);
      if (!err.empty()) co_return refuse(err.starts_with("no user") ? 404 : 400, err);
      sessions.close_user(name);
      ++scope_generation;
      co_return reply(200, json::object{{"ok", true}});
    }
    if (seg.size() == 4 && r.method == "PUT") {
      const auto name = seg[3];
      boost::system::error_code ec;
      auto v = json::parse(r.body, ec);
      if (ec || !v.is_object()) co_return refuse(400, "the body must be a JSON object");
      std::optional<bool> admin, read_only;
      std::optional<std::string> password;
      for (const auto& [k, x] : v.as_object()) {
        if (k == "admin" && x.is_bool())
          admin = x.as_bool();
        else if (k == "read_only" && x.is_bool())
          read_only = x.as_bool();
        else if (k == "password" && x.is_string())
          password = std::string(x.as_string());
        else
          co_return refuse(
              400, std::string(k) +
                       ": not a field of a user update "
                       "({\"admin\": boolean, \"read_only\": boolean, \"password\": string})");
      }
      std::optional<std::string> hash;
      if (password) {
        auto problems = password_problems(name, *password, opt.strong_passwords);
        if (!problems.empty()) co_return refuse(400, "password: " + problems.front());
        auto task9 = [pw = *password, cost = opt.bcrypt_cost] { return bcrypt_hash(pw, cost); };
        auto h = co_await hashing.run(std::move(task9), 30s);
        if (!h) co_return refuse(503, "hashing the password took too long");
        hash = *h;
      }
      // A password set by an admin is changed by its user at the next login.
      auto task10 = [this, name, hash, admin, read_only] {
        return db.update_user(name, hash, admin, hash ? std::optional<bool>(true) : std::nullopt,
                              read_only);
      };
      auto err = co_await on_db(std::move(task10));
      audit(s.user, r, "user update", name, err.empty() ? "ok" : "refused: " + err);
      if (!err.empty()) co_return refuse(err.starts_with("no user") ? 404 : 400, err);
      if (hash) sessions.close_user(name);
      ++scope_generation;
      co_return reply(200, json::object{{"ok", true}});
    }
    co_return refuse(405, r.method + " is not allowed on " + r.target);
  }

  // --- operations (M6, M8), proxied to the nodes over the hub ---
  struct operation_kind {
    const char* name;
    const char* verb;  // cmd.<verb> of hasys-heartbeat, or exec.<verb> of hasys-executor
    bool executor;     // exec.* rather than cmd.*
    int becomes;       // who becomes Active: 0 unchanged, 1 the node itself, 2 its peer
  };
  static const operation_kind* find_kind(const std::string& k) {
    static const operation_kind kinds[] = {
        {"manual_failover", "manual_failover", false, 2},
        {"partition_active", "partition_active", false, 1},
        {"partition_standby", "partition_standby", false, 2},
        {"forced_active", "forced_active", false, 1},
        {"forced_standby", "forced_standby", false, 2},
        {"set_mode_auto", "set_mode_auto", false, 0},
        {"set_mode_manual", "set_mode_manual", false, 0},
        {"stop_maintenance", "stop_maintenance", false, 0},
        {"drbd_reconnect", "drbd_reconnect", true, 0},
    };
    for (const auto& x : kinds)
      if (k == x.name) return &x;
    return nullptr;
  }

  static std::string field_text(const json::value& o, std::string_view key) {
    if (!o.is_object()) return {};
    const auto* v = o.as_object().if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }

  asio::awaitable<http_response> operation(const http_request& r, const session& s,
                                           const std::string& group_name,
                                           const std::vector<std::string>& scope) {
    std::string why;
    auto body = parse_body<operation_body>(r.body, why, "{\"kind\": string, \"node\": string}");
    if (!body) co_return ++stats.bad_bodies, refuse(400, why);
    const auto* kind = find_kind(body->kind);
    if (!kind)
      co_return refuse(400, "kind: \"" + body->kind +
                                "\" is not one of manual_failover, partition_active, "
                                "partition_standby, forced_active, forced_standby, set_mode_auto, "
                                "set_mode_manual, stop_maintenance, drbd_reconnect");
    const auto g = live.group(group_name, scope, clock::now());
    if (g.is_null()) co_return refuse(404, "no HA group '" + group_name + "'");
    // The group's nodes as the manager last heard them.
    std::string active;
    std::vector<std::string> nodes;
    json::value active_view;
    for (const auto& n : g.at("nodes").as_array()) {
      nodes.push_back(field_text(n, "node"));
      if (field_text(n, "role") == "active" && !n.at("stale").as_bool()) {
        active = field_text(n, "node");
        active_view = n;
      }
    }
    std::string node = body->node;
    if (node.empty() && std::string(kind->name) == "manual_failover") node = active;
    if (node.empty())
      co_return refuse(400, std::string("node: ") +
                                (std::string(kind->name) == "manual_failover"
                                     ? "the group has no Active node to hand over from; name one"
                                     : "which server of the group (" + nodes.front() +
                                           (nodes.size() > 1 ? ", " + nodes.back() : "") + ")?"));
    if (std::find(nodes.begin(), nodes.end(), node) == nodes.end())
      co_return refuse(400, "node: \"" + node + "\" is not a server of HA group " + group_name);
    std::string peer;
    for (auto& n : nodes)
      if (n != node) peer = n;
    const bool dry_run = query_param(r.target, "dry_run") == "1";
    const std::string action_id = random_hex(8);
    const std::string subject =
        "hasys." + group_name + "." + node + (kind->executor ? ".exec." : ".cmd.") + kind->verb;
    json::object result{
        {"kind", kind->name}, {"group", group_name}, {"node", node}, {"dry_run", dry_run}};
    if (dry_run) {
      // What would move where, what runs now, and the readiness of the node that would take over:
      // the nodes' own rules answer, nothing changes.
      const std::string becomes = kind->becomes == 1 ? node : kind->becomes == 2 ? peer : "";
      result["active_now"] = active.empty() ? json::value(nullptr) : json::value(active);
      result["active_after"] = kind->becomes == 0 ? result["active_now"]
                               : becomes.empty()  ? json::value(nullptr)
                                                  : json::value(becomes);
      json::array running;
      if (active_view.is_object())
        if (auto* flow = active_view.as_object().if_contains("flow"); flow && flow->is_object())
          if (auto* res = flow->as_object().if_contains("resources"); res && res->is_array())
            running = res->as_array();
      result["running_now"] = std::move(running);
      if (!kind->executor) {
        json::object rq{{"v", 1}, {"origin", "manager"}, {"user", s.user}, {"dry_run", true}};
        std::string rq_subject = subject, rq_body = json::serialize(rq);
        auto answer = co_await request(std::move(rq_subject), std::move(rq_body), 5s);
        if (!answer.ok) co_return refuse(504, node + " does not answer (" + answer.error + ")");
        boost::system::error_code ec;
        auto v = json::parse(answer.data, ec);
        result["accepted"] = !ec && v.is_object() && v.as_object().if_contains("accepted") &&
                             v.at("accepted") == true;
        result["text"] = field_text(v, "text");
        result["role_after"] = field_text(v, "role_after");
      } else {
        result["accepted"] = true;
        result["text"] = "would run drbdadm connect for the group's DRBD resources on " + node;
        result["role_after"] = "";
      }
      if (!becomes.empty() && becomes != active) {
        json::object rq{{"v", 1}, {"origin", "manager"}, {"user", s.user}};
        std::string rq_subject = "hasys." + group_name + "." + becomes + ".exec.ready";
        std::string rq_body = json::serialize(rq);
        auto ready = co_await request(std::move(rq_subject), std::move(rq_body), 10s);
        boost::system::error_code ec;
        auto v = ready.ok ? json::parse(ready.data, ec) : json::value(nullptr);
        result["readiness"] = json::object{
            {"node", becomes},
            {"answered", ready.ok && !ec},
            {"ready", ready.ok && !ec && v.is_object() && v.as_object().if_contains("accepted") &&
                          v.at("accepted") == true},
            {"text", ready.ok ? field_text(v, "text")
                              : becomes + " does not answer (" + ready.error + ")"}};
      } else {
        result["readiness"] = nullptr;
      }
      co_return reply(200, result);
    }
    json::object rq{{"v", 1},
                    {"origin", "manager"},
                    {"user", s.user},
                    {"action_id", action_id},
                    {"dry_run", false}};
    std::string rq_subject = subject, rq_body = json::serialize(rq);
    auto answer = co_await request(std::move(rq_subject), std::move(rq_body), 5s);
    const std::string target = group_name + "/" + node;
    if (!answer.ok) {
      audit_with_id(s.user, r, std::string("operation ") + kind->name, target,
                    "no answer: " + answer.error, action_id);
      co_return refuse(504, node + " does not answer (" + answer.error +
                                "): its daemon or its link to the hub is down; nothing was done");
    }
    boost::system::error_code ec;
    auto v = json::parse(answer.data, ec);
    const bool accepted =
        !ec && v.is_object() && v.as_object().if_contains("accepted") && v.at("accepted") == true;
    const std::string text = field_text(v, "text");
    audit_with_id(s.user, r, std::string("operation ") + kind->name, target,
                  (accepted ? "accepted: " : "refused: ") + text, action_id);
    result["accepted"] = accepted;
    result["text"] = text;
    result["action_id"] = action_id;
    co_return reply(200, result);
  }

  // --- fault management (E4): the event store's rules, read and replaced whole ---
  asio::awaitable<http_response> fault_rules_route(const http_request& r, const session& s) {
    std::string subject = "hasys.mgr.evt.faults.get", body = "{\"v\":1}";
    if (r.method == "PUT") {
      boost::system::error_code ec;
      auto v = json::parse(r.body, ec);
      const json::value* rules =
          !ec && v.is_object() ? v.as_object().if_contains("rules") : nullptr;
      if (!rules || !rules->is_array() || v.as_object().size() != 1)
        co_return ++stats.bad_bodies,
            refuse(400,
                   "expected {\"rules\": [{\"server\", \"code\", \"store\", \"forward\"}, ...]}");
      subject = "hasys.mgr.evt.faults.set";
      body = json::serialize(json::object{{"v", 1}, {"rules", *rules}});
    } else if (r.method != "GET") {
      co_return refuse(405, r.method + " is not allowed on /api/v1/fault-rules");
    }
    auto answer = co_await request(std::move(subject), std::move(body), 5s);
    if (!answer.ok) {
      if (r.method == "PUT") audit(s.user, r, "fault rules", "", "no answer: " + answer.error);
      co_return refuse(503, "the event store does not answer (" + answer.error + ")");
    }
    boost::system::error_code ec;
    auto v = json::parse(answer.data, ec);
    if (ec || !v.is_object() || !v.as_object().if_contains("rules"))
      co_return refuse(502, "the event store's answer cannot be read");
    const bool ok = v.at("ok") == true;
    if (r.method == "PUT")
      audit(s.user, r, "fault rules", "",
            ok ? "ok: " + std::to_string(v.at("rules").as_array().size()) + " rules"
               : "refused: " + field_text(v, "error"));
    if (!ok) co_return refuse(400, field_text(v, "error"));
    co_return reply(200, json::object{{"rules", v.at("rules")}});
  }

  // --- remote configuration (M8, M9): remote_config.cpp sequences the nodes ---
  asio::awaitable<http_response> node_config(const http_request& r, const session& s,
                                             const std::string& group_name, const std::string& node,
                                             const std::vector<std::string>& scope) {
    const auto g = live.group(group_name, scope, clock::now());
    if (g.is_null()) co_return refuse(404, "no HA group '" + group_name + "'");
    config_target t{group_name, node, ""};
    bool known = false;
    for (const auto& n : g.at("nodes").as_array()) {
      const auto name = field_text(n, "node");
      if (name == node)
        known = true;
      else if (!name.empty())
        t.peer = name;
    }
    if (!known) co_return refuse(404, "no server '" + node + "' in HA group " + group_name);
    if (r.method == "GET") co_return co_await read_node_config(request, t);
    const bool dry_run = query_param(r.target, "dry_run") == "1";
    auto outcome = co_await change_node_config(request, t, s.user, r.body, dry_run, random_hex(8));
    if (outcome.response.status == 400) ++stats.bad_bodies;
    if (!dry_run && !outcome.audit.empty())
      audit_with_id(s.user, r, "configuration change", group_name + "/" + node, outcome.audit,
                    outcome.action_id);
    co_return outcome.response;
  }

  // --- servers (M4) ---
  static json::object server_json(const server_record& r) {
    json::array ips(r.virtual_ips.begin(), r.virtual_ips.end());
    return {{"group", r.group},
            {"node", r.node},
            {"peer", r.peer},
            {"public_address", r.public_address},
            {"heartbeat_address", r.heartbeat_address},
            {"virtual_ips", std::move(ips)},
            {"version", r.version},
            {"protocol", r.protocol},
            {"registered_unix_ms", r.registered_unix_ms},
            {"first_unix_ms", r.first_unix_ms},
            {"manual", r.manual},
            {"note", r.note}};
  }

  asio::awaitable<http_response> servers_route(const http_request& r, const session& s,
                                               const user_record& u,
                                               const std::vector<std::string>& seg) {
    if (seg.size() == 3 && r.method == "GET") {
      auto task = [this, name = s.user] { return std::pair{db.servers(), db.scope(name)}; };
      auto [list, scope] = co_await on_db(std::move(task));
      json::array out;
      for (auto& x : list)
        if (fleet::in_scope(scope, x.group)) out.push_back(server_json(x));
      co_return reply(200, out);
    }
    if (!u.admin) {
      ++stats.forbidden;
      co_return refuse(403, "only administrators add, change or delete servers");
    }
    if (seg.size() == 3 && r.method == "POST") {
      std::string why;
      auto body = parse_body<new_server_body>(
          r.body, why,
          "{\"group\": string, \"node\": string, \"public_address\": string, \"note\": string}");
      if (!body) co_return ++stats.bad_bodies, refuse(400, why);
      if (!valid_ha_group(body->group))
        co_return refuse(400, "group: \"" + body->group + "\" is not 1..20 of A-Za-z0-9_.-");
      if (!valid_node_name(body->node))
        co_return refuse(400, "node: \"" + body->node + "\" is not 1..15 of A-Za-z0-9_.-");
      if (!valid_address(body->public_address))
        co_return refuse(
            400, "public_address: \"" + body->public_address + "\" is not an IPv4 or IPv6 address");
      if (body->note.size() > 200) co_return refuse(400, "note: longer than 200 bytes");
      server_record rec;
      rec.group = body->group;
      rec.node = body->node;
      rec.public_address = body->public_address;
      rec.note = body->note;
      rec.manual = true;
      auto task = [this, rec] { return db.add_server(rec); };
      auto err = co_await on_db(std::move(task));
      audit(s.user, r, "server add", body->group + "/" + body->node,
            err.empty() ? "ok" : "refused: " + err);
      if (!err.empty()) co_return refuse(409, err);
      co_return reply(201, json::object{{"group", body->group}, {"node", body->node}});
    }
    if (seg.size() == 5 && (r.method == "PUT" || r.method == "DELETE")) {
      const std::string group = seg[3], node = seg[4];
      std::string err;
      if (r.method == "DELETE") {
        auto task = [this, group, node] { return db.delete_server(group, node); };
        err = co_await on_db(std::move(task));
        audit(s.user, r, "server delete", group + "/" + node,
              err.empty() ? "ok" : "refused: " + err);
      } else {
        boost::system::error_code ec;
        auto v = json::parse(r.body, ec);
        if (ec || !v.is_object()) co_return refuse(400, "the body must be a JSON object");
        std::optional<std::string> address, note;
        for (const auto& [k, x] : v.as_object()) {
          if (k == "public_address" && x.is_string() && valid_address(std::string(x.as_string())))
            address = std::string(x.as_string());
          else if (k == "note" && x.is_string() && x.as_string().size() <= 200)
            note = std::string(x.as_string());
          else
            co_return refuse(400, std::string(k) +
                                      ": not a field of a server update ({\"public_address\": an "
                                      "IP address, \"note\": up to 200 bytes})");
        }
        auto task = [this, group, node, address, note] {
          return db.update_server(group, node, address, note);
        };
        err = co_await on_db(std::move(task));
        audit(s.user, r, "server update", group + "/" + node,
              err.empty() ? "ok" : "refused: " + err);
      }
      if (!err.empty()) co_return refuse(404, err);
      co_return reply(200, json::object{{"ok", true}});
    }
    co_return refuse(405, r.method + " is not allowed on " + r.target);
  }

  // --- events (E2, E3) through the event store, with the user's scope ---
  // A list parameter: "a,b,c", each percent-decoded.
  static std::vector<std::string> list_param(const std::string& v) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < v.size()) {
      auto comma = v.find(',', start);
      auto part = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  static std::string decoded_param(const std::string& target, const std::string& key) {
    auto raw = query_param(target, key);
    std::replace(raw.begin(), raw.end(), '+', ' ');
    return percent_decoded(raw).value_or(std::string());
  }

  // The query of GET /api/v1/events, or why not.
  static std::optional<json::object> event_query_of(const http_request& r,
                                                    const std::vector<std::string>& scope,
                                                    std::string& why) {
    json::object q{{"v", 1}};
    const auto kind = decoded_param(r.target, "kind");
    q["kind"] = kind.empty() ? "detailed" : kind;
    json::array sc(scope.begin(), scope.end());
    q["scope"] = std::move(sc);
    const auto field = decoded_param(r.target, "field");
    q["field"] = field.empty() ? "text" : field;
    q["keyword"] = decoded_param(r.target, "keyword");
    try {
      auto number = [&](const char* key, std::int64_t fallback) -> std::int64_t {
        auto v = decoded_param(r.target, key);
        if (v.empty()) return fallback;
        std::size_t used = 0;
        auto n = std::stoll(v, &used);
        if (used != v.size()) throw std::invalid_argument(key);
        return n;
      };
      q["from_unix_ms"] = number("from", 0);
      q["to_unix_ms"] = number("to", 0);
      q["page"] = number("page", 1);
      q["page_size"] = number("page_size", 100);
    } catch (const std::exception&) {
      why = "from, to, page and page_size must be whole numbers";
      return std::nullopt;
    }
    for (auto key : {"severities", "groups", "servers"}) {
      auto items = list_param(decoded_param(r.target, key));
      q[key] = json::array(items.begin(), items.end());
    }
    return q;
  }

  asio::awaitable<http_response> events_route(const http_request& r, const session& s,
                                              const std::vector<std::string>& seg) {
    auto task = [this, name = s.user] { return db.scope(name); };
    auto scope = co_await on_db(std::move(task));
    if (seg.size() == 3 && r.method == "GET") {
      std::string why;
      auto q = event_query_of(r, scope, why);
      if (!q) co_return refuse(400, why);
      std::string subject = "hasys.mgr.evt.query", body = json::serialize(*q);
      auto answer = co_await request(std::move(subject), std::move(body), 10s);
      if (!answer.ok)
        co_return refuse(503, "the event store does not answer (" + answer.error + ")");
      boost::system::error_code ec;
      auto v = json::parse(answer.data, ec);
      if (ec || !v.is_object()) co_return refuse(502, "the event store's answer cannot be read");
      if (v.at("ok") != true) co_return refuse(400, field_text(v, "error"));
      co_return http_response{200, "application/json", std::move(answer.data), {}};
    }
    if (seg.size() == 4 && seg[3] == "export" && r.method == "POST") {
      boost::system::error_code ec;
      auto v = json::parse(r.body, ec);
      if (ec || !v.is_object())
        co_return refuse(400,
                         "the body must be a JSON object {\"format\": \"csv\" | \"xlsx\", "
                         "\"max_rows\": 1..100000, \"query\": the parameters of GET "
                         "/api/v1/events as strings}");
      const auto format = field_text(v, "format");
      if (format != "csv" && format != "xlsx")
        co_return refuse(400, "format: \"" + format + "\" is not csv or xlsx");
      const auto* max = v.as_object().if_contains("max_rows");
      if (!max || !max->is_int64() || max->as_int64() < 1 || max->as_int64() > 100000)
        co_return refuse(400,
                         "max_rows: must be 1..100000 (the event store exports up to "
                         "1,000,000 on the manager host itself)");
      // The query's parameters as GET /api/v1/events takes them.
      std::string target = "/api/v1/events?";
      if (const auto* qp = v.as_object().if_contains("query"); qp && qp->is_object())
        for (const auto& [k, x] : qp->as_object()) {
          if (!x.is_string())
            co_return refuse(400, "query." + std::string(k) + ": must be a string, as in the URL");
          target += std::string(k) + "=" + std::string(x.as_string()) + "&";
        }
      http_request as_get = r;
      as_get.target = target;
      std::string why;
      auto q = event_query_of(as_get, scope, why);
      if (!q) co_return refuse(400, "query: " + why);
      json::object rq{{"v", 1}, {"format", format}, {"query", *q}, {"max_rows", max->as_int64()}};
      std::string subject = "hasys.mgr.evt.export", body = json::serialize(rq);
      auto answer = co_await request(std::move(subject), std::move(body), 60s);
      if (!answer.ok)
        co_return refuse(503, "the event store does not answer (" + answer.error + ")");
      auto reply_v = json::parse(answer.data, ec);
      if (ec || !reply_v.is_object())
        co_return refuse(502, "the event store's answer cannot be read");
      if (reply_v.at("ok") != true) co_return refuse(400, field_text(reply_v, "error"));
      // The file, from the export folder only, read off the I/O thread.
      const std::filesystem::path file = field_text(reply_v, "file");
      const auto folder = std::filesystem::weakly_canonical(opt.export_dir);
      const auto real = std::filesystem::weakly_canonical(file);
      if (real.parent_path() != folder)
        co_return refuse(502, "the event store wrote its export outside " + opt.export_dir);
      auto read = [real] {
        std::ifstream in(real, std::ios::binary);
        std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::error_code rm;
        std::filesystem::remove(real, rm);  // sent once; the store sweeps what is left
        return data;
      };
      auto data = co_await lane.run(std::move(read), 30s);
      if (!data) co_return refuse(503, "reading the export took too long");
      // Sent only as the store wrote it: a file missing or cut short is an error, not a file.
      const auto bytes = reply_v.at("bytes").to_number<std::uint64_t>();
      if (data->size() != bytes) {
        audit(s.user, r, "events export", format, "failed: the file read is not the file written");
        co_return refuse(502, "the export file holds " + std::to_string(data->size()) +
                                  " bytes, the event store wrote " + std::to_string(bytes));
      }
      audit(s.user, r, "events export", format,
            "ok: " + std::to_string(reply_v.at("rows").to_number<std::int64_t>()) + " rows");
      http_response a{
          200,
          format == "csv" ? "text/csv; charset=utf-8"
                          : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          std::move(*data),
          {{"Content-Disposition", "attachment; filename=\"hasys-events." + format + "\""}}};
      co_return a;
    }
    co_return refuse(405, r.method + " is not allowed on " + r.target);
  }

  // --- business groups (M3, admins) ---
  asio::awaitable<http_response> business_groups_route(const http_request& r, const session& s,
                                                       const std::vector<std::string>& seg) {
    if (seg.size() == 3 && r.method == "GET") {
      auto task = [this] { return db.business_groups(); };
      auto list = co_await on_db(std::move(task));
      json::array out;
      for (auto& g : list) {
        json::array ha(g.ha_groups.begin(), g.ha_groups.end());
        json::array users(g.users.begin(), g.users.end());
        out.push_back(json::object{{"name", g.name}, {"ha_groups", ha}, {"users", users}});
      }
      co_return reply(200, out);
    }
    if (seg.size() == 3 && r.method == "POST") {
      std::string why;
      auto body = parse_body<new_business_group_body>(r.body, why, "{\"name\": string}");
      if (!body) co_return ++stats.bad_bodies, refuse(400, why);
      if (!valid_business_group(body->name))
        co_return refuse(400,
                         "name: \"" + body->name +
                             "\" is not 1..60 bytes of text without '/' or control characters");
      auto task = [this, name = body->name] { return db.add_business_group(name); };
      auto err = co_await on_db(std::move(task));
      audit(s.user, r, "business group add", body->name, err.empty() ? "ok" : "refused: " + err);
      if (!err.empty()) co_return refuse(409, err);
      co_return reply(201, json::object{{"name", body->name}});
    }
    if (seg.size() == 4 && r.method == "PUT") {
      std::string why;
      auto body = parse_body<business_group_body>(r.body, why,
                                                  "{\"ha_groups\": [string], \"users\": [string]}");
      if (!body) co_return ++stats.bad_bodies, refuse(400, why);
      for (std::size_t i = 0; i < body->ha_groups.size(); ++i)
        if (!valid_ha_group(body->ha_groups[i]))
          co_return refuse(400, "ha_groups[" + std::to_string(i) + "]: \"" + body->ha_groups[i] +
                                    "\" is not 1..20 of A-Za-z0-9_.-");
      business_group g{seg[3], body->ha_groups, body->users};
      auto task = [this, g] { return db.set_business_group(g); };
      auto err = co_await on_db(std::move(task));
      audit(s.user, r, "business group update", seg[3], err.empty() ? "ok" : "refused: " + err);
      ++scope_generation;
      if (!err.empty()) co_return refuse(err.starts_with("no business") ? 404 : 400, err);
      co_return reply(200, json::object{{"ok", true}});
    }
    if (seg.size() == 4 && r.method == "DELETE") {
      auto task = [this, name = seg[3]] { return db.delete_business_group(name); };
      auto err = co_await on_db(std::move(task));
      audit(s.user, r, "business group delete", seg[3], err.empty() ? "ok" : "refused: " + err);
      ++scope_generation;
      if (!err.empty()) co_return refuse(404, err);
      co_return reply(200, json::object{{"ok", true}});
    }
    co_return refuse(405, r.method + " is not allowed on " + r.target);
  }

  // GET /api/v1/audit/{id}/events: what an operation caused. The node it was sent to tags its
  // events of the next 30 s with the action id ("caused"); the group's other events of that
  // minute (the peer's role changes, which the id does not reach) are "around".
  asio::awaitable<http_response> audit_events(const std::string& id_text) {
    std::int64_t id = 0;
    try {
      std::size_t used = 0;
      id = std::stoll(id_text, &used);
      if (used != id_text.size()) throw std::invalid_argument(id_text);
    } catch (const std::exception&) {
      co_return refuse(400, "the audit entry's id must be a number");
    }
    auto task = [this, id] { return db.audit_by_id(id); };
    auto entry = co_await on_db(std::move(task));
    if (!entry) co_return refuse(404, "no audit entry " + id_text);
    json::object e{{"id", entry->id},         {"time_unix_ms", entry->time_unix_ms},
                   {"user", entry->user},     {"address", entry->address},
                   {"action", entry->action}, {"target", entry->target},
                   {"result", entry->result}, {"action_id", entry->action_id}};
    json::array caused, around;
    const auto slash = entry->target.find('/');
    if (entry->action.starts_with("operation ") && slash != std::string::npos) {
      const std::string group = entry->target.substr(0, slash);
      json::object q{{"v", 1},
                     {"kind", "detailed"},
                     {"scope", json::array{group}},
                     {"field", "text"},
                     {"keyword", ""},
                     {"from_unix_ms", entry->time_unix_ms - 1000},
                     {"to_unix_ms", entry->time_unix_ms + 60000},
                     {"severities", json::array{}},
                     {"groups", json::array{group}},
                     {"servers", json::array{}},
                     {"page", 1},
                     {"page_size", 1000}};
      std::string subject = "hasys.mgr.evt.query", body = json::serialize(q);
      auto answer = co_await request(std::move(subject), std::move(body), 10s);
      if (!answer.ok)
        co_return refuse(503, "the event store does not answer (" + answer.error + ")");
      boost::system::error_code ec;
      auto v = json::parse(answer.data, ec);
      if (ec || !v.is_object() || v.at("ok") != true)
        co_return refuse(502, "the event store's answer cannot be used");
      for (const auto& row : v.at("events").as_array()) {
        const auto* details = row.at("event").as_object().if_contains("details");
        const auto* tag = details && details->is_object()
                              ? details->as_object().if_contains("action_id")
                              : nullptr;
        const bool ours = tag && tag->is_string() && tag->as_string() == entry->action_id;
        (ours ? caused : around).push_back(row);
      }
    }
    co_return reply(200, json::object{{"entry", std::move(e)},
                                      {"caused", std::move(caused)},
                                      {"around", std::move(around)}});
  }

  asio::awaitable<http_response> audit_route(const http_request& r) {
    std::int64_t before = 0;
    int limit = 100;
    try {
      if (auto b = query_param(r.target, "before"); !b.empty()) before = std::stoll(b);
      if (auto l = query_param(r.target, "limit"); !l.empty()) limit = std::stoi(l);
    } catch (const std::exception&) {
      co_return refuse(400, "before and limit must be numbers");
    }
    if (limit < 1 || limit > 1000) co_return refuse(400, "limit must be 1..1000");
    auto task11 = [this, before, limit] { return db.audit_log(before, limit); };
    auto rows = co_await on_db(std::move(task11));
    json::array out;
    for (auto& e : rows)
      out.push_back(json::object{{"id", e.id},
                                 {"time_unix_ms", e.time_unix_ms},
                                 {"user", e.user},
                                 {"address", e.address},
                                 {"action", e.action},
                                 {"target", e.target},
                                 {"result", e.result},
                                 {"action_id", e.action_id}});
    co_return reply(200, out);
  }

  // --- the router ---
  asio::awaitable<http_response> route(http_request r) {
    ++stats.requests;
    const auto seg = path_segments(r.target);
    if (seg.size() == 1 && seg[0] == "healthz")
      co_return reply(
          200, json::object{{"ok", true}, {"bus_connected", bus_up}, {"nodes", live.node_count()}});
    if (seg.size() == 1 && seg[0] == "metrics" && r.method == "GET") {
      const auto& auth = r.header("authorization");
      bool allowed = false;
      if (!opt.metrics_token.empty() && auth.starts_with("Bearer ")) {
        const auto sent = auth.substr(7);
        allowed = sent.size() == opt.metrics_token.size() &&
                  CRYPTO_memcmp(sent.data(), opt.metrics_token.data(), sent.size()) == 0;
      }
      if (!allowed) {
        const auto token = cookie_value(r.header("cookie"));
        const session* s = token.empty() ? nullptr : sessions.use(token, clock::now());
        if (s) {
          auto task = [this, name = s->user] { return db.user(name); };
          auto u = co_await on_db(std::move(task));
          allowed = u && u->admin && !u->must_change_password;
        }
      }
      if (!allowed)
        co_return refuse(401, "metrics need the bearer token or an administrator's session");
      co_return http_response{200, "text/plain; version=0.0.4", prometheus(), {}};
    }
    if ((r.method == "GET" || r.method == "HEAD") && (seg.empty() || seg[0] != "api")) {
      if (auto page = web.get(r.target, r.header("accept-encoding"), r.header("if-none-match")))
        co_return *page;
    }
    if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1") co_return refuse(404, "no such page");
    if (seg.size() == 3 && seg[2] == "version" && r.method == "GET")
      co_return reply(200,
                      json::object{{"api", "v1"}, {"version", opt.version}, {"node_protocol", 1}});
    if (seg.size() == 3 && seg[2] == "session" && r.method == "POST") co_return co_await login(r);

    // Everything else needs a session.
    const auto token = cookie_value(r.header("cookie"));
    const session* s = token.empty() ? nullptr : sessions.use(token, clock::now());
    if (!s) co_return refuse(401, "not logged in, or the session expired");
    const session me = *s;  // the table may change while this request waits
    const bool changes = r.method != "GET" && r.method != "HEAD";
    if (changes) {
      const auto& sent = r.header("x-csrf-token");
      if (sent.size() != me.csrf.size() ||
          CRYPTO_memcmp(sent.data(), me.csrf.data(), me.csrf.size()) != 0) {
        ++stats.csrf_refused;
        co_return refuse(403, "missing or wrong X-CSRF-Token");
      }
    }
    auto task12 = [this, name = me.user] { return db.user(name); };
    auto user = co_await on_db(std::move(task12));
    if (!user) {
      sessions.close(me.id);
      co_return refuse(401, "the session's user no longer exists");
    }
    if (seg.size() >= 3 && seg[2] == "session") {
      if (seg.size() == 3 && r.method == "GET")
        co_return reply(200, json::object{{"user", user->name},
                                          {"admin", user->admin},
                                          {"read_only", user->read_only},
                                          {"must_change_password", user->must_change_password},
                                          {"csrf", me.csrf},
                                          {"idle_timeout_s", opt.session_idle.count()}});
      if (seg.size() == 3 && r.method == "DELETE") {
        sessions.close(me.id);
        audit(me.user, r, "logout", me.user, "ok");
        auto a = reply(200, json::object{{"ok", true}});
        a.headers.emplace_back("Set-Cookie", std::string(cookie_name) +
                                                 "=; Path=/; Max-Age=0; HttpOnly; Secure; "
                                                 "SameSite=Strict");
        co_return a;
      }
      if (seg.size() == 4 && seg[3] == "password" && r.method == "PUT")
        co_return co_await change_password(r, me);
      co_return refuse(405, r.method + " is not allowed on " + r.target);
    }
    if (user->must_change_password) {
      ++stats.forbidden;
      co_return reply(403, json::object{{"error", "the password must be changed first"},
                                        {"must_change_password", true}});
    }
    if (seg[2] == "groups" && seg.size() == 5 && seg[4] == "operations" && r.method == "POST") {
      if (user->read_only) {
        ++stats.forbidden;
        co_return refuse(403, "a read-only user watches and acts on nothing");
      }
      auto task = [this, name = me.user] { return db.scope(name); };
      auto scope = co_await on_db(std::move(task));
      co_return co_await operation(r, me, seg[3], scope);
    }
    if (seg[2] == "groups" && seg.size() == 7 && seg[4] == "nodes" && seg[6] == "config") {
      if (r.method != "GET" && r.method != "PATCH")
        co_return refuse(405,
                         r.method + " is not allowed on " + r.target.substr(0, r.target.find('?')));
      if (r.method == "PATCH" && user->read_only) {
        ++stats.forbidden;
        co_return refuse(403, "a read-only user watches and acts on nothing");
      }
      auto task = [this, name = me.user] { return db.scope(name); };
      auto scope = co_await on_db(std::move(task));
      co_return co_await node_config(r, me, seg[3], seg[5], scope);
    }
    if (seg[2] == "groups" && r.method == "GET" && seg.size() <= 4) {
      auto task = [this, name = me.user] {
        return std::pair{db.scope(name), db.business_labels(name)};
      };
      auto [scope, labels] = co_await on_db(std::move(task));
      auto label = [&labels](json::object& g) {
        json::array bgs;
        if (auto it = labels.find(std::string(g.at("name").as_string())); it != labels.end())
          for (auto& b : it->second) bgs.emplace_back(b);
        g["business_groups"] = std::move(bgs);
      };
      if (seg.size() == 3) {
        // Each group's view as made at its latest change (shared with the streams), its
        // business groups spliced in: no tree is built per request for a thousand groups.
        std::string body = "[";
        for (const auto& [name, change] : live.changes(scope)) {
          const auto& cached = group_json(name, change);
          json::array bgs;
          if (auto it = labels.find(name); it != labels.end())
            for (auto& b : it->second) bgs.emplace_back(b);
          if (body.size() > 1) body += ',';
          body += "{\"business_groups\":" + json::serialize(bgs) + "," + cached.substr(1);
        }
        body += "]";
        co_return http_response{200, "application/json", std::move(body), {}};
      }
      auto g = live.group(seg[3], scope, clock::now());
      // Out of scope and unknown look the same: a user learns nothing of other groups.
      if (g.is_null()) co_return refuse(404, "no HA group '" + seg[3] + "'");
      label(g.as_object());
      co_return reply(200, g);
    }
    if (seg.size() == 3 && seg[2] == "event-catalogue" && r.method == "GET") {
      // E1: every event code with its English title and Korean text, for the page's Korean view
      // (the Korean text replaces the title, the bracket of the event is kept).
      json::array out;
      for (const auto& e : events::catalogue())
        out.push_back(json::object{{"code", e.code}, {"en", e.en}, {"ko", e.ko}});
      auto a = reply(200, out);
      a.headers.emplace_back("Cache-Control", "private, max-age=3600");
      co_return a;
    }
    if (seg[2] == "servers") co_return co_await servers_route(r, me, *user, seg);
    if (seg[2] == "events") co_return co_await events_route(r, me, seg);
    if (seg[2] == "users" || seg[2] == "audit" || seg[2] == "business-groups" ||
        seg[2] == "fault-rules") {
      if (!user->admin) {
        ++stats.forbidden;
        co_return refuse(403,
                         "only administrators manage users and business groups and read "
                         "the audit log");
      }
      if (seg[2] == "users") co_return co_await users_route(r, me, seg);
      if (seg[2] == "business-groups") co_return co_await business_groups_route(r, me, seg);
      if (seg[2] == "fault-rules" && seg.size() == 3) co_return co_await fault_rules_route(r, me);
      if (seg[2] == "audit" && seg.size() == 3 && r.method == "GET")
        co_return co_await audit_route(r);
      if (seg[2] == "audit" && seg.size() == 5 && seg[4] == "events" && r.method == "GET")
        co_return co_await audit_events(seg[3]);
    }
    co_return refuse(404, "no route " + r.method + " " + r.target.substr(0, r.target.find('?')));
  }
};

namespace {

// One WebSocket client's messages: first a snapshot, then at most one message per 250 ms with
// what changed since — the overview line of every node it may see (M5), the whole view of the
// groups it watches (up to 4, M6/M7: {"watch": [...]} from the client), the groups that left its
// scope and the events of its groups. Made from the latest state when the previous message is
// gone, so a slow client costs no memory: it skips states, never queues them.
class client_stream : public stream_feed {
 public:
  client_stream(api::impl& a, std::string token, std::string user, asio::any_io_executor ex)
      : api_(a), token_(std::move(token)), user_(std::move(user)), timer_(ex) {}

  asio::awaitable<std::optional<std::string>> next() override;
  void received(std::string_view text) override {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return;
    const auto* w = v.as_object().if_contains("watch");
    if (!w || !w->is_array()) return;
    watch_.clear();
    for (const auto& g : w->as_array())
      if (g.is_string() && watch_.size() < 4) watch_.insert(std::string(g.as_string()));
    watched_sent_.clear();  // sent whole at the next message
  }

 private:
  api::impl& api_;
  std::string token_, user_;
  asio::steady_timer timer_;
  std::vector<std::string> scope_;
  std::uint64_t generation_ = ~std::uint64_t{0};
  std::vector<std::uint64_t> sent_;  // by node id: the change last sent (0: never)
  std::set<std::string> visible_;    // the groups of the scope last looked at
  std::set<std::string> watch_;
  std::map<std::string, std::uint64_t> watched_sent_;
  std::uint64_t event_seq_ = 0;
  bool first_ = true;
  clock::time_point last_send_{};
};

}  // namespace

const std::string& api::impl::row_json(const fleet::node_state& n, std::uint64_t change) {
  if (row_cache.size() <= n.id) row_cache.resize(n.id + 1);
  auto& slot = row_cache[n.id];
  if (slot.second.empty() || slot.first != change) {
    slot.first = change;
    slot.second = json::serialize(live.node_row(n.group, n.node, clock::now()));
  }
  return slot.second;
}

const std::string& api::impl::group_json(const std::string& name, std::uint64_t change) {
  auto& slot = group_cache[name];
  if (slot.second.empty() || slot.first != change) {
    slot.first = change;
    slot.second = json::serialize(live.group_summary(name, clock::now()));
  }
  return slot.second;
}

const std::string& api::impl::group_full_json(const std::string& name, std::uint64_t change) {
  auto& slot = group_full_cache[name];
  if (slot.second.empty() || slot.first != change) {
    slot.first = change;
    static const std::vector<std::string> everything{"*"};
    slot.second = json::serialize(live.group(name, everything, clock::now()));
  }
  return slot.second;
}

asio::awaitable<std::optional<std::string>> client_stream::next() {
  for (;;) {
    if (!first_) {
      timer_.expires_at(last_send_ + 250ms);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    // The session keeps living while its page listens; logout or deletion ends the stream.
    const session* s = api_.sessions.use(token_, clock::now());
    if (!s) co_return std::nullopt;
    bool refreshed = false;
    if (generation_ != api_.scope_generation) {
      generation_ = api_.scope_generation;
      auto task = [a = &api_, name = user_] { return a->db.scope(name); };
      scope_ = co_await api_.on_db(std::move(task));
      refreshed = true;
    }
    std::string nodes, groups, removed;
    std::set<std::string> visible;
    const bool rescoped = visible_.empty() || refreshed;
    sent_.resize(api_.live.ids(), 0);
    // A new scope: every visible line is sent again (a group may have come back into it).
    if (refreshed) std::fill(sent_.begin(), sent_.end(), 0);
    nodes.reserve(64 * 1024);
    api_.live.visit(scope_, [&](const fleet::node_state& n) {
      if (rescoped) visible.insert(n.group);
      if (sent_[n.id] == n.change) return;
      sent_[n.id] = n.change;
      if (!nodes.empty()) nodes += ',';
      nodes += api_.row_json(n, n.change);
    });
    // Groups leave a stream only when its scope changes.
    if (rescoped) {
      for (const auto& g : visible_)
        if (!visible.contains(g)) {
          if (!removed.empty()) removed += ',';
          removed += json::serialize(json::value(g));
        }
      visible_ = std::move(visible);
    }
    for (const auto& [name, change] : api_.live.changes(scope_)) {
      if (!watch_.contains(name)) continue;
      auto it = watched_sent_.find(name);
      if (it != watched_sent_.end() && it->second == change) continue;
      watched_sent_[name] = change;
      if (!groups.empty()) groups += ',';
      groups += api_.group_full_json(name, change);
    }
    std::string events;
    const bool gap =
        !first_ && !api_.recent_events.empty() && event_seq_ + 1 < api_.recent_events.front().seq;
    if (!first_)  // the snapshot starts from now; the E2 window comes from the event store
      for (const auto& e : api_.recent_events) {
        if (e.seq <= event_seq_ || !fleet::in_scope(scope_, e.group)) continue;
        if (!events.empty()) events += ',';
        events += json::serialize(e.event);
      }
    if (!api_.recent_events.empty()) event_seq_ = api_.recent_events.back().seq;
    if (first_ || !nodes.empty() || !groups.empty() || !removed.empty() || !events.empty() || gap) {
      std::string m = std::string("{\"type\":\"") + (first_ ? "snapshot" : "delta") +
                      "\",\"server_time_unix_ms\":" + std::to_string(proto::unix_ms_now()) +
                      ",\"nodes\":[" + nodes + "],\"groups\":[" + groups + "],\"removed\":[" +
                      removed + "],\"events\":[" + events +
                      "],\"events_gap\":" + (gap ? "true" : "false") + "}";
      first_ = false;
      last_send_ = clock::now();
      co_return m;
    }
    last_send_ = clock::now();
  }
}

api::api(manager_db& db, daemon::blocking_lane& lane, fleet& f, bus_request_fn request, options o)
    : impl_(std::make_unique<impl>(db, lane, f, std::move(request), std::move(o))) {}
api::~api() = default;
asio::awaitable<http_response> api::handle(http_request r) {
  const auto t0 = clock::now();
  auto answer = co_await impl_->route(std::move(r));
  impl_->observe(clock::now() - t0);
  co_return answer;
}
const api::counters& api::stats() const { return impl_->stats; }

asio::awaitable<stream_open> api::open_stream(http_request r) {
  auto& i = *impl_;
  ++i.stats.requests;
  if (r.target.substr(0, r.target.find('?')) != "/api/v1/stream")
    co_return stream_open{refuse(404, "no stream here: /api/v1/stream"), nullptr};
  // Cross-site WebSocket hijacking: a browser sends the page's origin; it must be this host.
  const auto& origin = r.header("origin");
  const auto& host = r.header("host");
  if (!origin.empty() && origin != "https://" + host)
    co_return stream_open{refuse(403, "the stream is for pages of this manager only"), nullptr};
  const auto token = cookie_value(r.header("cookie"));
  const session* s = token.empty() ? nullptr : i.sessions.use(token, clock::now());
  if (!s) co_return stream_open{refuse(401, "not logged in, or the session expired"), nullptr};
  const session me = *s;
  auto task = [p = &i, name = me.user] { return p->db.user(name); };
  auto user = co_await i.on_db(std::move(task));
  if (!user) co_return stream_open{refuse(401, "the session's user no longer exists"), nullptr};
  if (user->must_change_password)
    co_return stream_open{refuse(403, "the password must be changed first"), nullptr};
  auto ex = co_await asio::this_coro::executor;
  co_return stream_open{{}, std::make_unique<client_stream>(i, token, me.user, ex)};
}

void api::on_registration(std::string_view subject, std::string_view data) {
  auto& i = *impl_;
  auto m = proto::from_json<proto::registration_msg>(data);
  if (!m || subject != proto::registration_subject(m->group, m->node) ||
      !valid_ha_group(m->group) || !valid_node_name(m->node)) {
    ++i.registrations_refused;
    return;
  }
  server_record r;
  r.group = m->group;
  r.node = m->node;
  r.peer = m->peer;
  r.public_address = m->public_address;
  r.heartbeat_address = m->heartbeat_address;
  r.virtual_ips = m->virtual_ips;
  r.version = m->version;
  r.protocol = m->protocol;
  r.registered_unix_ms = proto::unix_ms_now();
  i.pending_registrations.push_back(std::move(r));
}

void api::flush_registrations() {
  auto& i = *impl_;
  if (i.pending_registrations.empty()) return;
  i.post_write("registrations", [p = &i, batch = std::move(i.pending_registrations)] {
    p->db.register_servers(batch);
  });
  i.pending_registrations.clear();
}

void api::on_event(std::string_view subject, std::string_view data) {
  auto& i = *impl_;
  // hasys.evt.<group>.<node>
  if (!subject.starts_with("hasys.evt.")) return;
  auto rest = subject.substr(10);
  auto dot = rest.find('.');
  if (dot == std::string_view::npos) return;
  boost::system::error_code ec;
  auto v = json::parse(data, ec);
  if (ec || !v.is_object()) return;
  i.takeovers.observe(v.as_object());
  i.recent_events.push_back({++i.event_seq, std::string(rest.substr(0, dot)), std::move(v)});
  if (i.recent_events.size() > impl::recent_events_max) i.recent_events.pop_front();
}
std::size_t api::sessions() const { return impl_->sessions.size(); }
void api::bus_connected(bool c) { impl_->bus_up = c; }

}  // namespace hasys::manager
