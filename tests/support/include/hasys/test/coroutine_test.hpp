// Coroutine tests: run one to completion with a deadline, an io_context fixture that checks no
// work leaked, and a polling wait for states that raise no event.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

// ASSERT_* for coroutines: gtest's fatal assertions `return`, which a coroutine may not; these
// `co_return` instead (a void operand is allowed there). Same messages as ASSERT_*.
#define HASYS_CO_FATAL_FAILURE_(message) \
  co_return GTEST_MESSAGE_(message, ::testing::TestPartResult::kFatalFailure)
#define CO_ASSERT_TRUE(condition) \
  GTEST_TEST_BOOLEAN_(condition, #condition, false, true, HASYS_CO_FATAL_FAILURE_)
#define CO_ASSERT_FALSE(condition) \
  GTEST_TEST_BOOLEAN_(!(condition), #condition, true, false, HASYS_CO_FATAL_FAILURE_)
#define CO_ASSERT_EQ(a, b) \
  GTEST_PRED_FORMAT2_(::testing::internal::EqHelper::Compare, a, b, HASYS_CO_FATAL_FAILURE_)
#define CO_ASSERT_NE(a, b) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperNE, a, b, HASYS_CO_FATAL_FAILURE_)
#define CO_ASSERT_GE(a, b) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperGE, a, b, HASYS_CO_FATAL_FAILURE_)
#define CO_ASSERT_LT(a, b) \
  GTEST_PRED_FORMAT2_(::testing::internal::CmpHelperLT, a, b, HASYS_CO_FATAL_FAILURE_)

namespace hasys::test {

using namespace std::chrono_literals;

struct coroutine_timeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs ioc until op finishes. Rethrows op's exception; when op has not finished within timeout,
// records a test failure and throws coroutine_timeout (op stays suspended until ioc is destroyed).
template <class T>
T run_coroutine_test(boost::asio::io_context& ioc, boost::asio::awaitable<T> op,
                     std::chrono::steady_clock::duration timeout = 30s) {
  struct outcome {
    bool done = false;
    std::exception_ptr error;
    std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
  };
  auto out = std::make_shared<outcome>();
  if constexpr (std::is_void_v<T>) {
    boost::asio::co_spawn(ioc, std::move(op), [out](std::exception_ptr e) {
      out->done = true;
      out->error = e;
    });
  } else {
    boost::asio::co_spawn(ioc, std::move(op), [out](std::exception_ptr e, T v) {
      out->done = true;
      out->error = e;
      if (!e) out->value.emplace(std::move(v));
    });
  }
  if (ioc.stopped()) ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!out->done && ioc.run_one_until(deadline) > 0) {
  }
  if (!out->done) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    ADD_FAILURE() << "the coroutine under test did not finish within " << ms << " ms";
    throw coroutine_timeout("coroutine did not finish within " + std::to_string(ms) + " ms");
  }
  if (out->error) std::rethrow_exception(out->error);
  if constexpr (!std::is_void_v<T>) return std::move(*out->value);
}

// boost.mysql's check: once a test is over, nothing may still wait in the io_context (a
// forgotten timer, a coroutine that never ended, a subscription left open with a reader).
inline void expect_no_leaked_work(boost::asio::io_context& ioc) {
  ioc.poll();
  EXPECT_TRUE(ioc.stopped()) << "work is still pending in the io_context after the test";
}

class io_test : public ::testing::Test {
 protected:
  template <class T>
  T run(boost::asio::awaitable<T> op, std::chrono::steady_clock::duration timeout = 30s) {
    return run_coroutine_test(ioc_, std::move(op), timeout);
  }
  void TearDown() override { expect_no_leaked_work(ioc_); }

  boost::asio::io_context ioc_;
};

// Spawns a helper coroutine (a responder, a publisher) whose exception fails the test instead
// of vanishing; done (optional) is set when it ends.
inline void spawn_checked(boost::asio::any_io_executor ex, boost::asio::awaitable<void> op,
                          std::shared_ptr<bool> done = nullptr) {
  boost::asio::co_spawn(ex, std::move(op), [done](std::exception_ptr e) {
    if (done) *done = true;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      ADD_FAILURE() << "a helper coroutine threw: " << x.what();
    } catch (...) {
      ADD_FAILURE() << "a helper coroutine threw a non-standard exception";
    }
  });
}

// For a state that raises no event (a counter reaching a value): look every period until pred
// holds or timeout passes. Prefer awaiting a real event where there is one.
inline boost::asio::awaitable<bool> eventually(std::function<bool()> pred,
                                               std::chrono::steady_clock::duration timeout,
                                               std::chrono::steady_clock::duration period = 5ms) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_after(period);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return true;
}

}  // namespace hasys::test
