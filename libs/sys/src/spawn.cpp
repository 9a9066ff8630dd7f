// fork/exec for run_process: a new session, clean descriptors and signals, optional user switch.
#include "spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace hasys::sys::detail {

namespace {

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr int report_fd = 3;  // where the child keeps the start-report pipe until exec

enum class start_stage : int { setsid = 1, descriptors, setgroups, setgid, setuid, chdir, exec };

struct start_report {
  start_stage stage;
  int error;
};

std::string errno_text(int e) { return std::strerror(e); }

// Moves fd above 0..3, so that installing stdio and the report descriptor never overwrites it.
bool lift(unique_fd& fd) {
  if (fd.get() > report_fd) return true;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, report_fd + 1);
  if (moved < 0) return false;
  fd.reset(moved);
  return true;
}

bool make_pipe(unique_fd& read_end, unique_fd& write_end, int read_flags) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  read_end.reset(p[0]);
  write_end.reset(p[1]);
  if (read_flags != 0 && ::fcntl(p[0], F_SETFL, ::fcntl(p[0], F_GETFL) | read_flags) != 0)
    return false;
  return lift(read_end) && lift(write_end);
}

struct child_fds {
  int stdin_fd;
  int output;
  int report;
  int max_fd;
};

[[noreturn]] void child_fail(start_stage stage) {
  const start_report r{stage, errno};
  (void)!::write(report_fd, &r, sizeof r);
  ::_exit(127);
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void child_main(const spawn_plan& plan, const child_fds& fds, char* const* argv,
                             char* const* envp, const gid_t* groups) {
  if (::setsid() < 0) {
    (void)::dup2(fds.report, report_fd);
    child_fail(start_stage::setsid);
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) (void)::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(fds.stdin_fd, STDIN_FILENO) < 0 || ::dup2(fds.output, STDOUT_FILENO) < 0 ||
      ::dup2(fds.output, STDERR_FILENO) < 0 || ::dup3(fds.report, report_fd, O_CLOEXEC) < 0) {
    (void)::dup2(fds.report, report_fd);
    child_fail(start_stage::descriptors);
  }
  if (::close_range(report_fd + 1, ~0U, 0) != 0) {
    for (int fd = report_fd + 1; fd < fds.max_fd; ++fd) (void)::close(fd);
  }
  if (plan.switch_user) {
    if (::setgroups(plan.user->groups.size(), groups) != 0) child_fail(start_stage::setgroups);
    if (::setgid(plan.user->gid) != 0) child_fail(start_stage::setgid);
    if (::setuid(plan.user->uid) != 0) child_fail(start_stage::setuid);
  }
  if (::chdir(plan.cwd.c_str()) != 0) child_fail(start_stage::chdir);
  ::execve(plan.program.c_str(), argv, envp);
  child_fail(start_stage::exec);
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value) {
  const std::string prefix = key + "=";
  for (auto& e : env) {
    if (e.compare(0, prefix.size(), prefix) == 0) {
      e = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

// The reason o cannot run, or "".
std::string check_options(const run_options& o) {
  if (o.argv.empty() || o.argv[0].empty()) return "no program: argv is empty";
  for (std::size_t i = 0; i < o.argv.size(); ++i) {
    if (o.argv[i].find('\0') != std::string::npos)
      return "argv[" + std::to_string(i) + "] contains a NUL byte";
  }
  for (const auto& [key, value] : o.env) {
    if (key.empty() || key.find_first_of(std::string_view("=\0", 2)) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return "environment variable \"" + key +
             "\": the name must be non-empty without '=' or NUL, the value without NUL";
    }
  }
  if (o.timeout.count() <= 0)
    return "timeout " + std::to_string(o.timeout.count()) + " ms is not positive";
  if (o.kill_grace.count() < 0)
    return "kill_grace " + std::to_string(o.kill_grace.count()) + " ms is negative";
  std::error_code ec;
  if (!std::filesystem::is_directory(o.cwd, ec))
    return "working directory " + o.cwd.string() + " is not a directory";
  return {};
}

}  // namespace

std::optional<user_identity> lookup_user(const std::string& user, std::string& error) {
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found)) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) {
    error = "user \"" + user + "\": " + (rc == 0 ? std::string("no such user") : errno_text(rc));
    return std::nullopt;
  }
  user_identity id{pw.pw_name, pw.pw_uid, pw.pw_gid, {}, pw.pw_dir};
  int count = 32;
  id.groups.resize(static_cast<std::size_t>(count));
  while (::getgrouplist(pw.pw_name, pw.pw_gid, id.groups.data(), &count) < 0) {
    id.groups.resize(static_cast<std::size_t>(count) + 32);
    count = static_cast<int>(id.groups.size());
  }
  id.groups.resize(static_cast<std::size_t>(count));
  return id;
}

user_identity current_user() {
  const uid_t uid = ::geteuid();
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return {pw.pw_name, uid, ::getegid(), {}, pw.pw_dir};
  }
  return {std::to_string(uid), uid, ::getegid(), {}, "/"};
}

std::optional<spawn_plan> prepare_spawn(const run_options& o, std::string& error) {
  error = check_options(o);
  if (!error.empty()) return std::nullopt;
  spawn_plan plan;
  if (o.user) {
    plan.user = lookup_user(*o.user, error);
    if (!plan.user) return std::nullopt;
    // Running as oneself needs no switch (and an unprivileged process could not setgroups).
    plan.switch_user = ::geteuid() == 0 || plan.user->uid != ::geteuid();
  }
  const std::filesystem::path program(o.argv[0]);
  plan.program = (program.is_absolute() ? program : o.cwd / program).string();
  error = o.user ? check_executable(plan.program, *o.user) : check_executable(plan.program);
  if (!error.empty()) return std::nullopt;
  plan.argv = o.argv;
  plan.cwd = o.cwd.string();
  const user_identity who = plan.user ? *plan.user : current_user();
  set_env(plan.env, "PATH", default_path);
  set_env(plan.env, "HOME", who.home);
  set_env(plan.env, "USER", who.name);
  set_env(plan.env, "LOGNAME", who.name);
  set_env(plan.env, "LANG", "C");
  for (const auto& [key, value] : o.env) set_env(plan.env, key, value);
  return plan;
}

std::optional<spawned_child> spawn(const spawn_plan& plan, std::string& error) {
  unique_fd out_read, out_write, report_read, report_write;
  unique_fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd || !lift(null_fd) || !make_pipe(out_read, out_write, O_NONBLOCK) ||
      !make_pipe(report_read, report_write, 0)) {
    error = "cannot set up the child's descriptors: " + errno_text(errno);
    return std::nullopt;
  }
  rlimit files{};
  const int max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                         ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20))
                         : 1024;
  const auto argv = c_strings(plan.argv);
  const auto envp = c_strings(plan.env);
  const child_fds fds{null_fd.get(), out_write.get(), report_write.get(), max_fd};
  const gid_t* groups = plan.user ? plan.user->groups.data() : nullptr;
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = "cannot fork: " + errno_text(errno);
    return std::nullopt;
  }
  if (pid == 0) child_main(plan, fds, argv.data(), envp.data(), groups);
  return spawned_child{pid, std::move(out_read), std::move(report_read)};
}

std::string describe_start_failure(const spawn_plan& plan, const void* data, std::size_t size) {
  if (size < sizeof(start_report))
    return "cannot start " + plan.program + ": incomplete start report";
  start_report r{};
  std::memcpy(&r, data, sizeof r);
  const std::string why = errno_text(r.error);
  const std::string who = plan.user ? plan.user->name : std::string("?");
  switch (r.stage) {
    case start_stage::setsid:
      return "cannot start " + plan.program + ": setsid: " + why;
    case start_stage::descriptors:
      return "cannot start " + plan.program + ": setting up stdin/stdout/stderr: " + why;
    case start_stage::setgroups:
    case start_stage::setgid:
    case start_stage::setuid:
      return "cannot start " + plan.program + " as user \"" + who + "\": switching user: " + why;
    case start_stage::chdir:
      return "cannot start " + plan.program + ": working directory " + plan.cwd + ": " + why;
    case start_stage::exec:
      if (r.error == ENOEXEC)
        return "cannot execute " + plan.program +
               ": not an executable format (a script without a #! line?)";
      return "cannot execute " + plan.program + ": " + why;
  }
  return "cannot start " + plan.program + ": " + why;
}

}  // namespace hasys::sys::detail
