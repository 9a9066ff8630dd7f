// Child processes for lab tests: run a command to completion with a deadline, or read a running
// command's output line by line with a deadline per wait.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::lab {

using environment = std::map<std::string, std::string>;  // added to (or replacing in) environ

struct command_result {
  int exit = -1;            // exit status; 128 + signal when killed by a signal; -1 on timeout
  std::string out;          // stdout and stderr, interleaved as written
  bool timed_out = false;   // the deadline passed: the process group was killed
  bool ok() const { return exit == 0; }
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null in its own process group; on the
// deadline the whole group gets SIGKILL. Daemons the command leaves behind with their own
// output do not hold it up: reading stops shortly after the command itself exits.
command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const environment& env = {});

// A running child whose stdout and stderr are read as lines. The destructor kills the child's
// process group (SIGTERM, then SIGKILL after 2 s) and reaps it.
class line_reader {
 public:
  explicit line_reader(const std::vector<std::string>& argv, const environment& env = {});
  ~line_reader();
  line_reader(line_reader&& other) noexcept;
  line_reader& operator=(line_reader&& other) noexcept;
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  // The next line (without '\n'), or nothing when the deadline passed or the output ended.
  std::optional<std::string> next_line(std::chrono::milliseconds timeout);
  // The first line for which match() is true, skipping others; nothing on deadline or end.
  std::optional<std::string> wait_for(const std::function<bool(std::string_view)>& match,
                                      std::chrono::milliseconds timeout);
  std::optional<std::string> wait_for(std::string_view needle, std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }
  // Every line read so far, for failure messages.
  const std::string& transcript() const { return transcript_; }

 private:
  void stop();

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  std::string transcript_;
  bool eof_ = false;
};

}  // namespace hasys::lab
