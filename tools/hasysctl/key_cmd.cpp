// hasysctl key generate: a new group key file, 32 random bytes as 64 hex digits, mode 0600.
#include "commands.hpp"

#include <hasys/config/node_config.hpp>

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace hasys::ctl {

namespace {

namespace fs = std::filesystem;
constexpr std::string_view generate_prefix = "hasysctl key generate";

std::string random_hex_key() {
  std::array<unsigned char, config::min_key_bytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("the OpenSSL random generator failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 0x0f];
  }
  return hex + "\n";
}

// Writes text into a new file next to path, mode 0600, then renames it over path: the key is
// never readable by others, and a reader never sees half a key.
bool write_private(const fs::path& path, const std::string& text, std::string& error) {
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot create " + tmp.string() + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  if (!ok) error = "cannot write " + tmp.string() + ": " + std::strerror(errno);
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp.string() + " to " + path.string() + ": " + std::strerror(errno);
    ok = false;
  }
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

int generate(arguments args) {
  constexpr std::array<option_spec, 1> specs{{{"--force", "", false}}};
  std::string error;
  auto opts = parse_options(args, specs, error);
  if (!error.empty()) return usage_error(generate_prefix, error);
  if (opts.positional.size() != 1) return usage_error(generate_prefix, "give one FILE to write");
  fs::path file(opts.positional[0]);
  std::error_code ec;
  if (fs::exists(file, ec) && !opts.has("--force")) {
    std::cerr << generate_prefix << ": " << file.string()
              << " exists; add --force to replace the key (the peer then needs the new one too)\n";
    return exit_failure;
  }
  if (!write_private(file, random_hex_key(), error)) {
    std::cerr << generate_prefix << ": " << error << '\n';
    return exit_failure;
  }
  std::cout << "wrote " << file.string() << ": a " << config::min_key_bytes
            << "-byte group key, mode 0600; copy it to the peer server\n";
  return exit_ok;
}

constexpr std::array<command, 1> commands{{
    {"generate", "FILE [--force]", "write 32 random bytes as 64 hex digits, mode 0600", generate},
}};

}  // namespace

int key_command(arguments args) { return dispatch(commands, "hasysctl key", args); }

}  // namespace hasys::ctl
