// hasys-monitor's process table against real processes: matching (D4) and the cache's zombies.
#include "system_probe.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

namespace hasys::monitor {
namespace {

using namespace std::chrono_literals;

bool listed(const process_table& t, int pid) {
  bool found = false;
  t.for_each([&](const process_entry& e) { found = found || e.pid == pid; });
  return found;
}

pid_t spawn_sleep() {
  pid_t p = ::fork();
  if (p == 0) {
    ::execlp("sleep", "sleep", "300", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return p;
}

TEST(process_table, a_cached_process_that_became_a_zombie_is_dropped_once_its_exit_is_known) {
  // young = 0: a pid is read once, then trusted until the full re-read a minute later — the
  // cache that keeps the scan cheap with thousands of processes.
  process_table t("/proc", 0s, 60s);
  const pid_t child = spawn_sleep();
  ASSERT_GT(child, 0);
  for (int i = 0; i < 200 && !listed(t, child); ++i) {  // until exec has given it a command line
    t.refresh(std::chrono::steady_clock::now());
    if (!listed(t, child)) t.forget(child), ::usleep(5000);
  }
  ASSERT_TRUE(listed(t, child));
  ::kill(child, SIGKILL);
  siginfo_t info{};
  ::waitid(P_PID, child, &info, WEXITED | WNOWAIT);  // exited, not reaped: a zombie
  t.refresh(std::chrono::steady_clock::now());
  EXPECT_TRUE(listed(t, child))
      << "the cache does not look again by itself (this is what forget is for)";
  t.forget(child);  // its pidfd fired
  t.refresh(std::chrono::steady_clock::now());
  EXPECT_FALSE(listed(t, child)) << "a zombie is not a running process";
  ::waitpid(child, nullptr, 0);
}

TEST(process_table, name_and_command_line_matching) {  // D4
  process_entry e{42, "python3", "/usr/bin/python3 /srv/app.py --port 8080", "python3", "app.py"};
  config::process_monitor m;
  m.match = config::process_match::name;
  m.pattern = "app.py";
  EXPECT_TRUE(matches(m, e)) << "a script run by an interpreter is matched by its file name";
  m.pattern = "python3";
  EXPECT_TRUE(matches(m, e));
  m.pattern = "app";
  EXPECT_FALSE(matches(m, e)) << "names match whole";
  m.match = config::process_match::cmdline;
  m.pattern = "app.py --port 8080";
  EXPECT_TRUE(matches(m, e));
  m.pattern = "--port 9090";
  EXPECT_FALSE(matches(m, e));
  process_entry kernel{2, "kthreadd", "", "", ""};
  m.pattern = "";
  EXPECT_FALSE(matches(m, kernel)) << "kernel threads have no command line to match";
}

}  // namespace
}  // namespace hasys::monitor
