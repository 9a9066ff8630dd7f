// The heartbeat's side of the control connection: connect, send desired states, read observed
// ones; reconnect while the executor restarts.
#include "executor_link.hpp"

#include <hasys/daemon/control_socket.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

namespace asio = boost::asio;
using seqpacket = hasys::daemon::control_protocol;

namespace hasys::heartbeat {

struct executor_link::impl {
  asio::any_io_executor ex;
  std::filesystem::path path;
  std::function<void(const proto::observed_state&)> on_observed;
  std::function<void()> on_connected;
  std::function<void()> on_lost;
  seqpacket::socket socket;
  asio::steady_timer timer;
  bool connected = false;
  bool stopped = false;
  std::uint64_t bad = 0;

  impl(asio::any_io_executor e, std::filesystem::path p, std::function<void(const proto::observed_state&)> o,
       std::function<void()> c, std::function<void()> l)
      : ex(e),
        path(std::move(p)),
        on_observed(std::move(o)),
        on_connected(std::move(c)),
        on_lost(std::move(l)),
        socket(e),
        timer(e) {}

  void drop() {
    if (connected && on_lost) on_lost();
    connected = false;
    boost::system::error_code ec;
    socket.close(ec);
  }
};

executor_link::executor_link(asio::any_io_executor ex, std::filesystem::path socket_path,
                             std::function<void(const proto::observed_state&)> on_observed,
                             std::function<void()> on_connected, std::function<void()> on_lost)
    : impl_(std::make_shared<impl>(ex, std::move(socket_path), std::move(on_observed), std::move(on_connected),
                                   std::move(on_lost))) {}

executor_link::~executor_link() { stop(); }

void executor_link::send(const proto::desired_state& d) {
  if (!impl_->connected) return;
  const auto text = proto::to_json(d);
  boost::system::error_code ec;
  // Non-blocking: a full socket buffer means the executor is stuck; the next period re-sends.
  impl_->socket.send(asio::buffer(text), 0, ec);
  if (ec && ec != asio::error::would_block) impl_->drop();
}

bool executor_link::connected() const noexcept { return impl_->connected; }
std::uint64_t executor_link::bad_messages() const noexcept { return impl_->bad; }

asio::awaitable<void> executor_link::run(std::chrono::nanoseconds retry) {
  auto self = impl_;
  std::vector<char> buf(64 * 1024);  // an observed state lists every resource of the flow
  while (!self->stopped) {
    if (!self->connected) {
      self->socket = seqpacket::socket(self->ex);
      auto [ec] = co_await self->socket.async_connect(daemon::control_endpoint(self->path),
                                                      asio::as_tuple(asio::use_awaitable));
      if (self->stopped) co_return;
      if (ec) {
        self->drop();
        self->timer.expires_after(retry);
        co_await self->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      self->socket.non_blocking(true);
      self->connected = true;
      self->on_connected();
    }
    asio::socket_base::message_flags flags = 0;
    auto [ec, n] = co_await self->socket.async_receive(asio::buffer(buf), flags,
                                                       asio::as_tuple(asio::use_awaitable));
    if (self->stopped) co_return;
    if (ec || n == 0) {  // the executor went away: reconnect
      self->drop();
      continue;
    }
    if (auto o = proto::from_json<proto::observed_state>(std::string_view(buf.data(), n)))
      self->on_observed(*o);
    else
      ++self->bad;
  }
}

void executor_link::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->timer.cancel();
  impl_->drop();
}

}  // namespace hasys::heartbeat
