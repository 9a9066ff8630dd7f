// Waiting for a file a child writes (see file_wait.hpp).
#include <hasys/test/child_process.hpp>
#include <hasys/test/file_wait.hpp>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <fstream>
#include <iterator>

namespace hasys::test {

file_watch::file_watch(const std::filesystem::path& folder)
    : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
  if (fd_ >= 0) ::inotify_add_watch(fd_, folder.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO);
}

file_watch::~file_watch() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> file_watch::wait_for(const std::filesystem::path& file,
                                                child_process& child,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::ifstream in(file);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!text.empty() && text.back() == '\n') return text;
    }
    if (!child.running()) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd fds[2] = {{fd_, POLLIN, 0}, {child.exit_fd(), POLLIN, 0}};
    // Without inotify or pidfd, look again every 10 ms.
    const bool can_sleep = fd_ >= 0 && child.exit_fd() >= 0;
    ::poll(fds, 2, can_sleep ? static_cast<int>(left.count()) : 10);
    char drain[4096];
    while (fd_ >= 0 && ::read(fd_, drain, sizeof drain) > 0) {
    }
  }
}

}  // namespace hasys::test
