// The manager's database: users, business groups, audit log (see manager_db.hpp).
#include "manager_db.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace hasys::manager {

namespace {

constexpr const char* schema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS users (
  name          TEXT PRIMARY KEY,
  password_hash TEXT    NOT NULL,
  admin         INTEGER NOT NULL,
  must_change   INTEGER NOT NULL,
  created_ms    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS business_groups (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS business_group_ha (
  business_group TEXT NOT NULL REFERENCES business_groups(name) ON DELETE CASCADE,
  ha_group       TEXT NOT NULL,
  PRIMARY KEY (business_group, ha_group)
);
CREATE TABLE IF NOT EXISTS business_group_users (
  business_group TEXT NOT NULL REFERENCES business_groups(name) ON DELETE CASCADE,
  user           TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  PRIMARY KEY (business_group, user)
);
CREATE TABLE IF NOT EXISTS servers (
  ha_group          TEXT NOT NULL,
  node              TEXT NOT NULL,
  peer              TEXT NOT NULL,
  public_address    TEXT NOT NULL,
  heartbeat_address TEXT NOT NULL,
  virtual_ips       TEXT NOT NULL,
  version           TEXT NOT NULL,
  protocol          INTEGER NOT NULL,
  registered_ms     INTEGER NOT NULL,
  first_ms          INTEGER NOT NULL,
  manual            INTEGER NOT NULL,
  note              TEXT NOT NULL,
  PRIMARY KEY (ha_group, node)
);
CREATE TABLE IF NOT EXISTS audit (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms   INTEGER NOT NULL,
  user      TEXT NOT NULL,
  address   TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL,
  result    TEXT NOT NULL,
  action_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id           TEXT PRIMARY KEY,   -- the SHA-256 of the cookie's value, never the value
  user         TEXT NOT NULL,
  csrf         TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL    -- written at most every 30 s while the session is used
);
)sql";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("manager database: ") + sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(s_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // true: a row is there; false: done. Throws on an error.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("manager database: ") + sqlite3_errmsg(db_));
  }
  std::string text(int i) const {
    auto* p = sqlite3_column_text(s_, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  std::int64_t integer(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

user_record read_user(const statement& s) {
  return {s.text(0),         s.text(1),    s.integer(2) != 0,
          s.integer(3) != 0, s.integer(4), s.integer(5) != 0};
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
    throw std::runtime_error("no random bytes");
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (auto c : b) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string bcrypt_hash(const std::string& password, int cost) {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1)
    throw std::runtime_error("no random bytes for a salt");
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost),
                        reinterpret_cast<const char*>(random), sizeof random, salt, sizeof salt))
    throw std::runtime_error("libcrypt cannot make a $2b$ salt");
  crypt_data data{};
  const char* h = crypt_r(password.c_str(), salt, &data);
  if (!h || h[0] == '*') throw std::runtime_error("libcrypt cannot hash with $2b$");
  return h;
}

bool bcrypt_verify(const std::string& password, const std::string& hash) {
  if (!hash.starts_with("$2b$")) return false;
  crypt_data data{};
  const char* h = crypt_r(password.c_str(), hash.c_str(), &data);
  if (!h || std::strlen(h) != hash.size()) return false;
  return CRYPTO_memcmp(h, hash.data(), hash.size()) == 0;
}

manager_db::manager_db(const std::filesystem::path& file, int bcrypt_cost) : file_(file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open the manager database " + file.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec(schema);
    // Databases made before the read-only flag get it (an error saying it exists is fine).
    sqlite3_exec(db_, "ALTER TABLE users ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0", nullptr,
                 nullptr, nullptr);
    if (!user(default_user))
      add_user({default_user, bcrypt_hash(default_password, bcrypt_cost), true, true, now_ms()});
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot set up the manager database " + file.string() + ": " +
                             e.what());
  }
}

manager_db::~manager_db() { sqlite3_close(db_); }

void manager_db::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(why);
  }
}

std::optional<user_record> manager_db::user(const std::string& name) {
  statement s(db_,
              "SELECT name, password_hash, admin, must_change, created_ms, read_only FROM users "
              "WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_user(s);
}

std::vector<user_record> manager_db::users() {
  statement s(db_,
              "SELECT name, password_hash, admin, must_change, created_ms, read_only FROM users "
              "ORDER BY name");
  std::vector<user_record> out;
  while (s.step()) out.push_back(read_user(s));
  return out;
}

std::string manager_db::add_user(const user_record& u) {
  if (user(u.name)) return "user '" + u.name + "' exists";
  statement s(db_,
              "INSERT INTO users (name, password_hash, admin, must_change, created_ms, read_only) "
              "VALUES (?, ?, ?, ?, ?, ?)");
  s.bind(1, u.name).bind(2, u.password_hash).bind(3, std::int64_t{u.admin});
  s.bind(4, std::int64_t{u.must_change_password})
      .bind(5, u.created_unix_ms ? u.created_unix_ms : now_ms());
  s.bind(6, std::int64_t{u.read_only});
  s.step();
  return {};
}

std::string manager_db::update_user(const std::string& name,
                                    std::optional<std::string> password_hash,
                                    std::optional<bool> admin, std::optional<bool> must_change,
                                    std::optional<bool> read_only) {
  auto u = user(name);
  if (!u) return "no user '" + name + "'";
  if (admin && !*admin && name == default_user)
    return "user '" + name + "' is the default administrator and stays one";
  if (admin.value_or(u->admin) && read_only.value_or(u->read_only))
    return "user '" + name + "' cannot be an administrator and read-only";
  statement s(db_,
              "UPDATE users SET password_hash = ?, admin = ?, must_change = ?, read_only = ? "
              "WHERE name = ?");
  s.bind(1, password_hash.value_or(u->password_hash));
  s.bind(2, std::int64_t{admin.value_or(u->admin)});
  s.bind(3, std::int64_t{must_change.value_or(u->must_change_password)});
  s.bind(4, std::int64_t{read_only.value_or(u->read_only)});
  s.bind(5, name);
  s.step();
  return {};
}

std::string manager_db::delete_user(const std::string& name) {
  if (name == default_user) return "user '" + name + "' is the default user and cannot be deleted";
  if (!user(name)) return "no user '" + name + "'";
  statement s(db_, "DELETE FROM users WHERE name = ?");
  s.bind(1, name);
  s.step();
  return {};
}

std::vector<std::string> manager_db::scope(const std::string& name) {
  auto u = user(name);
  if (!u) return {};
  if (u->admin) return {"*"};
  statement s(db_,
              "SELECT DISTINCT h.ha_group FROM business_group_ha h JOIN business_group_users u "
              "ON h.business_group = u.business_group WHERE u.user = ? ORDER BY h.ha_group");
  s.bind(1, name);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::map<std::string, std::vector<std::string>> manager_db::business_labels(
    const std::string& name) {
  auto u = user(name);
  std::map<std::string, std::vector<std::string>> out;
  if (!u) return out;
  statement s(db_, u->admin ? "SELECT ha_group, business_group FROM business_group_ha "
                              "WHERE ? IS NOT NULL ORDER BY ha_group, business_group"
                            : "SELECT h.ha_group, h.business_group FROM business_group_ha h "
                              "JOIN business_group_users u ON h.business_group = u.business_group "
                              "WHERE u.user = ? ORDER BY h.ha_group, h.business_group");
  s.bind(1, name);
  while (s.step()) out[s.text(0)].push_back(s.text(1));
  return out;
}

std::vector<business_group> manager_db::business_groups() {
  std::vector<business_group> out;
  {
    statement s(db_, "SELECT name FROM business_groups ORDER BY name");
    while (s.step()) out.push_back({s.text(0), {}, {}});
  }
  for (auto& g : out) {
    statement h(db_, "SELECT ha_group FROM business_group_ha WHERE business_group = ? ORDER BY 1");
    h.bind(1, g.name);
    while (h.step()) g.ha_groups.push_back(h.text(0));
    statement u(db_, "SELECT user FROM business_group_users WHERE business_group = ? ORDER BY 1");
    u.bind(1, g.name);
    while (u.step()) g.users.push_back(u.text(0));
  }
  return out;
}

std::string manager_db::add_business_group(const std::string& name) {
  statement q(db_, "SELECT 1 FROM business_groups WHERE name = ?");
  q.bind(1, name);
  if (q.step()) return "business group '" + name + "' exists";
  statement s(db_, "INSERT INTO business_groups (name) VALUES (?)");
  s.bind(1, name);
  s.step();
  return {};
}

std::string manager_db::set_business_group(const business_group& g) {
  {
    statement q(db_, "SELECT 1 FROM business_groups WHERE name = ?");
    q.bind(1, g.name);
    if (!q.step()) return "no business group '" + g.name + "'";
  }
  for (const auto& u : g.users)
    if (!user(u)) return "users: no user '" + u + "'";
  exec("BEGIN IMMEDIATE");
  try {
    statement d1(db_, "DELETE FROM business_group_ha WHERE business_group = ?");
    d1.bind(1, g.name);
    d1.step();
    statement d2(db_, "DELETE FROM business_group_users WHERE business_group = ?");
    d2.bind(1, g.name);
    d2.step();
    for (const auto& h : g.ha_groups) {
      statement i(db_, "INSERT OR IGNORE INTO business_group_ha VALUES (?, ?)");
      i.bind(1, g.name).bind(2, h);
      i.step();
    }
    for (const auto& u : g.users) {
      statement i(db_, "INSERT OR IGNORE INTO business_group_users VALUES (?, ?)");
      i.bind(1, g.name).bind(2, u);
      i.step();
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return {};
}

std::string manager_db::delete_business_group(const std::string& name) {
  statement q(db_, "SELECT 1 FROM business_groups WHERE name = ?");
  q.bind(1, name);
  if (!q.step()) return "no business group '" + name + "'";
  statement s(db_, "DELETE FROM business_groups WHERE name = ?");
  s.bind(1, name);
  s.step();
  return {};
}

namespace {
std::string join_ips(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}
std::vector<std::string> split_ips(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}
}  // namespace

void manager_db::register_servers(const std::vector<server_record>& rs) {
  exec("BEGIN IMMEDIATE");
  try {
    for (const auto& r : rs) {
      statement s(db_,
                  "INSERT INTO servers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '') "
                  "ON CONFLICT (ha_group, node) DO UPDATE SET peer = excluded.peer, "
                  "public_address = excluded.public_address, "
                  "heartbeat_address = excluded.heartbeat_address, "
                  "virtual_ips = excluded.virtual_ips, version = excluded.version, "
                  "protocol = excluded.protocol, registered_ms = excluded.registered_ms");
      s.bind(1, r.group).bind(2, r.node).bind(3, r.peer).bind(4, r.public_address);
      s.bind(5, r.heartbeat_address).bind(6, join_ips(r.virtual_ips)).bind(7, r.version);
      s.bind(8, std::int64_t{r.protocol})
          .bind(9, r.registered_unix_ms)
          .bind(10, r.registered_unix_ms);
      s.step();
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<server_record> manager_db::servers() {
  statement s(db_,
              "SELECT ha_group, node, peer, public_address, heartbeat_address, virtual_ips, "
              "version, protocol, registered_ms, first_ms, manual, note FROM servers "
              "ORDER BY ha_group, node");
  std::vector<server_record> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), split_ips(s.text(5)),
                   s.text(6), static_cast<int>(s.integer(7)), s.integer(8), s.integer(9),
                   s.integer(10) != 0, s.text(11)});
  return out;
}

std::string manager_db::add_server(const server_record& r) {
  statement q(db_, "SELECT 1 FROM servers WHERE ha_group = ? AND node = ?");
  q.bind(1, r.group).bind(2, r.node);
  if (q.step()) return "server " + r.node + " of HA group " + r.group + " exists";
  statement s(db_, "INSERT INTO servers VALUES (?, ?, '', ?, '', '', '', 0, 0, ?, 1, ?)");
  s.bind(1, r.group).bind(2, r.node).bind(3, r.public_address).bind(4, now_ms()).bind(5, r.note);
  s.step();
  return {};
}

std::string manager_db::update_server(const std::string& group, const std::string& node,
                                      std::optional<std::string> public_address,
                                      std::optional<std::string> note) {
  statement q(db_, "SELECT public_address, note FROM servers WHERE ha_group = ? AND node = ?");
  q.bind(1, group).bind(2, node);
  if (!q.step()) return "no server " + node + " in HA group " + group;
  statement s(db_,
              "UPDATE servers SET public_address = ?, note = ? WHERE ha_group = ? AND node = ?");
  s.bind(1, public_address.value_or(q.text(0))).bind(2, note.value_or(q.text(1)));
  s.bind(3, group).bind(4, node);
  s.step();
  return {};
}

std::string manager_db::delete_server(const std::string& group, const std::string& node) {
  statement q(db_, "SELECT 1 FROM servers WHERE ha_group = ? AND node = ?");
  q.bind(1, group).bind(2, node);
  if (!q.step()) return "no server " + node + " in HA group " + group;
  statement s(db_, "DELETE FROM servers WHERE ha_group = ? AND node = ?");
  s.bind(1, group).bind(2, node);
  s.step();
  return {};
}

void manager_db::audit(const audit_entry& e) {
  statement s(db_,
              "INSERT INTO audit (time_ms, user, address, action, target, result, action_id) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, e.time_unix_ms ? e.time_unix_ms : now_ms()).bind(2, e.user).bind(3, e.address);
  s.bind(4, e.action).bind(5, e.target).bind(6, e.result).bind(7, e.action_id);
  s.step();
}

std::vector<audit_entry> manager_db::audit_log(std::int64_t before_id, int limit) {
  statement s(db_,
              "SELECT id, time_ms, user, address, action, target, result, action_id FROM audit "
              "WHERE id < ? ORDER BY id DESC LIMIT ?");
  s.bind(1, before_id > 0 ? before_id : INT64_MAX).bind(2, std::int64_t{limit});
  std::vector<audit_entry> out;
  while (s.step())
    out.push_back({s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5),
                   s.text(6), s.text(7)});
  return out;
}

std::optional<audit_entry> manager_db::audit_by_id(std::int64_t id) {
  statement s(db_,
              "SELECT id, time_ms, user, address, action, target, result, action_id FROM audit "
              "WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return audit_entry{s.integer(0), s.integer(1), s.text(2), s.text(3),
                     s.text(4),    s.text(5),    s.text(6), s.text(7)};
}

void manager_db::save_session(const session_record& r) {
  statement s(db_,
              "INSERT OR REPLACE INTO sessions (id, user, csrf, last_seen_ms) VALUES (?, ?, ?, ?)");
  s.bind(1, r.id).bind(2, r.user).bind(3, r.csrf).bind(4, r.last_seen_unix_ms);
  s.step();
}

void manager_db::delete_session(const std::string& id) {
  statement s(db_, "DELETE FROM sessions WHERE id = ?");
  s.bind(1, id);
  s.step();
}

void manager_db::delete_sessions_of(const std::string& user, const std::string& except_id) {
  statement s(db_, "DELETE FROM sessions WHERE user = ? AND id != ?");
  s.bind(1, user).bind(2, except_id);
  s.step();
}

std::vector<session_record> manager_db::sessions(std::int64_t since_unix_ms) {
  {
    statement gone(db_,
                   "DELETE FROM sessions WHERE last_seen_ms < ? OR user NOT IN (SELECT name FROM "
                   "users)");
    gone.bind(1, since_unix_ms);
    gone.step();
  }
  statement s(db_, "SELECT id, user, csrf, last_seen_ms FROM sessions");
  std::vector<session_record> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3)});
  return out;
}

}  // namespace hasys::manager
