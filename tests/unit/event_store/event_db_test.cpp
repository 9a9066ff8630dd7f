// The manager's event database (issue 10): a batch is kept whole, each (node, seq) once.
#include "event_db.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

namespace fs = std::filesystem;
namespace proto = hasys::proto;
using hasys::event_store::event_db;

namespace {

struct event_db_test : ::testing::Test {
  fs::path file = fs::temp_directory_path() / ("hasys-event-db-" + std::to_string(::getpid()) + ".db");
  void SetUp() override { fs::remove(file); }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  }
};

std::vector<proto::stored_event> batch(std::uint64_t first, int n, const std::string& node = "node-a") {
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
    out.push_back({first + static_cast<std::uint64_t>(i), e});
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
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/events.db"), std::string::npos) << e.what();
  }
}
