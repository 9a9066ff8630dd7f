// The manager's event database (issue 10): SQLite in WAL mode, one row per (node, stream seq).
// Blocking calls: hasys-event-store runs them on its database lane, never on its I/O thread.
#pragma once

#include <hasys/proto/event_store_messages.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

struct sqlite3;

namespace hasys::event_store {

class event_db {
 public:
  // Opens (creating the file and schema when new); throws std::runtime_error saying why not.
  explicit event_db(const std::filesystem::path& file);
  ~event_db();
  event_db(const event_db&) = delete;
  event_db& operator=(const event_db&) = delete;

  struct insert_result {
    bool ok = false;
    std::uint64_t stored = 0, duplicates = 0, last_seq = 0;
    std::string error;  // "database or disk is full", ...
  };
  // One transaction for the batch: all rows or none. A (node, seq) kept already is skipped and
  // counted as a duplicate (a batch sent again after a lost reply).
  insert_result insert(const std::string& node, const std::vector<proto::stored_event>& events,
                       std::int64_t received_unix_ms);

  // A search (E2, E3), already checked: see proto::event_query. Newest first.
  proto::event_page query(const proto::event_query& q, std::int64_t now_unix_ms) const;
  // Every row of a query (its filters and scope; paging ignored), newest first, at most
  // max_rows, handed to `each` one by one as they are read; how many.
  std::uint64_t for_each_row(const proto::event_query& q, std::uint64_t max_rows,
                             const std::function<void(const proto::event_row&)>& each) const;
  // Retention: deletes at most `batch` events received before `before_unix_ms`; how many it did
  // (called again while it deletes a full batch, so ingest never waits long behind it).
  std::uint64_t delete_older(std::int64_t before_unix_ms, int batch);

  // Copies the write-ahead log into the database as far as readers allow (PASSIVE: never waits
  // for, nor blocks, a writer). The store runs it on a connection and thread of its own, so a
  // commit never pays for a checkpoint (automatic checkpoints are off).
  void checkpoint();

  // E4: the fault management rules, kept with the events; replace_rules swaps the whole set in
  // one transaction.
  std::vector<proto::fault_rule> rules() const;
  bool replace_rules(const std::vector<proto::fault_rule>& rules, std::string& error);

  std::uint64_t count() const;
  // The events of a node in seq order (tests and `hasysctl`-style checks): seq, text.
  std::vector<std::pair<std::uint64_t, std::string>> texts_of(const std::string& node) const;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace hasys::event_store
