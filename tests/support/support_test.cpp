// The test helpers of tests/support do what every integration test relies on.
#include <hasys/test/coroutine_test.hpp>
#include <hasys/test/nats_server.hpp>

#include <gtest/gtest-spi.h>

#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <stdexcept>

using namespace std::chrono_literals;
namespace asio = boost::asio;
using hasys::test::coroutine_timeout;
using hasys::test::run_coroutine_test;

namespace {

asio::awaitable<void> wait_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

asio::awaitable<int> answer() {
  co_await wait_for(1ms);
  co_return 42;
}

asio::awaitable<void> fail() {
  co_await wait_for(1ms);
  throw std::logic_error("broken invariant");
}

// EXPECT_NONFATAL_FAILURE's statement may not name locals.
asio::io_context* leaky_ioc = nullptr;

}  // namespace

TEST(test_support, run_coroutine_test_returns_the_value_and_rethrows_the_exception) {
  asio::io_context ioc;
  EXPECT_EQ(run_coroutine_test(ioc, answer(), 5s), 42);
  EXPECT_THROW(run_coroutine_test(ioc, fail(), 5s), std::logic_error);
  hasys::test::expect_no_leaked_work(ioc);
}

TEST(test_support, run_coroutine_test_fails_the_test_when_the_coroutine_is_late) {
  asio::io_context ioc;
  leaky_ioc = &ioc;
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THROW(run_coroutine_test(*leaky_ioc, wait_for(10s), 50ms), coroutine_timeout),
      "did not finish within 50 ms");
}

TEST(test_support, leaked_work_is_reported_at_teardown) {
  asio::io_context ioc;
  asio::steady_timer forgotten(ioc, 1h);
  forgotten.async_wait([](boost::system::error_code) {});
  leaky_ioc = &ioc;
  EXPECT_NONFATAL_FAILURE(hasys::test::expect_no_leaked_work(*leaky_ioc), "work is still pending");
  forgotten.cancel();
  hasys::test::expect_no_leaked_work(ioc);
}

TEST(test_support, nats_server_restarts_on_the_same_port_and_cleans_up) {
  std::filesystem::path dir;
  pid_t pid = 0;
  {
    hasys::test::nats_server server;
    dir = server.dir();
    pid = server.pid();
    const auto port = server.port();
    EXPECT_GT(port, 0);
    EXPECT_EQ(server.url(), "nats://127.0.0.1:" + std::to_string(port));
    server.restart();
    EXPECT_EQ(server.port(), port);
    pid = server.pid();
    EXPECT_TRUE(server.running());
    EXPECT_NE(server.log().find("Server is ready"), std::string::npos);
    server.freeze();  // the destructor must still get rid of a stopped process
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(::kill(pid, 0), -1) << "nats-server " << pid << " is still running";
}

TEST(test_support, nats_server_that_cannot_start_throws_with_its_log) {
  try {
    hasys::test::nats_server server({.extra_args = {"--no-such-flag"}});
    ADD_FAILURE() << "started with a bad flag";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("before it was ready"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no-such-flag"), std::string::npos) << e.what();
  }
}
