// A child process for tests: fork/exec with a close-on-exec pipe to report exec failures.
#include <hasys/test/child_process.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace hasys::test {

namespace {

std::filesystem::path resolve(const std::filesystem::path& program) {
  if (program.string().find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t from = 0;
  while (from <= dirs.size()) {
    const auto to = std::min(dirs.find(':', from), dirs.size());
    const auto candidate = std::filesystem::path(dirs.substr(from, to - from)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    from = to + 1;
  }
  throw std::runtime_error("child_process: " + program.string() + " not found in PATH");
}

// Between fork and exec only async-signal-safe calls: everything is prepared before fork.
[[noreturn]] void exec_child(const char* path, char* const* argv, int out_fd, int report_fd,
                             pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (out_fd >= 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
  }
  ::execv(path, argv);
  const int err = errno;
  (void)!::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

child_process::child_process(spec s) {
  const auto path = resolve(s.program);
  std::vector<std::string> args;
  args.push_back(s.program.filename().string());
  args.insert(args.end(), s.args.begin(), s.args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out_fd = -1;
  if (!s.output.empty()) {
    out_fd = ::open(s.output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) {
      throw std::runtime_error("child_process: cannot open " + s.output.string() + ": " +
                               std::strerror(errno));
    }
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    if (out_fd >= 0) ::close(out_fd);
    throw std::runtime_error(std::string("child_process: pipe2: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) exec_child(path.c_str(), argv.data(), out_fd, report[1], parent);
  const int fork_errno = errno;
  ::close(report[1]);
  if (out_fd >= 0) ::close(out_fd);
  if (pid_ < 0) {
    ::close(report[0]);
    throw std::runtime_error(std::string("child_process: fork: ") + std::strerror(fork_errno));
  }
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    throw std::runtime_error("child_process: cannot run " + path.string() + ": " +
                             std::strerror(exec_errno));
  }
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));  // -1 before Linux 5.3
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      status_(std::exchange(other.status_, std::nullopt)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::exchange(other.pidfd_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

child_process::~child_process() { release(); }

void child_process::release() noexcept {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  pid_ = -1;
  pidfd_ = -1;
  status_.reset();
}

void child_process::reap_if_exited() {
  if (pid_ <= 0 || status_) return;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
}

bool child_process::running() {
  reap_if_exited();
  return pid_ > 0 && !status_;
}

void child_process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    reap_if_exited();
    if (status_ || pid_ <= 0) return status_;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()));
    } else {
      ::usleep(2000);  // no pidfd (kernel < 5.3): poll waitpid
    }
  }
}

int child_process::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  if (auto s = wait_exit(grace)) return *s;
  signal(SIGKILL);
  if (auto s = wait_exit(std::chrono::seconds(10))) return *s;
  throw std::runtime_error("child_process: pid " + std::to_string(pid_) +
                           " survived SIGKILL for 10 s");
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "wait status " + std::to_string(status);
}

}  // namespace hasys::test
