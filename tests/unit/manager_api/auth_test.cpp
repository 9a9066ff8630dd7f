// The pure parts of the manager's access control (M1): password policy, sessions, login limits.
#include "auth.hpp"

#include <gtest/gtest.h>

using namespace hasys::manager;
using namespace std::chrono_literals;

namespace {
std::function<std::string()> counter_tokens() {
  return [n = 0]() mutable { return "t" + std::to_string(++n); };
}
}  // namespace

TEST(password_policy, the_basic_rules_hold_always) {
  EXPECT_FALSE(password_problems("bob", "", false).empty());
  EXPECT_FALSE(password_problems("bob", "bob", false).empty());
  EXPECT_FALSE(password_problems("bob", std::string(73, 'x'), false).empty());
  EXPECT_TRUE(password_problems("bob", "x", false).empty());
}

TEST(password_policy, the_strong_policy_lists_each_missing_kind) {
  EXPECT_EQ(password_problems("bob", "ABCDEFGH", true).size(), 3u);  // lower, digit, special
  EXPECT_EQ(password_problems("bob", "abc", true).size(), 3u);       // length, digit, special
  EXPECT_TRUE(password_problems("bob", "abcd-123", true).empty());
}

TEST(session_table, a_session_lives_while_used_and_ends_after_its_idle_time) {
  session_table t(60s, counter_tokens());
  const auto t0 = clock::time_point{} + 1h;
  const auto token = t.open("bob", t0).token;
  ASSERT_NE(t.use(token, t0 + 59s), nullptr);
  ASSERT_NE(t.use(token, t0 + 118s), nullptr);  // each use restarts the idle time
  EXPECT_EQ(t.use(token, t0 + 179s), nullptr);
  EXPECT_EQ(t.size(), 0u);  // forgotten
  EXPECT_EQ(t.use("unknown", t0), nullptr);
}

TEST(session_table, closing_a_user_ends_all_but_the_one_kept) {
  session_table t(60s, counter_tokens());
  const auto now = clock::time_point{} + 1h;
  const auto a = t.open("bob", now).token;
  const auto b = t.open("bob", now).token;
  const auto c = t.open("eve", now).token;
  t.close_user("bob", session_id(a));
  EXPECT_NE(t.use(a, now), nullptr);
  EXPECT_EQ(t.use(b, now), nullptr);
  EXPECT_NE(t.use(c, now), nullptr);
  EXPECT_NE(t.use(a, now)->csrf, t.use(a, now)->token);
}

TEST(session_table,
     every_change_is_told_for_a_restart_and_a_restored_session_is_found_by_its_cookie) {
  std::vector<std::string> told;
  session_table::listener l;
  l.saved = [&](const session& s) { told.push_back("saved " + s.user + " " + s.id); };
  l.removed = [&](const std::string& id) { told.push_back("removed " + id); };
  l.removed_user = [&](const std::string& u, const std::string& except) {
    told.push_back("removed_user " + u + " " + except);
  };
  session_table t(60s, counter_tokens(), l);
  const auto t0 = clock::time_point{} + 1h;
  const auto& opened = t.open("bob", t0);
  const auto token = opened.token;
  const auto id = opened.id;
  EXPECT_EQ(id, session_id(token));
  EXPECT_NE(id, token);
  EXPECT_EQ(id.size(), 64u);
  ASSERT_EQ(told, std::vector<std::string>{"saved bob " + id});
  t.use(token, t0 + 10s);  // used again soon: not written again
  EXPECT_EQ(told.size(), 1u);
  t.use(token, t0 + 40s);  // 30 s after the last write: written
  ASSERT_EQ(told.size(), 2u);
  t.close(id);
  EXPECT_EQ(told.back(), "removed " + id);
  const auto other = t.open("eve", t0).token;
  EXPECT_EQ(t.use(other, t0 + 61s), nullptr);  // expired: forgotten and told
  EXPECT_EQ(told.back(), "removed " + session_id(other));
  t.open("eve", t0 + 61s);
  t.close_user("eve");
  EXPECT_EQ(told.back(), "removed_user eve ");
  told.clear();
  t.close_user("nobody");
  EXPECT_TRUE(told.empty()) << "nothing ended, nothing told";

  // After a restart: a session kept by its id is found by the cookie's value, with its idle time
  // counted from when it was last seen.
  session_table after(60s, counter_tokens());
  after.restore(session_id("cookie-value"), "csrf-1", "bob", 50s, t0);
  after.restore(session_id("too-old"), "csrf-2", "bob", 61s, t0);
  EXPECT_EQ(after.size(), 1u);
  const auto* s = after.use("cookie-value", t0);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->user, "bob");
  EXPECT_EQ(s->csrf, "csrf-1");
  EXPECT_EQ(after.use(session_id("cookie-value"), t0), nullptr) << "the id is not a cookie";
  EXPECT_EQ(after.use("cookie-value", t0 + 61s), nullptr);
}

TEST(login_limiter, five_failures_lock_the_user_and_the_address_for_the_lockout) {
  login_limiter l({5, 300s, 300s});
  const auto t0 = clock::time_point{} + 1h;
  for (int i = 0; i < 4; ++i) l.failed("bob", "10.0.0.1", t0 + std::chrono::seconds(i));
  EXPECT_FALSE(l.blocked("bob", "10.0.0.1", t0 + 5s));
  l.failed("bob", "10.0.0.1", t0 + 4s);
  EXPECT_TRUE(l.blocked("bob", "10.0.0.2", t0 + 5s));  // the user, from anywhere
  EXPECT_TRUE(l.blocked("eve", "10.0.0.1", t0 + 5s));  // the address, for anyone
  EXPECT_FALSE(l.blocked("eve", "10.0.0.2", t0 + 5s));
  EXPECT_EQ(*l.blocked("bob", "10.0.0.1", t0 + 104s), 200s);
  EXPECT_FALSE(l.blocked("bob", "10.0.0.1", t0 + 305s));
}

TEST(login_limiter, failures_spread_beyond_the_window_do_not_lock) {
  login_limiter l({5, 300s, 300s});
  const auto t0 = clock::time_point{} + 1h;
  for (int i = 0; i < 10; ++i) l.failed("bob", "a", t0 + std::chrono::seconds(i * 100));
  EXPECT_FALSE(l.blocked("bob", "a", t0 + 1000s));
}

TEST(login_limiter, a_success_clears_the_user_and_the_address) {
  login_limiter l({2, 300s, 300s});
  const auto t0 = clock::time_point{} + 1h;
  l.failed("bob", "a", t0);
  l.succeeded("bob", "a");
  l.failed("bob", "a", t0 + 1s);
  EXPECT_FALSE(l.blocked("bob", "a", t0 + 2s));
}
