// fork/exec with a pipe, a process group and poll() deadlines (see process.hpp).
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace hasys::lab {
namespace {

using clock = std::chrono::steady_clock;

std::vector<std::string> merged_environment(const environment& extra) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry{*e};
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) all[std::string(entry.substr(0, eq))] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) all[k] = v;
  std::vector<std::string> out;
  out.reserve(all.size());
  for (const auto& [k, v] : all) out.push_back(k + "=" + v);
  return out;
}

// Forks a child in its own process group with stdout+stderr on a pipe; returns {pid, read fd}.
std::pair<pid_t, int> spawn(const std::vector<std::string>& argv, const environment& env) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty command");
  std::vector<std::string> env_strings = merged_environment(env);
  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (const auto& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, STDIN_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    environ = c_env.data();
    execvp(c_argv[0], c_argv.data());
    std::string msg = "exec " + argv[0] + ": " + strerror(errno) + "\n";
    (void)!write(STDERR_FILENO, msg.data(), msg.size());
    _exit(127);
  }
  setpgid(pid, pid);
  close(fds[1]);
  return {pid, fds[0]};
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Reads what is available within `wait`; false at end of output.
bool read_some(int fd, std::string& into, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  int n = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, wait.count())));
  if (n <= 0) return true;
  char buf[4096];
  ssize_t got = read(fd, buf, sizeof buf);
  if (got <= 0) return got < 0 && errno == EINTR;
  into.append(buf, static_cast<std::size_t>(got));
  return true;
}

std::chrono::milliseconds left_until(clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
}

}  // namespace

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const environment& env) {
  auto [pid, fd] = spawn(argv, env);
  command_result result;
  const auto deadline = clock::now() + timeout;
  bool open = true;
  int status = 0;
  bool exited = false;
  while (!exited) {
    if (open) {
      open = read_some(fd, result.out, std::min(left_until(deadline), std::chrono::milliseconds(50)));
    } else {
      poll(nullptr, 0, 10);
    }
    exited = waitpid(pid, &status, WNOHANG) == pid;
    if (!exited && clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timed_out = true;
      close(fd);
      result.out += "\n[run_command: killed after " + std::to_string(timeout.count()) + " ms]";
      return result;
    }
  }
  // The command is gone; take what it wrote, without waiting for daemons it left holding the pipe.
  const auto drain_until = clock::now() + std::chrono::milliseconds(200);
  while (open && clock::now() < drain_until) {
    std::size_t before = result.out.size();
    open = read_some(fd, result.out, std::chrono::milliseconds(20));
    if (open && result.out.size() == before) break;
  }
  close(fd);
  result.exit = decode_status(status);
  return result;
}

line_reader::line_reader(const std::vector<std::string>& argv, const environment& env) {
  std::tie(pid_, fd_) = spawn(argv, env);
}

line_reader::~line_reader() { stop(); }

line_reader::line_reader(line_reader&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      transcript_(std::move(other.transcript_)),
      eof_(other.eof_) {}

line_reader& line_reader::operator=(line_reader&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    transcript_ = std::move(other.transcript_);
    eof_ = other.eof_;
  }
  return *this;
}

void line_reader::stop() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (pid_ <= 0) return;
  kill(-pid_, SIGTERM);
  kill(-pid_, SIGCONT);
  const auto deadline = clock::now() + std::chrono::seconds(2);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (clock::now() >= deadline) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    poll(nullptr, 0, 10);
  }
  pid_ = -1;
}

std::optional<std::string> line_reader::next_line(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      transcript_ += line + "\n";
      return line;
    }
    if (eof_ || fd_ < 0 || clock::now() >= deadline) return std::nullopt;
    eof_ = !read_some(fd_, buffer_, left_until(deadline));
  }
}

std::optional<std::string> line_reader::wait_for(const std::function<bool(std::string_view)>& match,
                                                 std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (auto line = next_line(left_until(deadline))) {
    if (match(*line)) return line;
  }
  return std::nullopt;
}

std::optional<std::string> line_reader::wait_for(std::string_view needle,
                                                 std::chrono::milliseconds timeout) {
  return wait_for([needle](std::string_view line) { return line.find(needle) != line.npos; },
                  timeout);
}

}  // namespace hasys::lab
