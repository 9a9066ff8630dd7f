// run_process: timeouts and cancellation stop the whole process group; nothing leaks.
#include <hasys/sys/process.hpp>

#include "run.hpp"
#include "sys_test_support.hpp"

#include <hasys/test/coroutine_test.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>

#include <csignal>
#include <fstream>

namespace {

using namespace std::chrono_literals;
using hasys::sys::run_options;
using hasys::sys::run_result;
using hasys::sys::test::process_exists;
using hasys::sys::test::scratch_dir;
using hasys::sys::test::subreaper_scope;
using hasys::sys::test::wait_gone;

class process_group_test : public hasys::test::io_test {
 protected:
  run_result run_with(run_options o, hasys::sys::detail::exit_watch_kind kind =
                                         hasys::sys::detail::exit_watch_kind::pidfd) {
    return run(hasys::sys::detail::run_process(ioc_.get_executor(), std::move(o), kind), 20s);
  }
};

pid_t first_line_pid(const std::string& output) {
  return static_cast<pid_t>(std::stol(output.substr(0, output.find('\n'))));
}

TEST_F(process_group_test, timeout_terminates_the_process_and_its_background_grandchild) {
  subreaper_scope reaper;
  run_options o{.argv = {"/bin/sh", "-c", "sleep 100 & echo $!; sleep 100"}};
  o.timeout = 300ms;
  o.kill_grace = 5s;
  const auto r = run_with(o);
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_LT(r.elapsed, 3s) << "SIGTERM was enough: no wait for the grace period";
  ASSERT_FALSE(r.output.empty());
  const pid_t grandchild = first_line_pid(r.output);
  const auto end = wait_gone(grandchild, 5s);
  EXPECT_TRUE(end.gone) << "the background sleep " << grandchild << " survived the timeout";
  if (end.status) {
    EXPECT_TRUE(WIFSIGNALED(*end.status));
  }
}

TEST_F(process_group_test, timeout_escalates_to_sigkill_for_a_group_that_ignores_sigterm) {
  subreaper_scope reaper;
  // The ignored disposition is inherited by the background sleep too.
  run_options o{.argv = {"/bin/sh", "-c", "trap '' TERM; sleep 100 & echo $!; sleep 100"}};
  o.timeout = 300ms;
  o.kill_grace = 300ms;
  const auto r = run_with(o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(r.elapsed, 600ms);
  EXPECT_LT(r.elapsed, 5s);
  const pid_t grandchild = first_line_pid(r.output);
  const auto end = wait_gone(grandchild, 5s);
  EXPECT_TRUE(end.gone) << "the background sleep " << grandchild << " survived";
  // Killed together with the shell, it is reaped by the shell or, orphaned, by this test.
  if (end.status) {
    EXPECT_EQ(WTERMSIG(*end.status), SIGKILL);
  }
}

TEST_F(process_group_test, cancellation_by_the_other_side_of_or_kills_and_reaps_the_process) {
  using namespace boost::asio::experimental::awaitable_operators;
  scratch_dir dir;
  const auto pid_file = dir.path() / "pid";
  run_options o{.argv = {"/bin/sh", "-c", "echo $$ > " + pid_file.string() + "; exec sleep 100"}};
  o.kill_grace = 5s;
  auto file_written = [pid_file]() -> boost::asio::awaitable<void> {
    (void)co_await hasys::test::eventually(
        [&] {
          std::error_code ec;
          const auto size = std::filesystem::file_size(pid_file, ec);
          return !ec && size > 0;
        },
        10s);
  };
  const auto start = std::chrono::steady_clock::now();
  const auto winner = run(hasys::sys::run_process(ioc_.get_executor(), o) || file_written(), 20s);
  EXPECT_EQ(winner.index(), 1U);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_FALSE(process_exists(pid)) << "the cancelled child " << pid << " is still there (zombie?)";
}

TEST(process_group, destroying_the_io_context_mid_run_kills_and_reaps_the_process) {
  scratch_dir dir;
  const auto pid_file = dir.path() / "pid";
  pid_t pid = 0;
  {
    boost::asio::io_context ioc;
    run_options o{.argv = {"/bin/sh", "-c", "echo $$ > " + pid_file.string() + "; exec sleep 100"}};
    boost::asio::co_spawn(ioc, hasys::sys::run_process(ioc.get_executor(), o),
                          [](std::exception_ptr, run_result) {});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      std::ifstream(pid_file) >> pid;
      if (pid > 0) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the child never wrote its pid";
      ioc.run_for(10ms);
    }
  }  // the suspended run_process frame is destroyed with the io_context
  EXPECT_FALSE(process_exists(pid)) << "child " << pid << " outlived its run_process";
}

TEST_F(process_group_test, background_process_left_running_does_not_delay_completion) {
  subreaper_scope reaper;
  // The background sleep keeps the output pipe open: completion must not wait for its EOF.
  const auto r = run_with({.argv = {"/bin/sh", "-c", "sleep 30 & echo $!; echo started"}});
  EXPECT_TRUE(r.ok());
  EXPECT_LT(r.elapsed, 5s);
  const pid_t background = first_line_pid(r.output);
  EXPECT_NE(r.output.find("started\n"), std::string::npos);
  EXPECT_TRUE(process_exists(background)) << "a normal exit leaves started daemons alone";
  ::kill(background, SIGKILL);
  EXPECT_TRUE(wait_gone(background, 5s).gone);
}

TEST_F(process_group_test, hundred_runs_leak_no_descriptor_and_no_child) {
  // A first run creates the io_context's reactor descriptors (epoll, eventfd, timerfd).
  ASSERT_TRUE(run_with({.argv = {"/bin/true"}}).ok());
  const int before = hasys::sys::test::count_open_fds();
  for (int i = 0; i < 100; ++i) {
    const auto r = run_with({.argv = {"/bin/true"}});
    ASSERT_TRUE(r.ok()) << "run " << i << ": " << r.error;
  }
  const auto missing = run_with({.argv = {"/nonexistent"}});
  EXPECT_FALSE(missing.started);
  EXPECT_EQ(hasys::sys::test::count_open_fds(), before);
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1) << "a child is left unreaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(process_group_test, thread_exit_watch_for_kernels_without_pidfd_gives_the_same_results) {
  using hasys::sys::detail::exit_watch_kind;
  const auto r = run_with({.argv = {"/bin/sh", "-c", "echo hi; exit 4"}}, exit_watch_kind::thread);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.output, "hi\n");
  run_options slow{.argv = {"/bin/sleep", "100"}};
  slow.timeout = 200ms;
  const auto t = run_with(slow, exit_watch_kind::thread);
  EXPECT_TRUE(t.timed_out);
  EXPECT_EQ(t.signal, SIGTERM);
}

}  // namespace
