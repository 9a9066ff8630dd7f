// UDP heartbeat sockets: bound per network, marked as network control traffic (DSCP CS6).
#include "peer_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <stdexcept>

namespace asio = boost::asio;

namespace hasys::heartbeat {

struct peer_socket::impl {
  asio::ip::udp::socket socket;
  asio::ip::udp::endpoint peer;
  std::uint64_t sent = 0;
  std::uint64_t send_errors = 0;
  bool stopped = false;

  explicit impl(asio::any_io_executor ex) : socket(ex) {}
};

peer_socket::peer_socket(asio::any_io_executor ex, const std::string& self_address,
                         const std::string& peer_address, std::uint16_t port, bool direct_only)
    : impl_(std::make_shared<impl>(ex)) {
  boost::system::error_code ec;
  const auto self = asio::ip::make_address(self_address, ec);
  const auto peer = asio::ip::make_address(peer_address, ec);
  if (ec) throw std::runtime_error("heartbeat: bad address " + self_address + " / " + peer_address);
  impl_->peer = {peer, port};
  auto& s = impl_->socket;
  s.open(self.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4());
  s.set_option(asio::ip::udp::socket::reuse_address(true));
  const int on = 1;
  if (self.is_v6()) {
    ::setsockopt(s.native_handle(), IPPROTO_IPV6, IPV6_FREEBIND, &on, sizeof on);
    const int tclass = 0xc0;  // CS6: network control
    ::setsockopt(s.native_handle(), IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof tclass);
  } else {
    ::setsockopt(s.native_handle(), IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
    const int tos = 0xc0;
    ::setsockopt(s.native_handle(), IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  }
  if (direct_only) s.set_option(asio::socket_base::do_not_route(true));
  const int prio = 6;  // ahead of bulk traffic in the interface queue
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio);
  s.bind({self, port}, ec);
  if (ec)
    throw std::runtime_error("heartbeat: cannot bind " + self_address + ":" + std::to_string(port) +
                             ": " + ec.message());
  s.non_blocking(true);
}

peer_socket::~peer_socket() { stop(); }

void peer_socket::send(std::span<const std::uint8_t> datagram) {
  boost::system::error_code ec;
  impl_->socket.send_to(asio::buffer(datagram.data(), datagram.size()), impl_->peer, 0, ec);
  if (ec) ++impl_->send_errors;
  else ++impl_->sent;
}

asio::awaitable<void> peer_socket::receive(std::function<void(std::span<const std::uint8_t>)> on_datagram) {
  auto self = impl_;
  std::array<std::uint8_t, 2048> buf;
  asio::ip::udp::endpoint from;
  while (!self->stopped) {
    auto [ec, n] = co_await self->socket.async_receive_from(asio::buffer(buf), from,
                                                            asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor || self->stopped)
      co_return;
    if (ec) continue;  // e.g. ICMP port unreachable reported on the socket: not a datagram
    on_datagram(std::span(buf.data(), n));
  }
}

std::size_t peer_socket::drain(const std::function<void(std::span<const std::uint8_t>)>& on_datagram,
                               std::size_t max) {
  std::array<std::uint8_t, 2048> buf;
  asio::ip::udp::endpoint from;
  std::size_t n = 0;
  // The receive coroutine's pending read stays armed and simply finds less to read.
  while (n < max && !impl_->stopped) {
    boost::system::error_code ec;
    const auto got = impl_->socket.receive_from(asio::buffer(buf), from, 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) continue;  // e.g. an ICMP error reported on the socket: not a datagram
    on_datagram(std::span(buf.data(), got));
    ++n;
  }
  return n;
}

void peer_socket::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->socket.close(ec);
}

std::uint64_t peer_socket::sent() const noexcept { return impl_->sent; }
std::uint64_t peer_socket::send_errors() const noexcept { return impl_->send_errors; }

}  // namespace hasys::heartbeat
