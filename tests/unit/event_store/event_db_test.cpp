// The manager's event database (issue 10): a batch is kept whole, each (node, seq) once.
#include "event_db.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;
namespace proto = hasys::proto;
using hasys::event_store::event_db;

namespace {

struct event_db_test : ::testing::Test {
  fs::path file =
      fs::temp_directory_path() / ("hasys-event-db-" + std::to_string(::getpid()) + ".db");
  void SetUp() override { fs::remove(file); }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  }
};

std::vector<proto::stored_event> batch(std::uint64_t first, int n,
                                       const std::string& node = "node-a") {
  std::vector<proto::stored_event> out;
  for (int i = 0; i < n; ++i) {
    proto::event_msg e;
    e.time_unix_ms = 1000 + i;
    e.group = "g";
    e.node = node;
    e.source = "test";
    e.code = "test_event";
    e.text = "event " + std::to_string(first + static_cast<std::uint64_t>(i));
    e.details = {{"quote", "a \"b\"\n"}};
    out.push_back({1, first + static_cast<std::uint64_t>(i), e});
  }
  return out;
}

}  // namespace

TEST_F(event_db_test, a_batch_sent_again_is_kept_once_and_counted_as_duplicates) {
  event_db db(file);
  auto first = db.insert("node-a", batch(1, 100), 5);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.stored, 100u);
  EXPECT_EQ(first.last_seq, 100u);
  auto again = db.insert("node-a", batch(51, 100), 6);  // half old, half new
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.stored, 50u);
  EXPECT_EQ(again.duplicates, 50u);
  EXPECT_EQ(db.count(), 150u);
  auto rows = db.texts_of("node-a");
  ASSERT_EQ(rows.size(), 150u);
  EXPECT_EQ(rows.front().second, "event 1");
  EXPECT_EQ(rows.back().second, "event 150");
}

TEST_F(event_db_test, the_same_sequence_of_two_nodes_is_two_events) {
  event_db db(file);
  ASSERT_TRUE(db.insert("node-a", batch(1, 10), 5).ok);
  ASSERT_TRUE(db.insert("node-b", batch(1, 10, "node-b"), 5).ok);
  EXPECT_EQ(db.count(), 20u);
}

TEST_F(event_db_test, a_reopened_database_keeps_what_was_committed) {
  { ASSERT_TRUE(event_db(file).insert("node-a", batch(1, 10), 5).ok); }
  event_db db(file);
  EXPECT_EQ(db.count(), 10u);
}

TEST_F(event_db_test, a_file_that_cannot_be_opened_is_a_clear_error) {
  try {
    event_db db("/nonexistent-dir/x/events.db");
    FAIL() << "opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/events.db"), std::string::npos)
        << e.what();
  }
}

namespace {

// Events of two groups and two servers with every severity, one per second from t = 1,000,000 ms.
void fill(event_db& db) {
  std::vector<proto::stored_event> a, b;
  for (int i = 0; i < 30; ++i) {
    proto::event_msg e;
    e.time_unix_ms = 1'000'000 + i * 1000;
    e.group = i % 2 ? "web" : "db";
    e.node = "node-a";
    e.source = "test";
    e.level = static_cast<hasys::cluster::severity>(i % 3);
    e.code = i % 3 == 2 ? "peer_lost" : "standby";
    e.text = i % 3 == 2 ? "Subnode is not responding [node-b]" : "This node is Standby [node-a]";
    a.push_back({1, static_cast<std::uint64_t>(i + 1), e});
    e.node = "node-b";
    e.text = "서브노드 " + std::to_string(i);
    b.push_back({1, static_cast<std::uint64_t>(i + 1), e});
  }
  ASSERT_TRUE(db.insert("node-a", a, 5).ok);
  ASSERT_TRUE(db.insert("node-b", b, 5).ok);
}

proto::event_query scoped(std::vector<std::string> scope) {
  proto::event_query q;
  q.scope = std::move(scope);
  return q;
}

}  // namespace

TEST_F(event_db_test, a_query_sees_only_the_groups_of_its_scope) {  // E3, M3
  event_db db(file);
  ASSERT_NO_FATAL_FAILURE(fill(db));
  EXPECT_EQ(db.query(scoped({"*"}), 0).total, 60u);
  EXPECT_EQ(db.query(scoped({"web"}), 0).total, 30u);
  EXPECT_EQ(db.query(scoped({}), 0).total, 0u) << "no scope, nothing";
  auto q = scoped({"web"});
  q.groups = {"db"};  // asks for a group outside its scope
  EXPECT_EQ(db.query(q, 0).total, 0u);
  for (const auto& r : db.query(scoped({"web"}), 0).events) EXPECT_EQ(r.event.group, "web");
}

TEST_F(event_db_test, a_detailed_search_filters_by_time_severity_keyword_and_server) {  // E3
  event_db db(file);
  ASSERT_NO_FATAL_FAILURE(fill(db));
  auto q = scoped({"*"});
  q.severities = {"critical"};
  EXPECT_EQ(db.query(q, 0).total, 20u);
  q.servers = {"node-a"};
  EXPECT_EQ(db.query(q, 0).total, 10u);
  q = scoped({"*"});
  q.keyword = "NOT RESPONDING";  // case-insensitive
  EXPECT_EQ(db.query(q, 0).total, 10u);
  q.keyword = "peer_lost";  // the code too
  EXPECT_EQ(db.query(q, 0).total, 20u);
  q = scoped({"*"});
  q.keyword = "서브노드 1";              // Korean text, a substring
  EXPECT_EQ(db.query(q, 0).total, 11u);  // 1, 10..19
  q.keyword = "50%_";                    // LIKE's own characters are plain characters
  EXPECT_EQ(db.query(q, 0).total, 0u);
  q = scoped({"*"});
  q.from_unix_ms = 1'010'000;
  q.to_unix_ms = 1'020'000;
  EXPECT_EQ(db.query(q, 0).total, 20u);  // 10 seconds on two servers
}

TEST_F(event_db_test, pages_come_newest_first_and_do_not_overlap) {  // E3
  event_db db(file);
  ASSERT_NO_FATAL_FAILURE(fill(db));
  auto q = scoped({"*"});
  q.page_size = 25;
  std::vector<std::int64_t> ids;
  std::int64_t last_time = INT64_MAX;
  for (int page = 1; page <= 3; ++page) {
    q.page = page;
    auto p = db.query(q, 0);
    EXPECT_EQ(p.total, 60u);
    EXPECT_EQ(p.events.size(), page < 3 ? 25u : 10u);
    for (const auto& r : p.events) {
      EXPECT_LE(r.event.time_unix_ms, last_time);
      last_time = r.event.time_unix_ms;
      ids.push_back(r.id);
    }
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(ids.size(), 60u);
}

TEST_F(event_db_test, a_basic_search_looks_in_one_field) {  // E3
  event_db db(file);
  ASSERT_NO_FATAL_FAILURE(fill(db));
  auto q = scoped({"*"});
  q.kind = "basic";
  q.field = "server";
  q.keyword = "node-b";
  EXPECT_EQ(db.query(q, 0).total, 30u);
  q.field = "text";
  EXPECT_EQ(db.query(q, 0).total, 10u) << "node-a's 'Subnode is not responding [node-b]'";
}

TEST_F(event_db_test, the_window_is_the_last_ten_minutes_or_else_the_latest_ten) {  // E2
  event_db db(file);
  ASSERT_NO_FATAL_FAILURE(fill(db));
  auto q = scoped({"*"});
  q.kind = "window";
  // Long after the events: the latest 10 of each group.
  auto late = db.query(q, 10'000'000);
  EXPECT_EQ(late.events.size(), 20u);
  // Right after: everything of the last 10 minutes.
  auto now = db.query(q, 1'030'000);
  EXPECT_EQ(now.events.size(), 60u);
  q.scope = {"web"};
  EXPECT_EQ(db.query(q, 10'000'000).events.size(), 10u);
}

TEST_F(event_db_test, retention_deletes_old_events_in_batches) {  // E3
  event_db db(file);
  ASSERT_TRUE(db.insert("node-a", batch(1, 2500), 1000).ok);
  ASSERT_TRUE(db.insert("node-a", batch(2501, 10), 5000).ok);
  EXPECT_EQ(db.delete_older(2000, 1000), 1000u);
  EXPECT_EQ(db.delete_older(2000, 1000), 1000u);
  EXPECT_EQ(db.delete_older(2000, 1000), 500u);
  EXPECT_EQ(db.delete_older(2000, 1000), 0u);
  EXPECT_EQ(db.count(), 10u);
}

TEST_F(event_db_test,
       the_total_is_counted_up_to_ten_thousand) {  // E3: a page never waits on a count
  event_db db(file);
  ASSERT_TRUE(db.insert("node-a", batch(1, 10001), 5).ok);
  auto q = scoped({"*"});
  auto p = db.query(q, 0);
  EXPECT_EQ(p.total, 10000u);
  EXPECT_FALSE(p.total_exact);
  q.keyword = "event 1000";  // 1000, 10000, 10001
  p = db.query(q, 0);
  EXPECT_EQ(p.total, 3u);
  EXPECT_TRUE(p.total_exact);
}

// The store opens a second connection for its checkpoints, and other processes (a test, an
// operator's sqlite3) open the file while the store may be creating it: processes that set the
// schema up at the same moment all succeed (SQLite answers a read-then-write upgrade with
// "database is locked" at once, without waiting; the set-up tries again).
TEST_F(event_db_test, processes_opening_a_new_file_at_the_same_moment_all_set_it_up) {
  for (int round = 0; round < 30; ++round) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    std::vector<pid_t> children;
    for (int c = 0; c < 6; ++c) {
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::close(pipe_fds[1]);
        char go;
        (void)!::read(pipe_fds[0], &go, 1);  // all start together
        try {
          event_db db(file);
          (void)db.count();
          ::_exit(0);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "%s\n", e.what());
          ::_exit(1);
        }
      }
      children.push_back(pid);
    }
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);  // end of file: every child goes
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
    }
  }
}
