// success_log: the largest gap between consecutive successes and the node that answered.
#include "success_log.hpp"

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using hasys::labprobe::stamp;
using hasys::labprobe::success_log;

stamp at(std::chrono::milliseconds t) {
  return {std::chrono::steady_clock::time_point(t),
          std::chrono::system_clock::time_point(t + 1000s)};
}

TEST(success_log, one_success_has_no_gap) {
  success_log log;
  log.record(at(5ms));
  EXPECT_EQ(log.count(), 1u);
  EXPECT_FALSE(log.largest_gap());
  ASSERT_TRUE(log.last());
  EXPECT_EQ(log.last()->mono, at(5ms).mono);
}

TEST(success_log, largest_gap_is_between_consecutive_successes_and_keeps_its_ends) {
  success_log log;
  for (auto t : {0ms, 1ms, 2ms, 90ms, 91ms, 150ms, 151ms}) log.record(at(t));
  ASSERT_TRUE(log.largest_gap());
  EXPECT_EQ(log.largest_gap()->length, 88ms);
  EXPECT_EQ(log.largest_gap()->from.wall, at(2ms).wall);
  EXPECT_EQ(log.largest_gap()->to.wall, at(90ms).wall);
  EXPECT_EQ(log.count(), 7u);
}

TEST(success_log, the_first_of_equal_gaps_is_kept) {
  success_log log;
  for (auto t : {0ms, 10ms, 20ms}) log.record(at(t));
  EXPECT_EQ(log.largest_gap()->from.mono, at(0ms).mono);
}

TEST(success_log, a_move_is_the_first_answer_of_another_node) {
  success_log log;
  log.record(at(0ms), "node-a");
  log.record(at(10ms), "node-a");
  EXPECT_FALSE(log.moved_at());
  log.record(at(80ms), "node-b");
  log.record(at(90ms), "node-a");  // a late answer of the old node does not undo the move
  log.record(at(100ms), "node-b");
  EXPECT_EQ(log.node_before(), "node-a");
  EXPECT_EQ(log.node_after(), "node-b");
  ASSERT_TRUE(log.moved_at());
  EXPECT_EQ(log.moved_at()->mono, at(80ms).mono);
}

}  // namespace
