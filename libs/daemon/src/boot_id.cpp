// Boot ids and small persisted numbers, written with write-to-temp-then-rename.
#include <hasys/daemon/boot_id.hpp>

#include <chrono>
#include <fstream>
#include <stdexcept>

namespace hasys::daemon {

std::uint64_t read_number(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::uint64_t v = 0;
  if (in >> v) return v;
  return 0;
}

void write_file_atomically(const std::filesystem::path& file, std::string_view text) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
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
