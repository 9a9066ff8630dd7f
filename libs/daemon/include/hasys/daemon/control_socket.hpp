// The local control connection between heartbeat and executor: AF_UNIX SOCK_SEQPACKET
// (message boundaries kept, and the peer's death seen at once as end-of-file). Asio 1.26 has no
// local::seq_packet_protocol, so this builds the generic protocol and endpoint for a path.
#pragma once

#include <boost/asio/generic/seq_packet_protocol.hpp>

#include <filesystem>

namespace hasys::daemon {

using control_protocol = boost::asio::generic::seq_packet_protocol;

// Throws std::invalid_argument when the path does not fit in sockaddr_un.
control_protocol::endpoint control_endpoint(const std::filesystem::path& path);
inline control_protocol control_protocol_unix() { return control_protocol(AF_UNIX, 0); }

}  // namespace hasys::daemon
