// A WebSocket client over TLS for tests (see wss_client.hpp).
#include <hasys/test/wss_client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace hasys::test {

struct wss_client::impl {
  asio::io_context ioc;
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws{ioc, ctx};
  beast::flat_buffer buffer;
  int refused = 0;
  bool is_open = false;
  bool pending = false;  // a read is outstanding (a deadline passed before it finished)
  bool done = false;
  beast::error_code ec;
};

wss_client::wss_client(const std::string& host, std::uint16_t port, const std::string& target,
                       const std::string& cookie, const std::string& origin, int receive_buffer)
    : impl_(std::make_unique<impl>()) {
  auto& i = *impl_;
  i.ctx.set_verify_mode(asio::ssl::verify_none);
  auto& tcp = beast::get_lowest_layer(i.ws);
  const asio::ip::tcp::endpoint server(asio::ip::make_address(host), port);
  if (receive_buffer > 0) {  // before connecting: the window is agreed at the handshake
    tcp.socket().open(server.protocol());
    tcp.socket().set_option(asio::socket_base::receive_buffer_size(receive_buffer));
  }
  tcp.expires_after(std::chrono::seconds(10));
  tcp.connect(server);
  i.ws.next_layer().handshake(asio::ssl::stream_base::client);
  tcp.expires_never();
  i.ws.set_option(websocket::stream_base::decorator([cookie, origin](websocket::request_type& r) {
    if (!cookie.empty()) r.set(beast::http::field::cookie, cookie);
    if (!origin.empty()) r.set(beast::http::field::origin, origin);
  }));
  websocket::response_type res;
  beast::error_code ec;
  i.ws.handshake(res, host + ":" + std::to_string(port), target, ec);
  if (ec) {
    i.refused = static_cast<int>(res.result_int());
    return;
  }
  i.is_open = true;
}

wss_client::~wss_client() = default;
int wss_client::refused_status() const { return impl_->refused; }
bool wss_client::open() const { return impl_->is_open; }

bool wss_client::write(const std::string& text) {
  auto& i = *impl_;
  if (!i.is_open) return false;
  bool done = false;
  beast::error_code ec;
  i.ws.async_write(asio::buffer(text), [&](beast::error_code e, std::size_t) {
    done = true;
    ec = e;
  });
  i.ioc.restart();
  while (!done && i.ioc.run_one_for(std::chrono::seconds(5))) {
  }
  return done && !ec;
}

std::optional<std::string> wss_client::read(std::chrono::milliseconds timeout) {
  auto& i = *impl_;
  if (!i.is_open) return std::nullopt;
  if (!i.pending) {
    i.pending = true;
    i.done = false;
    i.ws.async_read(i.buffer, [&i](beast::error_code e, std::size_t) {
      i.done = true;
      i.ec = e;
    });
  }
  i.ioc.restart();
  i.ioc.run_for(timeout);
  if (!i.done) return std::nullopt;
  i.pending = false;
  if (i.ec) {
    i.is_open = false;
    return std::nullopt;
  }
  std::string out = beast::buffers_to_string(i.buffer.data());
  i.buffer.consume(i.buffer.size());
  return out;
}

}  // namespace hasys::test
