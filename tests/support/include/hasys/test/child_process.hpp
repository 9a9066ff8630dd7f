// A child process for tests: spawned with arguments, output to a file, killed when dropped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hasys::test {

class child_process {
 public:
  struct spec {
    std::filesystem::path program;   // with a '/', used as is; otherwise looked up in PATH
    std::vector<std::string> args;   // without argv[0]
    std::filesystem::path output;    // stdout and stderr appended here; empty: inherited
  };

  // Throws std::runtime_error naming the program when it cannot be started (not found, not
  // executable). The child gets SIGKILL if the thread that started it dies (PR_SET_PDEATHSIG),
  // so a crashed test leaves no server behind.
  explicit child_process(spec s);
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();  // SIGKILL and reap, if still running

  pid_t pid() const noexcept { return pid_; }
  // Readable (for poll) once the child has exited; -1 when pidfd_open is unavailable.
  int exit_fd() const noexcept { return pidfd_; }
  bool running();
  void signal(int sig);
  // The raw wait status once exited within timeout; nullopt when still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after grace; returns the wait status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  void reap_if_exited();
  void release() noexcept;

  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> status_;
};

// "exited with status 1" / "killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

}  // namespace hasys::test
