// Running scripts: fork/exec in their own process group, output captured, timeout on the group.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hasys::sys {

struct run_options {
  std::vector<std::string> argv;    // argv[0] is the program path (no PATH search, no shell)
  std::optional<std::string> user;  // run as this user: supplementary groups, gid, uid
  // Added to a clean minimal environment (PATH, HOME, USER, LOGNAME, LANG=C); replaces those.
  std::vector<std::pair<std::string, std::string>> env;
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds kill_grace{2000};  // SIGTERM to the process group, SIGKILL after this
  std::size_t output_limit = 64 * 1024;        // stdout+stderr merged; beyond it: truncated, marked
  std::filesystem::path cwd = "/";
};

struct run_result {
  int exit_code = -1;  // -1 when killed by a signal or not started
  int signal = 0;      // the signal that ended the process, 0 if it exited
  bool timed_out = false;
  bool started = false;
  bool output_truncated = false;
  std::string output;  // merged stdout/stderr, ends with a marker line when truncated
  std::string error;   // why it did not start (no such file, not executable, no such user...)
  std::chrono::milliseconds elapsed{};
  bool ok() const noexcept { return started && !timed_out && exit_code == 0; }
};

// Runs argv[0] without blocking the io thread: fork + exec in a new session (its own process
// group), stdin from /dev/null, every other descriptor closed, signal mask and dispositions
// reset. Output is read through a pipe with Asio; the exit is awaited on a pidfd. The process has
// finished when its main process has exited: background processes it left behind are not waited
// for (a start script may launch a daemon), and their later output is not read.
// On timeout: SIGTERM to the whole group, SIGKILL to the group after kill_grace.
// On cancellation (the losing side of `||`, a shutdown): the same, then the process is reaped
// before the cancellation exception propagates. No zombie and no descriptor is left behind.
// Needs SIGCHLD not set to SIG_IGN and nobody else calling wait(-1) in the process.
boost::asio::awaitable<run_result> run_process(boost::asio::any_io_executor ex, run_options o);

// Checks a script before anything runs: it exists, is a regular file, and is executable by the
// current user (root: by anyone). "" if fine, else the reason, naming the path.
// How a run ended, for events and replies: "exit 3", "killed by signal 9", "timed out after
// 5000 ms", or "not started: <why>". With `with_output`, a failed run's first output line follows
// (": disk full") — what a start command says about itself.
std::string describe(const run_result& r, bool with_output = false);

std::string check_executable(const std::filesystem::path& p);
// The same for a run-as user (by name): permission bits against that user's uid and groups.
std::string check_executable(const std::filesystem::path& p, std::string_view user);

}  // namespace hasys::sys
