#include "event_db.hpp"

#include <sqlite3.h>

#include <cstdio>
#include <map>
#include <stdexcept>

namespace hasys::event_store {

namespace {

constexpr const char* schema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
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
)sql";

std::string details_json(const std::map<std::string, std::string>& d) {
  std::string out = "{";
  bool first = true;
  auto quote = [&](const std::string& s) {
    out += '"';
    for (char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += c;
          }
      }
    }
    out += '"';
  };
  for (const auto& [k, v] : d) {
    if (!first) out += ',';
    first = false;
    quote(k);
    out += ':';
    quote(v);
  }
  return out + "}";
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
  char* err = nullptr;
  if (sqlite3_exec(db_, schema, nullptr, nullptr, &err) != SQLITE_OK) {
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
      sqlite3_bind_text(ins.s, 7, e.source.data(), static_cast<int>(e.source.size()), SQLITE_STATIC);
      sqlite3_bind_int(ins.s, 8, static_cast<int>(e.level));
      sqlite3_bind_text(ins.s, 9, e.code.data(), static_cast<int>(e.code.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 10, e.text.data(), static_cast<int>(e.text.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins.s, 11, details.data(), static_cast<int>(details.size()),
                        SQLITE_TRANSIENT);
      if (sqlite3_step(ins.s) != SQLITE_DONE) return fail("insert");
      if (sqlite3_changes(db_) == 1) ++r.stored;
      else ++r.duplicates;
      if (se.seq > r.last_seq) r.last_seq = se.seq;
      sqlite3_reset(ins.s);
      sqlite3_clear_bindings(ins.s);
    }
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  r.ok = true;
  return r;
}

std::uint64_t event_db::count() const {
  statement q(db_, "SELECT count(*) FROM events");
  if (sqlite3_step(q.s) != SQLITE_ROW) return 0;
  return static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0));
}

std::vector<std::pair<std::uint64_t, std::string>> event_db::texts_of(const std::string& node) const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  statement q(db_, "SELECT seq, text FROM events WHERE node = ? ORDER BY seq");
  sqlite3_bind_text(q.s, 1, node.data(), static_cast<int>(node.size()), SQLITE_STATIC);
  while (sqlite3_step(q.s) == SQLITE_ROW)
    out.emplace_back(static_cast<std::uint64_t>(sqlite3_column_int64(q.s, 0)),
                     reinterpret_cast<const char*>(sqlite3_column_text(q.s, 1)));
  return out;
}

}  // namespace hasys::event_store
