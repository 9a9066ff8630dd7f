// Boot ids and small persisted numbers, written with write-to-temp-then-rename.
#include <hasys/daemon/boot_id.hpp>

#include <chrono>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace hasys::daemon {

std::uint64_t read_number(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::uint64_t v = 0;
  if (in >> v) return v;
  return 0;
}

void write_file_atomically(const std::filesystem::path& file, std::string_view text,
                           unsigned mode) {
  std::error_code ec;
  if (!file.parent_path().empty()) std::filesystem::create_directories(file.parent_path(), ec);
  auto tmp = file;
  tmp += ".tmp";
  ::unlink(tmp.c_str());  // a leftover of a write cut short: its mode may not be ours
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp.string());
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool ok = done == text.size();
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + tmp.string());
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw std::runtime_error("cannot rename " + tmp.string() + " to " + file.string() + ": " + ec.message());
}

void write_number(const std::filesystem::path& file, std::uint64_t value) {
  write_file_atomically(file, std::to_string(value) + "\n");
}

std::uint64_t next_boot_id(const std::filesystem::path& file) {
  using namespace std::chrono;
  const auto wall = static_cast<std::uint64_t>(
      duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count());
  const std::uint64_t id = std::max(wall, read_number(file) + 1);
  write_number(file, id);
  return id;
}

}  // namespace hasys::daemon
