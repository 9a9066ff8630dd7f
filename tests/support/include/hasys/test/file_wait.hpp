// Waiting for a file a child process writes (a port file, a ready marker): inotify on its folder
// and the child's pidfd, so the wait ends the moment the file is closed or the child dies.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace hasys::test {

class child_process;

class file_watch {
 public:
  // Watch the folder before the child starts, so the write cannot be missed.
  explicit file_watch(const std::filesystem::path& folder);
  ~file_watch();
  file_watch(const file_watch&) = delete;
  file_watch& operator=(const file_watch&) = delete;
  // The file's content once it exists and is non-empty; nothing when the child exited or the
  // deadline passed first.
  std::optional<std::string> wait_for(const std::filesystem::path& file, child_process& child,
                                      std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
};

}  // namespace hasys::test
