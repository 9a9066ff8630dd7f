// sockaddr_un endpoints for the generic SOCK_SEQPACKET protocol.
#include <hasys/daemon/control_socket.hpp>

#include <sys/un.h>

#include <cstring>
#include <stdexcept>

namespace hasys::daemon {

control_protocol::endpoint control_endpoint(const std::filesystem::path& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  const std::string s = path.string();
  if (s.empty() || s.size() >= sizeof sa.sun_path)
    throw std::invalid_argument("control socket path too long for sockaddr_un: " + s);
  std::memcpy(sa.sun_path, s.c_str(), s.size() + 1);
  // The last argument is the socket's protocol number (0 for AF_UNIX), not its type.
  return control_protocol::endpoint(&sa, offsetof(sockaddr_un, sun_path) + s.size() + 1, 0);
}

}  // namespace hasys::daemon
