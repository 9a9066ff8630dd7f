// read_credentials: the node-local bus's "user:password" file.
#include <hasys/bus/bus.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <fcntl.h>
#include <unistd.h>

namespace hasys::bus {

namespace {

constexpr std::size_t max_file_bytes = 4096;

error_message problem(const std::filesystem::path& file, const std::string& what) {
  return {"bus credentials file " + file.string() + ": " + what};
}

}  // namespace

boost::system::result<std::pair<std::string, std::string>, error_message> read_credentials(
    const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return problem(file, std::string("cannot be opened: ") + std::strerror(errno));
  std::string text;
  char buf[1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return problem(file, std::string("cannot be read: ") + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_file_bytes) {
      ::close(fd);
      return problem(file, "is larger than 4096 bytes; expected one line \"user:password\"");
    }
  }
  ::close(fd);

  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
  if (text.empty()) return problem(file, "is empty; expected one line \"user:password\"");
  if (text.find_first_of("\r\n") != std::string::npos) {
    return problem(file, "has more than one line; expected one line \"user:password\"");
  }
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    return problem(file, "has no ':' between user and password; expected \"user:password\"");
  }
  std::string user = text.substr(0, colon);
  std::string password = text.substr(colon + 1);
  if (user.empty()) return problem(file, "the user (before ':') is empty");
  if (user.find_first_of(" \t") != std::string::npos) {
    return problem(file, "the user \"" + user + "\" contains white space");
  }
  if (password.empty()) return problem(file, "the password (after ':') is empty");
  return std::pair{std::move(user), std::move(password)};
}

}  // namespace hasys::bus

namespace hasys::bus {

options node_options(std::string url, const std::filesystem::path& credentials, std::string name) {
  options o;
  o.url = std::move(url);
  o.name = std::move(name);
  if (!credentials.empty()) {
    auto c = read_credentials(credentials);
    if (!c) throw std::runtime_error(c.error().text);
    o.user = std::move(c->first);
    o.password = std::move(c->second);
  }
  return o;
}

}  // namespace hasys::bus
