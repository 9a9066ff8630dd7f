// A small HTTPS client for tests (see https_client.hpp).
#include <hasys/test/https_client.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <stdexcept>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace hasys::test {

std::string https_response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

https_response https_client::request(const std::string& method, const std::string& target,
                                     const std::string& body,
                                     std::vector<std::pair<std::string, std::string>> headers,
                                     std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);  // the manager's self-signed certificate
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(timeout);
  https_response out;
  std::exception_ptr error;
  auto run = [&]() -> void {
    tcp.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host_), port_));
    stream.handshake(asio::ssl::stream_base::client);
    tls_version = SSL_get_version(stream.native_handle());
    cipher = SSL_get_cipher_name(stream.native_handle());
    http::request<http::string_body> rq{http::string_to_verb(method), target, 11};
    rq.set(http::field::host, host_);
    if (!cookie.empty()) rq.set(http::field::cookie, cookie);
    if (!csrf.empty() && method != "GET" && method != "HEAD") rq.set("X-CSRF-Token", csrf);
    if (!body.empty()) rq.set(http::field::content_type, "application/json");
    for (auto& [k, v] : headers) rq.set(k, v);
    rq.body() = body;
    rq.prepare_payload();
    http::write(stream, rq);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buf, parser);
    auto rs = parser.release();
    out.status = static_cast<int>(rs.result_int());
    out.body = rs.body();
    for (const auto& f : rs) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers.emplace(name, std::string(f.value()));
    }
    auto set = out.header("set-cookie");
    if (!set.empty()) {
      auto v = set.substr(0, set.find(';'));
      cookie = v.ends_with("=") ? "" : v;
    }
  };
  try {
    run();
  } catch (const std::exception& e) {
    throw std::runtime_error("https " + method + " " + target + ": " + e.what());
  }
  if (!capture_file.empty()) {
    boost::json::object x{{"method", method},
                          {"target", target},
                          {"status", out.status},
                          {"content_type", out.header("content-type")},
                          {"body", ""}};
    // Text bodies only: a file (XLSX) is not UTF-8 and has no schema to check.
    const auto type = out.header("content-type");
    if (type.starts_with("application/json") || type.starts_with("text/"))
      x["body"] = out.body;
    std::ofstream(capture_file, std::ios::app) << boost::json::serialize(x) << '\n';
  }
  beast::error_code ec;
  tcp.expires_after(std::chrono::seconds(1));
  stream.shutdown(ec);
  return out;
}

https_response https_client::login(const std::string& user, const std::string& password) {
  boost::json::object b{{"user", user}, {"password", password}};
  auto r = request("POST", "/api/v1/session", boost::json::serialize(b));
  if (r.status == 200) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (!ec && v.is_object())
      if (auto* c = v.as_object().if_contains("csrf"); c && c->is_string())
        csrf = std::string(c->as_string());
  }
  return r;
}

}  // namespace hasys::test
