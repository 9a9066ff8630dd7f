// Helpers for the libs/sys unit tests: a scratch directory, a child subreaper, exit waits.
#pragma once

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace hasys::sys::test {

// A fresh directory under /tmp, removed with its content when dropped.
class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hasys-sys-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

  // Writes a file with content and mode; returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content,
                              mode_t mode) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), mode);
    return p;
  }

 private:
  std::filesystem::path path_;
};

// Makes this process the reaper of orphaned descendants for the scope, so a test can see how
// a grandchild of run_process ended (it would go to PID 1 otherwise). Orphans the test did not
// reap itself are reaped when the scope ends (waiting up to 5 s for them to be gone).
class subreaper_scope {
 public:
  subreaper_scope() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  subreaper_scope(const subreaper_scope&) = delete;
  subreaper_scope& operator=(const subreaper_scope&) = delete;
  ~subreaper_scope() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      const pid_t got = ::waitpid(-1, nullptr, WNOHANG);
      if (got < 0 || std::chrono::steady_clock::now() >= deadline) break;
      if (got == 0) ::usleep(10000);  // an orphan not dead yet: no event to wait on for "any child"
    }
  }
};

// How a descendant ended, seen from a subreaper.
struct ending {
  bool gone = false;          // it no longer exists
  std::optional<int> status;  // its wait status, when this process reaped it (else its own
                              // parent reaped it before dying: it was dead before its parent)
};

// Waits (poll on a pidfd, bounded) for pid to exit and reaps it if it became our child. A pid
// that is still there after timeout is killed, reaped, and reported as not gone.
inline ending wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return {errno == ESRCH, std::nullopt};
  pollfd p{fd, POLLIN, 0};
  const bool exited = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  ::close(fd);
  if (!exited) ::kill(pid, SIGKILL);
  int status = 0;
  const bool reaped = ::waitpid(pid, &status, 0) == pid;
  return {exited, reaped && exited ? std::optional<int>(status) : std::nullopt};
}

inline int count_open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

inline bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace hasys::sys::test
