// Accept loop and per-connection read loop of the control socket; a new heartbeat connection
// replaces the old one, which counts as lost.
#include "control_server.hpp"

#include <hasys/daemon/control_socket.hpp>
#include <hasys/daemon/spawn.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/stat.h>

#include <array>
#include <stdexcept>

namespace asio = boost::asio;
using protocol = hasys::daemon::control_protocol;

namespace hasys::executor {

struct control_server::impl : std::enable_shared_from_this<impl> {
  asio::any_io_executor ex;
  std::filesystem::path path;
  handlers h;
  asio::basic_socket_acceptor<protocol> acceptor;
  std::shared_ptr<protocol::socket> current;
  std::uint64_t generation = 0;
  std::uint64_t bad = 0, send_failed = 0;
  bool draining = false;

  impl(asio::any_io_executor e, std::filesystem::path p, handlers hs)
      : ex(e), path(std::move(p)), h(std::move(hs)), acceptor(e) {
    std::error_code fec;
    std::filesystem::create_directories(path.parent_path(), fec);
    std::filesystem::remove(path, fec);
    boost::system::error_code ec;
    acceptor.open(daemon::control_protocol_unix(), ec);
    if (!ec) acceptor.bind(daemon::control_endpoint(path), ec);
    if (!ec) acceptor.listen(4, ec);
    if (ec) throw std::runtime_error("control socket " + path.string() + ": " + ec.message());
    ::chmod(path.c_str(), 0600);
  }

  void dispatch(std::string_view text) {
    if (auto d = proto::from_json<proto::desired_state>(text)) {
      if (!h.desired(*d)) ++bad;  // a group this executor does not have
    } else {
      ++bad;  // DESIGN §2.5: dropped and counted
    }
  }

  asio::awaitable<void> read(std::shared_ptr<protocol::socket> s, std::uint64_t gen) {
    auto keep = shared_from_this();
    std::array<char, 16384> buf;
    for (;;) {
      asio::socket_base::message_flags flags = 0;
      auto [ec, n] = co_await s->async_receive(asio::buffer(buf), flags, asio::as_tuple(asio::use_awaitable));
      if (gen != generation) co_return;  // replaced by a newer connection
      if (ec || n == 0) {
        current.reset();
        // A reset is a close with our answers still unread: the same death of the peer process.
        const bool closed = !ec || ec == asio::error::connection_reset || ec == asio::error::eof;
        h.lost(closed ? "hasys-heartbeat closed its connection (stopped or killed)"
                      : "hasys-heartbeat connection failed: " + ec.message());
        co_return;
      }
      dispatch(std::string_view(buf.data(), n));
    }
  }
};

control_server::control_server(asio::any_io_executor ex, std::filesystem::path path, handlers h)
    : impl_(std::make_shared<impl>(ex, std::move(path), std::move(h))) {}

control_server::~control_server() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  std::error_code fec;
  std::filesystem::remove(impl_->path, fec);
}

asio::awaitable<void> control_server::run() {
  auto self = impl_;
  for (;;) {
    auto s = std::make_shared<protocol::socket>(self->ex);
    auto [ec] = co_await self->acceptor.async_accept(*s, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    s->non_blocking(true);
    const bool replaced = self->current != nullptr;
    if (replaced) {
      boost::system::error_code ignored;
      self->current->close(ignored);
    }
    self->current = s;
    const auto gen = ++self->generation;
    // A heartbeat connects again only when its connection or the process behind it died: the
    // old one is as good as closed, even if its end-of-file has not been read yet (F9).
    if (replaced) self->h.lost("hasys-heartbeat connected again before its old connection closed (it restarted)");
    self->h.connected();
    daemon::spawn_or_die(self->ex, self->read(s, gen), "control connection");
  }
}

void control_server::send(const proto::observed_state& o) {
  if (!impl_->current) return;
  const auto text = proto::to_json(o);
  boost::system::error_code ec;
  impl_->current->send(asio::buffer(text), 0, ec);  // a full buffer: the next desired gets an answer
  if (ec) ++impl_->send_failed;
}

bool control_server::connected() const noexcept { return impl_->current != nullptr; }

void control_server::drain() {
  // The read coroutine's pending receive stays armed; it simply finds nothing left to read. A
  // group's feed() calls this, and a message read here may feed another group: read once.
  if (impl_->draining) return;
  impl_->draining = true;
  struct done_t {
    impl* i;
    ~done_t() { i->draining = false; }
  } done{impl_.get()};
  std::array<char, 16384> buf;
  for (int i = 0; i < 64 && impl_->current; ++i) {
    boost::system::error_code ec;
    asio::socket_base::message_flags out_flags = 0;
    const auto n = impl_->current->receive(asio::buffer(buf), 0, out_flags, ec);
    if (ec || n == 0) return;  // would_block: nothing waits; EOF and errors: the read loop's to handle
    impl_->dispatch(std::string_view(buf.data(), n));
  }
}
std::uint64_t control_server::bad_messages() const noexcept { return impl_->bad; }
std::uint64_t control_server::send_failures() const noexcept { return impl_->send_failed; }

}  // namespace hasys::executor
