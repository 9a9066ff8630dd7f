#include "event_db.hpp"

#include <sqlite3.h>

#include <boost/json.hpp>

#include <algorithm>
#include <variant>

#include <cstdio>
#include <map>
#include <stdexcept>

namespace hasys::event_store {

namespace {

constexpr const char* schema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA wal_autocheckpoint = 0;
CREATE TABLE IF NOT EXISTS events (
  id        INTEGER PRIMARY KEY,
  node      TEXT    NOT NULL,   -- the node that stored and forwarded it
  seq       INTEGER NOT NULL,   -- its sequence in that node's EVENTS stream
  time_ms   INTEGER NOT NULL,   -- node time (unix ms)
  recv_ms   INTEGER NOT NULL,   -- manager time it was received
  grp       TEXT    NOT NULL,
  server    TEXT    NOT NULL,
  source    TEXT    NOT NULL,
  severity  INTEGER NOT NULL,   -- 0 information, 1 warning, 2 critical
  code      TEXT    NOT NULL,
  text      TEXT    NOT NULL,
  details   TEXT    NOT NULL,   -- JSON object
  UNIQUE (node, seq)
);
CREATE INDEX IF NOT EXISTS events_time ON events (time_ms);
CREATE INDEX IF NOT EXISTS events_group_time ON events (grp, time_ms);
CREATE INDEX IF NOT EXISTS events_server_time ON events (server, time_ms);
CREATE INDEX IF NOT EXISTS events_severity_time ON events (severity, time_ms);
CREATE INDEX IF NOT EXISTS events_received ON events (recv_ms);
CREATE TABLE IF NOT EXISTS fault_rules (
  server  TEXT    NOT NULL,
  code    TEXT    NOT NULL,
  store   INTEGER NOT NULL,
  forward INTEGER NOT NULL,
  PRIMARY KEY (server, code)
);
)sql";

std::string details_json(const std::map<std::string, std::string>& d) {
  boost::json::object o;
  for (const auto& [k, v] : d) o[k] = v;
  return boost::json::serialize(o);
}

struct statement {
  sqlite3_stmt* s = nullptr;
  statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("event database: ") + sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(s); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
};

}  // namespace

event_db::event_db(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open the event database " + file.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  // The schema is idempotent, and another connection (the store's checkpointer, a reader such as
  // a test or an operator's sqlite3) may be creating it at this very moment: a statement that
  // reads the schema and then writes cannot wait for that writer (SQLite answers SQLITE_BUSY at
  // once rather than deadlock), so the whole set-up is tried again for as long as a busy
  // connection would wait.
  char* err = nullptr;
  int rc = SQLITE_OK;
  for (int attempt = 0;; ++attempt) {
    rc = sqlite3_exec(db_, schema, nullptr, nullptr, &err);
    const int primary = rc & 0xff;
    if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || attempt >= 500) break;
    sqlite3_free(err);
    err = nullptr;
    sqlite3_sleep(10);
  }
  if (rc != SQLITE_OK) {
    std::string why = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot set up the event database " + file.string() + ": " + why);
  }
}

event_db::~event_db() { sqlite3_close(db_); }

event_db::insert_result event_db::insert(const std::string& node,
                                         const std::vector<proto::stored_event>& events,
                                         std::int64_t received_unix_ms) {
  insert_result r;
  auto fail = [&](const char* what) {
    r.ok = false;
    r.stored = r.duplicates = 0;
    r.error = std::string(what) + ": " + sqlite3_errmsg(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return r;
  };
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail("begin");
  {
    statement ins(db_,
                  "INSERT OR IGNORE INTO events (node, seq, time_ms, recv_ms, grp, server, "
                  "source, severity, code, text, details) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& se : events) {
      const auto& e = se.event;
      const std::string details = details_json(e.details);
      sqlite3_bind_text(ins.s, 1, node.data(), static_cast<int>(node.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins.s, 2, static_cast<sqlite3_int64>(se.seq));
      sqlite3_bind_int64(ins.s, 3, e.time_unix_ms);
      sqlite3_bind_int64(ins.s, 4, received_unix_ms);
      sqlite3_bind_text(ins.s, 5, e.group.data(), static_cast<int>(e.group.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 6, e.node.data(), static_cast<int>(e.node.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 7, e.source.data(), static_cast<int>(e.source.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int(ins.s, 8, static_cast<int>(e.level));
      sqlite3_bind_text(ins.s, 9, e.code.data(), static_cast<int>(e.code.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 10, e.text.data(), static_cast<int>(e.text.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 11, details.data(), static_cast<int>(details.size()),
                        SQLITE_TRANSIENT);
      if (sqlite3_step(ins.s) != SQLITE_DONE) return fail("insert");
      if (sqlite3_changes(db_) == 1)
        ++r.stored;
      else
        ++r.duplicates;
      if (se.seq > r.last_seq) r.last_seq = se.seq;
      sqlite3_reset(ins.s);
      sqlite3_clear_bindings(ins.s);
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  r.ok = true;
  return r;
}

namespace {

cluster::severity severity_from(int v) {
  return v == 2   ? cluster::severity::critical
         : v == 1 ? cluster::severity::warning
                  : cluster::severity::information;
}

// The WHERE clause of a query and its values, bound in order.
struct where {
  std::string sql = " WHERE 1";
  std::vector<std::variant<std::int64_t, std::string>> values;
  void in(const char* column, const std::vector<std::string>& list) {
    sql += std::string(" AND ") + column + " IN (";
    for (std::size_t i = 0; i < list.size(); ++i) {
      sql += i ? ",?" : "?";
      values.emplace_back(list[i]);
    }
    sql += ")";
  }
  void like(const char* column, const std::string& keyword) {
    std::string pattern = "%";
    for (char c : keyword) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += "%";
    sql += std::string(" AND ") + column + " LIKE ? ESCAPE '\\'";
    values.emplace_back(std::move(pattern));
  }
  void bind(sqlite3_stmt* st, int first = 1) const {
    int i = first;
    for (const auto& v : values) {
      if (const auto* n = std::get_if<std::int64_t>(&v))
        sqlite3_bind_int64(st, i++, *n);
      else {
        const auto& t = std::get<std::string>(v);
        sqlite3_bind_text(st, i++, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
      }
    }
  }
};

std::map<std::string, std::string> details_of(const char* text) {
  std::map<std::string, std::string> out;
  boost::json::error_code ec;
  auto v = boost::json::parse(text ? text : "{}", ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [k, x] : v.as_object())
    if (x.is_string()) out[std::string(k)] = std::string(x.as_string());
  return out;
}

// The WHERE clause of a detailed or basic query over the groups it may see.
where filter_of(const proto::event_query& q, const std::vector<std::string>& groups) {
  where w;
  if (!groups.empty()) w.in("grp", groups);
  if (q.kind == "basic") {
    static const std::map<std::string, const char*> fields{
        {"text", "text"}, {"code", "code"}, {"group", "grp"}, {"server", "server"}};
    if (!q.keyword.empty()) w.like(fields.at(q.field), q.keyword);
  } else {
    if (!q.servers.empty()) w.in("server", q.servers);
    if (!q.keyword.empty()) w.like("(text || ' ' || code)", q.keyword);
    if (q.from_unix_ms > 0) {
      w.sql += " AND time_ms >= ?";
      w.values.emplace_back(q.from_unix_ms);
    }
    if (q.to_unix_ms > 0) {
      w.sql += " AND time_ms < ?";
      w.values.emplace_back(q.to_unix_ms);
    }
    if (!q.severities.empty()) {
      std::vector<std::string> levels;
      for (const auto& s : q.severities)
        levels.push_back(s == "critical" ? "2" : s == "warning" ? "1" : "0");
      w.sql += " AND severity IN (";
      for (std::size_t i = 0; i < levels.size(); ++i) {
        w.sql += i ? ",?" : "?";
        w.values.emplace_back(std::int64_t{levels[i][0] - '0'});
      }
      w.sql += ")";
    }
  }
  return w;
}

constexpr const char* event_columns =
    "SELECT id, node, seq, recv_ms, time_ms, grp, server, source, severity, code, text, details "
    "FROM events";

proto::event_row row_of(sqlite3_stmt* st) {
  proto::event_row r;
  auto text = [&](int i) {
    const auto* p = sqlite3_column_text(st, i);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  };
  r.id = sqlite3_column_int64(st, 0);
  r.node = text(1);
  r.seq = static_cast<std::uint64_t>(sqlite3_column_int64(st, 2));
  r.received_unix_ms = sqlite3_column_int64(st, 3);
  r.event.time_unix_ms = sqlite3_column_int64(st, 4);
  r.event.group = text(5);
  r.event.node = text(6);
  r.event.source = text(7);
  r.event.level = severity_from(sqlite3_column_int(st, 8));
  r.event.code = text(9);
  r.event.text = text(10);
  r.event.details = details_of(reinterpret_cast<const char*>(sqlite3_column_text(st, 11)));
  return r;
}

// The groups a query may see: its groups within its scope, or its scope; nullopt when it may
// see every group and names none.
std::optional<std::vector<std::string>> visible_groups(const proto::event_query& q) {
  const bool everything = std::find(q.scope.begin(), q.scope.end(), "*") != q.scope.end();
  std::vector<std::string> groups = q.groups;
  if (everything) return groups.empty() ? std::nullopt : std::optional(groups);
  if (groups.empty()) return q.scope;
  std::erase_if(groups, [&](const std::string& g) {
    return std::find(q.scope.begin(), q.scope.end(), g) == q.scope.end();
  });
  return groups;
}

}  // namespace

proto::event_page event_db::query(const proto::event_query& q, std::int64_t now_unix_ms) const {
  proto::event_page page;
  page.page = q.page;
  page.page_size = q.page_size;
  const bool everything = std::find(q.scope.begin(), q.scope.end(), "*") != q.scope.end();
  std::vector<std::string> groups = q.groups;
  if (!everything) {
    if (groups.empty())
      groups = q.scope;
    else
      std::erase_if(groups, [&](const std::string& g) {
        return std::find(q.scope.begin(), q.scope.end(), g) == q.scope.end();
      });
    if (groups.empty()) {  // nothing the user may see
      page.ok = true;
      return page;
    }
  }

  if (q.kind == "window") {  // E2: per group, the last 10 minutes, or the latest 10
    if (everything && groups.empty()) {
      statement all(db_, "SELECT DISTINCT grp FROM events");
      while (sqlite3_step(all.s) == SQLITE_ROW)
        groups.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(all.s, 0)));
    }
    for (const auto& g : groups) {
      statement recent(db_,
                       (std::string(event_columns) +
                        " WHERE grp = ? AND time_ms >= ? ORDER BY time_ms DESC, id DESC LIMIT 1000")
                           .c_str());
      sqlite3_bind_text(recent.s, 1, g.data(), static_cast<int>(g.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(recent.s, 2, now_unix_ms - 10 * 60 * 1000);
      std::size_t n = 0;
      while (sqlite3_step(recent.s) == SQLITE_ROW) page.events.push_back(row_of(recent.s)), ++n;
      if (n > 0) continue;
      statement latest(db_, (std::string(event_columns) +
                             " WHERE grp = ? ORDER BY time_ms DESC, id DESC LIMIT 10")
                                .c_str());
      sqlite3_bind_text(latest.s, 1, g.data(), static_cast<int>(g.size()), SQLITE_TRANSIENT);
      while (sqlite3_step(latest.s) == SQLITE_ROW) page.events.push_back(row_of(latest.s));
    }
    std::sort(page.events.begin(), page.events.end(), [](const auto& a, const auto& b) {
      return a.event.time_unix_ms != b.event.time_unix_ms
                 ? a.event.time_unix_ms > b.event.time_unix_ms
                 : a.id > b.id;
    });
    page.total = page.events.size();
    page.page = 1;
    page.page_size = static_cast<int>(page.events.size());
    page.ok = true;
    return page;
  }

  where w = filter_of(q, groups);
  {
    // Counted up to a cap: an exact count of millions of rows would cost more than the page.
    constexpr std::int64_t cap = 10000;
    statement count(db_,
                    ("SELECT count(*) FROM (SELECT 1 FROM events" + w.sql + " LIMIT ?)").c_str());
    w.bind(count.s);
    sqlite3_bind_int64(count.s, static_cast<int>(w.values.size()) + 1, cap + 1);
    if (sqlite3_step(count.s) == SQLITE_ROW) {
      const auto n = sqlite3_column_int64(count.s, 0);
      page.total = static_cast<std::uint64_t>(std::min<std::int64_t>(n, cap));
      page.total_exact = n <= cap;
    }
  }
  statement rows(
      db_, (std::string(event_columns) + w.sql + " ORDER BY time_ms DESC, id DESC LIMIT ? OFFSET ?")
               .c_str());
  w.bind(rows.s);
  const int n = static_cast<int>(w.values.size());
  sqlite3_bind_int(rows.s, n + 1, q.page_size);
  sqlite3_bind_int64(rows.s, n + 2, static_cast<std::int64_t>(q.page - 1) * q.page_size);
  while (sqlite3_step(rows.s) == SQLITE_ROW) page.events.push_back(row_of(rows.s));
  page.ok = true;
  return page;
}

std::uint64_t event_db::for_each_row(
    const proto::event_query& q, std::uint64_t max_rows,
    const std::function<void(const proto::event_row&)>& each) const {
  auto groups = visible_groups(q);
  if (groups && groups->empty()) return 0;
  where w = filter_of(q, groups.value_or(std::vector<std::string>{}));
  statement rows(
      db_,
      (std::string(event_columns) + w.sql + " ORDER BY time_ms DESC, id DESC LIMIT ?").c_str());
  w.bind(rows.s);
  sqlite3_bind_int64(rows.s, static_cast<int>(w.values.size()) + 1,
                     static_cast<sqlite3_int64>(max_rows));
  std::uint64_t n = 0;
  while (sqlite3_step(rows.s) == SQLITE_ROW) {
    each(row_of(rows.s));
    ++n;
  }
  return n;
}

std::uint64_t event_db::delete_older(std::int64_t before_unix_ms, int batch) {
  statement del(db_,
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE recv_ms < ? LIMIT ?)");
  sqlite3_bind_int64(del.s, 1, before_unix_ms);
  sqlite3_bind_int(del.s, 2, batch);
  if (sqlite3_step(del.s) != SQLITE_DONE) return 0;
  return static_cast<std::uint64_t>(sqlite3_changes(db_));
}

std::vector<proto::fault_rule> event_db::rules() const {
  std::vector<proto::fault_rule> out;
  statement q(db_, "SELECT server, code, store, forward FROM fault_rules ORDER BY server, code");
  while (sqlite3_step(q.s) == SQLITE_ROW)
    out.push_back({reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0)),
                   reinterpret_cast<const char*>(sqlite3_column_text(q.s, 1)),
                   sqlite3_column_int(q.s, 2) != 0, sqlite3_column_int(q.s, 3) != 0});
  return out;
}

bool event_db::replace_rules(const std::vector<proto::fault_rule>& rules, std::string& error) {
  auto fail = [&](const char* what) {
    error = std::string(what) + ": " + sqlite3_errmsg(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  };
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail("begin");
  if (sqlite3_exec(db_, "DELETE FROM fault_rules", nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail("delete");
  {
    statement ins(
        db_, "INSERT OR REPLACE INTO fault_rules (server, code, store, forward) VALUES (?,?,?,?)");
    for (const auto& r : rules) {
      sqlite3_bind_text(ins.s, 1, r.server.data(), static_cast<int>(r.server.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_text(ins.s, 2, r.code.data(), static_cast<int>(r.code.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int(ins.s, 3, r.store ? 1 : 0);
      sqlite3_bind_int(ins.s, 4, r.forward ? 1 : 0);
      if (sqlite3_step(ins.s) != SQLITE_DONE) return fail("insert");
      sqlite3_reset(ins.s);
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  return true;
}

void event_db::checkpoint() {
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

std::uint64_t event_db::count() const {
  statement q(db_, "SELECT count(*) FROM events");
  if (sqlite3_step(q.s) != SQLITE_ROW) return 0;
  return static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0));
}

std::vector<std::pair<std::uint64_t, std::string>> event_db::texts_of(
    const std::string& node) const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  statement q(db_, "SELECT seq, text FROM events WHERE node = ? ORDER BY seq");
  sqlite3_bind_text(q.s, 1, node.data(), static_cast<int>(node.size()), SQLITE_STATIC);
  while (sqlite3_step(q.s) == SQLITE_ROW)
    out.emplace_back(static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0)),
                     reinterpret_cast<const char*>(sqlite3_column_text(q.s, 1)));
  return out;
}

}  // namespace hasys::event_store
