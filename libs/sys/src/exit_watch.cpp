// pidfd_open, with a waiting thread as the fallback for kernels without it.
#include "exit_watch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace hasys::sys::detail {

namespace {

unique_fd open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  // PIDFD_NONBLOCK is not needed: the descriptor is only polled.
  return unique_fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
#else
  (void)pid;
  errno = ENOSYS;
  return unique_fd();
#endif
}

// A thread waits for the exit without reaping (WNOWAIT) and closes the pipe's write end: the
// read end then reports end-of-file, readable like a pidfd.
unique_fd open_thread_watch(pid_t pid) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return unique_fd();
  unique_fd read_end(p[0]);
  try {
    std::thread([pid, write_end = p[1]] {
      siginfo_t info{};
      while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0 &&
             errno == EINTR) {
      }
      ::close(write_end);
    }).detach();
  } catch (const std::system_error&) {
    ::close(p[1]);
    errno = EAGAIN;
    return unique_fd();
  }
  return read_end;
}

}  // namespace

unique_fd open_exit_watch(pid_t pid, exit_watch_kind kind) {
  if (kind == exit_watch_kind::pidfd) {
    auto fd = open_pidfd(pid);
    if (fd || errno != ENOSYS) return fd;
  }
  return open_thread_watch(pid);
}

bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace hasys::sys::detail
