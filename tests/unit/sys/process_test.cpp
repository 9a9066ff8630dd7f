// run_process: exit codes, output capture and truncation, start failures, user, environment.
#include <hasys/sys/process.hpp>

#include "sys_test_support.hpp"

#include <hasys/test/coroutine_test.hpp>

#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <csignal>
#include <set>
#include <sstream>

namespace {

using namespace std::chrono_literals;
using hasys::sys::run_options;
using hasys::sys::run_result;
using hasys::sys::test::scratch_dir;

class run_process_test : public hasys::test::io_test {
 protected:
  run_result run_with(run_options o, std::chrono::seconds limit = 20s) {
    return run(hasys::sys::run_process(ioc_.get_executor(), std::move(o)), limit);
  }
  run_result sh(const std::string& script) { return run_with({.argv = {"/bin/sh", "-c", script}}); }
};

TEST_F(run_process_test, zero_exit_is_ok_and_nonzero_exit_code_is_reported) {
  const auto ok = sh("exit 0");
  EXPECT_TRUE(ok.started);
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.exit_code, 0);
  const auto three = sh("exit 3");
  EXPECT_TRUE(three.started);
  EXPECT_FALSE(three.ok());
  EXPECT_EQ(three.exit_code, 3);
  EXPECT_EQ(three.signal, 0);
  EXPECT_TRUE(three.error.empty()) << three.error;
}

TEST_F(run_process_test, death_by_signal_reports_the_signal_and_exit_code_minus_one) {
  const auto r = sh("kill -KILL $$");
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(r.ok());
}

TEST_F(run_process_test, stdout_and_stderr_are_merged_in_order) {
  const auto r = sh("echo one; echo two >&2; echo three");
  EXPECT_EQ(r.output, "one\ntwo\nthree\n");
  EXPECT_FALSE(r.output_truncated);
}

TEST_F(run_process_test, output_beyond_the_limit_is_dropped_and_marked) {
  run_options o{.argv = {"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"}};
  o.output_limit = 1000;
  const auto r = run_with(o);
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.output_truncated);
  ASSERT_GE(r.output.size(), 1000U);
  EXPECT_EQ(r.output.substr(0, 1000), std::string(1000, 'x'));
  EXPECT_NE(r.output.find("[output truncated: 99000 more bytes over the 1000-byte limit"),
            std::string::npos)
      << r.output.substr(1000);
}

TEST_F(run_process_test, missing_program_does_not_start_and_says_no_such_file) {
  const auto r = run_with({.argv = {"/nonexistent/hasys-script.sh"}});
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.error, "/nonexistent/hasys-script.sh: no such file");
}

TEST_F(run_process_test, non_executable_file_does_not_start_and_names_the_mode) {
  scratch_dir dir;
  const auto script = dir.write("start.sh", "#!/bin/sh\necho hi\n", 0644);
  const auto r = run_with({.argv = {script.string()}});
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.error.find(script.string() + ": not executable by user"), std::string::npos)
      << r.error;
  EXPECT_NE(r.error.find("(mode 0644)"), std::string::npos) << r.error;
}

TEST_F(run_process_test, file_the_kernel_cannot_execute_reports_the_exec_failure) {
  scratch_dir dir;
  const auto blob = dir.write("blob",
                              std::string("\x7f"
                                          "ELF-not-really",
                                          15),
                              0755);
  const auto r = run_with({.argv = {blob.string()}});
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_NE(r.error.find("cannot execute " + blob.string()), std::string::npos) << r.error;
}

TEST_F(run_process_test, missing_working_directory_does_not_start) {
  const auto r = run_with({.argv = {"/bin/true"}, .cwd = "/nonexistent-dir"});
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.error, "working directory /nonexistent-dir is not a directory");
}

TEST_F(run_process_test, runs_in_the_given_working_directory) {
  scratch_dir dir;
  const auto r = run_with({.argv = {"/bin/pwd"}, .cwd = dir.path()});
  EXPECT_EQ(r.output, dir.path().string() + "\n");
}

TEST_F(run_process_test, unknown_run_as_user_does_not_start) {
  const auto r = run_with({.argv = {"/bin/true"}, .user = "hasys-no-such-user"});
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.error.find("user \"hasys-no-such-user\": no such user"), std::string::npos)
      << r.error;
}

TEST_F(run_process_test, run_as_nobody_runs_with_nobodys_uid_and_groups) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching user needs root; running as uid " << ::geteuid();
  const auto r = run_with({.argv = {"/usr/bin/id", "-u"}, .user = "nobody"});
  ASSERT_TRUE(r.ok()) << r.error << r.output;
  EXPECT_EQ(r.output, "65534\n");
  const auto groups = run_with({.argv = {"/usr/bin/id", "-G"}, .user = "nobody"});
  EXPECT_EQ(groups.output, "65534\n") << "root's supplementary groups must be dropped";
  const auto env =
      run_with({.argv = {"/bin/sh", "-c", "echo $USER $LOGNAME $HOME"}, .user = "nobody"});
  EXPECT_EQ(env.output, "nobody nobody /nonexistent\n");
}

TEST_F(run_process_test, environment_is_the_minimal_set_plus_the_given_variables) {
  run_options o{.argv = {"/usr/bin/env"}};
  o.env = {{"HASYS_GROUP", "web"}, {"LANG", "C.UTF-8"}};
  ::setenv("HASYS_SHOULD_NOT_LEAK", "1", 1);
  const auto r = run_with(o);
  ::unsetenv("HASYS_SHOULD_NOT_LEAK");
  std::set<std::string> names;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) names.insert(line.substr(0, line.find('=')));
  EXPECT_EQ(names,
            (std::set<std::string>{"PATH", "HOME", "USER", "LOGNAME", "LANG", "HASYS_GROUP"}))
      << r.output;
  EXPECT_NE(r.output.find("HASYS_GROUP=web\n"), std::string::npos);
  EXPECT_NE(r.output.find("LANG=C.UTF-8\n"), std::string::npos)
      << "given variables replace defaults";
}

TEST_F(run_process_test, bad_environment_name_does_not_start) {
  run_options o{.argv = {"/bin/true"}};
  o.env = {{"A=B", "1"}};
  const auto r = run_with(o);
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.error.find("environment variable \"A=B\""), std::string::npos) << r.error;
}

TEST_F(run_process_test, child_gets_default_signal_dispositions_and_an_empty_mask) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  const auto r = run_with({.argv = {"/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}});
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  EXPECT_EQ(r.output, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST_F(run_process_test, child_has_only_stdin_stdout_and_stderr_open) {
  // A descriptor of ours without close-on-exec must not reach the child either.
  const int leaky = ::open("/dev/null", O_RDONLY);
  const auto r = sh("ls /proc/$$/fd");
  ::close(leaky);
  EXPECT_EQ(r.output, "0\n1\n2\n");
}

TEST_F(run_process_test, stdin_is_dev_null) {
  const auto r = run_with({.argv = {"/bin/cat"}});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output, "");
}

TEST_F(run_process_test, child_leads_its_own_session_and_process_group) {
  const auto r = sh("ps -o pid=,pgid=,sid= -p $$");
  std::istringstream fields(r.output);
  long pid = 0, pgid = 0, sid = 0;
  ASSERT_TRUE(fields >> pid >> pgid >> sid) << r.output;
  EXPECT_EQ(pgid, pid);
  EXPECT_EQ(sid, pid);
}

}  // namespace
