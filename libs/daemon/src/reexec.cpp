#include <hasys/daemon/reexec.hpp>

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace hasys::daemon {

namespace {
std::vector<std::string>& arguments() {
  static std::vector<std::string> a;
  return a;
}
}  // namespace

void remember_command_line(int argc, char** argv) { arguments().assign(argv, argv + argc); }

std::string restart_in_place() {
  if (arguments().empty()) return "the command line was not remembered";
  std::vector<char*> argv;
  for (auto& a : arguments()) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Every descriptor but the standard three closes with the old image (sockets opened without
  // SOCK_CLOEXEC included).
  if (::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
    return std::string("close_range: ") + std::strerror(errno);
  ::execv("/proc/self/exe", argv.data());
  return std::string("exec /proc/self/exe: ") + std::strerror(errno);
}

}  // namespace hasys::daemon
