// The HTTPS listener (see http_server.hpp).
#include "http_server.hpp"

#include <hasys/daemon/spawn.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

namespace hasys::manager {

struct http_server::impl : std::enable_shared_from_this<impl> {
  asio::any_io_executor ex;
  asio::ssl::context& tls;
  options opt;
  handler handle;
  stream_handler open_stream;
  tcp::acceptor acceptor;
  counters stats;

  impl(asio::any_io_executor e, asio::ssl::context& t, options o, handler h, stream_handler sh)
      : ex(e),
        tls(t),
        opt(std::move(o)),
        handle(std::move(h)),
        open_stream(std::move(sh)),
        acceptor(e) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(opt.address, ec);
    if (ec) throw std::runtime_error("manager API: " + opt.address + " is not an IP address");
    tcp::endpoint ep(address, opt.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("manager API: cannot listen on " + opt.address + ":" +
                               std::to_string(opt.port) + ": " + ec.message());
  }

  static http_request to_request(const http::request<http::string_body>& r, std::string remote) {
    http_request q;
    q.method = std::string(r.method_string());
    q.target = std::string(r.target());
    for (const auto& f : r) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      q.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    q.body = r.body();
    q.remote = std::move(remote);
    return q;
  }

  static http::response<http::string_body> to_response(http_response&& a, unsigned version,
                                                       bool keep_alive) {
    http::response<http::string_body> r{static_cast<http::status>(a.status), version};
    r.set(http::field::server, "hasys-manager-api");
    r.set(http::field::content_type, a.content_type);
    // Security headers on everything (the UI is served from here too).
    r.set(http::field::strict_transport_security, "max-age=31536000");
    r.set("X-Content-Type-Options", "nosniff");
    r.set("X-Frame-Options", "DENY");
    r.set("Referrer-Policy", "no-referrer");
    bool cache_set = false;
    for (auto& [k, v] : a.headers) {
      if (beast::iequals(k, "cache-control")) cache_set = true;
      r.insert(k, v);
    }
    if (!cache_set) r.set(http::field::cache_control, "no-store");
    r.body() = std::move(a.body);
    r.keep_alive(keep_alive);
    r.prepare_payload();
    return r;
  }

  static http_response error(int status, const std::string& text) {
    return {status, "application/json", "{\"error\":\"" + text + "\"}", {}};
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    struct open_guard {
      counters& c;
      explicit open_guard(counters& x) : c(x) { ++c.open; }
      ~open_guard() { --c.open; }
    } guard(stats);
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      remote = ec ? "" : ep.address().to_string();
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
    beast::get_lowest_layer(stream).expires_after(opt.handshake_timeout);
    auto [hs_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                   asio::as_tuple(asio::use_awaitable));
    if (hs_ec) {
      ++stats.handshake_failures;
      co_return;
    }
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opt.body_limit);
      parser.header_limit(16 * 1024);
      // The idle wait and the request itself share one deadline per request: a client that
      // trickles bytes is cut off like one that sends nothing.
      beast::get_lowest_layer(stream).expires_after(first ? opt.read_timeout
                                                          : opt.idle_timeout + opt.read_timeout);
      first = false;
      auto [ec, n] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated) break;
      if (ec) {
        http_response answer;
        if (ec == http::error::body_limit) {
          ++stats.too_large;
          answer = error(
              413, "the request body is larger than " + std::to_string(opt.body_limit) + " bytes");
        } else if (ec == beast::error::timeout) {
          ++stats.timeouts;
          break;  // nothing more to say to a client this slow
        } else {
          ++stats.bad_requests;
          answer = error(400, "the request cannot be read: " + ec.message());
        }
        beast::get_lowest_layer(stream).expires_after(opt.read_timeout);
        auto r = to_response(std::move(answer), 11, false);
        co_await http::async_write(stream, r, asio::as_tuple(asio::use_awaitable));
        // A lingering close: what the client is still sending is read and dropped (1 MiB, 1 s
        // at most), so the kernel does not reset the connection under the answer.
        std::size_t drained = 0;
        char scratch[16384];
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
        while (drained < (1u << 20)) {
          auto [dec, got] = co_await stream.async_read_some(asio::buffer(scratch),
                                                            asio::as_tuple(asio::use_awaitable));
          if (dec) break;
          drained += got;
        }
        break;
      }
      auto req = parser.release();
      if (websocket::is_upgrade(req) && open_stream) {
        auto opened = co_await open_stream(to_request(req, remote));
        if (!opened.feed) {
          beast::get_lowest_layer(stream).expires_after(opt.read_timeout);
          auto r = to_response(std::move(opened.refusal), req.version(), false);
          co_await http::async_write(stream, r, asio::as_tuple(asio::use_awaitable));
          break;
        }
        co_await serve_stream(std::move(stream), std::move(req), std::move(opened.feed));
        co_return;
      }
      const bool keep_alive = req.keep_alive();
      const unsigned version = req.version();
      http_response answer;
      try {
        answer = co_await handle(to_request(req, remote));
      } catch (const std::exception& e) {
        ++stats.handler_errors;
        answer = error(500, "internal error");
      }
      beast::get_lowest_layer(stream).expires_after(opt.read_timeout);
      auto r = to_response(std::move(answer), version, keep_alive);
      auto [wec, wn] = co_await http::async_write(stream, r, asio::as_tuple(asio::use_awaitable));
      if (wec || !keep_alive) break;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
  }

  using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  // One WebSocket client: the feed's messages written as they come, each within the write
  // timeout or the client is dropped; its frames read (and ignored) so pings and the close
  // handshake are answered.
  asio::awaitable<void> serve_stream(beast::ssl_stream<beast::tcp_stream> tls_stream,
                                     http::request<http::string_body> req,
                                     std::unique_ptr<stream_feed> feed) {
    ws_stream ws(std::move(tls_stream));
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& r) { r.set(http::field::server, "hasys-manager-api"); }));
    ws.read_message_max(4096);
    auto [ec] = co_await ws.async_accept(req, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    ++stats.streams_open;
    struct closed_guard {
      counters& c;
      ~closed_guard() { --c.streams_open; }
    } guard{stats};
    co_await (write_stream(ws, *feed) || read_stream(ws, *feed));
  }

  asio::awaitable<void> write_stream(ws_stream& ws, stream_feed& feed) {
    for (;;) {
      auto message = co_await feed.next();
      if (!message) {
        co_await ws.async_close(
            websocket::close_reason(websocket::close_code::policy_error, "the session ended"),
            asio::as_tuple(asio::use_awaitable));
        co_return;
      }
      asio::steady_timer deadline(ex, opt.stream_write_timeout);
      auto r =
          co_await (ws.async_write(asio::buffer(*message), asio::as_tuple(asio::use_awaitable)) ||
                    deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (r.index() == 1) {
        ++stats.streams_dropped_slow;  // it did not take one message in time: dropped
        co_return;
      }
      if (std::get<0>(std::get<0>(r))) co_return;
    }
  }

  static asio::awaitable<void> read_stream(ws_stream& ws, stream_feed& feed) {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      if (ws.got_text()) feed.received(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    }
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;  // e.g. EMFILE: the next accept tries again
      ++stats.accepted;
      // Answers go out whole at once: no Nagle wait on the last segment of a response.
      socket.set_option(tcp::no_delay(true), ec);
      if (stats.open >= opt.max_connections) {
        ++stats.refused_full;
        continue;  // closed as it goes out of scope
      }
      auto task = serve(std::move(socket));
      asio::co_spawn(ex, std::move(task), [self](std::exception_ptr) {});
    }
  }
};

http_server::http_server(asio::any_io_executor ex, asio::ssl::context& tls, options o, handler h,
                         stream_handler streams)
    : impl_(std::make_shared<impl>(ex, tls, std::move(o), std::move(h), std::move(streams))) {}
http_server::~http_server() { stop(); }
unsigned short http_server::port() const { return impl_->acceptor.local_endpoint().port(); }
asio::awaitable<void> http_server::run() { return impl_->accept_loop(); }
void http_server::stop() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}
const http_server::counters& http_server::stats() const { return impl_->stats; }

}  // namespace hasys::manager
