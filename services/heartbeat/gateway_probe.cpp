// ICMP echo probing of the gateway over a raw socket, one probe in flight per period.
#include "gateway_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/icmp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <stdexcept>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace hasys::heartbeat {

namespace {

std::uint16_t checksum(std::span<const std::uint8_t> d) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < d.size(); i += 2) sum += (d[i] << 8) | d[i + 1];
  if (d.size() % 2) sum += d.back() << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

std::vector<std::uint8_t> make_echo_request(bool v6, std::uint16_t ident, std::uint16_t seq) {
  std::vector<std::uint8_t> p{static_cast<std::uint8_t>(v6 ? 128 : 8), 0, 0, 0,
                              static_cast<std::uint8_t>(ident >> 8), static_cast<std::uint8_t>(ident),
                              static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq),
                              'h', 'a', 's', 'y', 's', '-', 'g', 'w'};
  if (!v6) {
    auto c = checksum(p);
    p[2] = static_cast<std::uint8_t>(c >> 8);
    p[3] = static_cast<std::uint8_t>(c);
  }
  return p;
}

std::optional<std::uint16_t> parse_echo_reply(bool v6, std::span<const std::uint8_t> d,
                                              std::uint16_t ident) {
  std::size_t at = 0;
  if (!v6) {
    if (d.size() < 20 || (d[0] >> 4) != 4) return std::nullopt;
    at = static_cast<std::size_t>(d[0] & 0x0f) * 4;
  }
  if (d.size() < at + 8) return std::nullopt;
  const std::uint8_t type = d[at];
  if (type != (v6 ? 129 : 0) || d[at + 1] != 0) return std::nullopt;
  const std::uint16_t id = static_cast<std::uint16_t>(d[at + 4] << 8 | d[at + 5]);
  if (id != ident) return std::nullopt;
  return static_cast<std::uint16_t>(d[at + 6] << 8 | d[at + 7]);
}

struct gateway_probe::impl {
  asio::ip::icmp::socket socket;
  asio::ip::icmp::endpoint target;
  asio::steady_timer timer;
  std::chrono::nanoseconds period;
  int count;
  std::uint16_t ident;
  std::function<void()> on_answer;
  std::function<void(bool)> on_change;
  bool v6;
  bool reachable = true;
  bool answered = true;  // the probe in flight was answered
  int misses = 0;
  std::uint16_t seq = 0;
  bool stopped = false;

  impl(asio::any_io_executor ex, asio::ip::address gw, std::chrono::nanoseconds p, int n,
       std::uint16_t id, std::function<void()> answer, std::function<void(bool)> cb)
      : socket(ex), target(gw, 0), timer(ex), period(p), count(n), ident(id),
        on_answer(std::move(answer)), on_change(std::move(cb)), v6(gw.is_v6()) {
    boost::system::error_code ec;
    socket.open(v6 ? asio::ip::icmp::v6() : asio::ip::icmp::v4(), ec);
    if (ec)
      throw std::runtime_error("gateway check: cannot open a raw ICMP socket (" + ec.message() +
                               "): hasys-heartbeat needs CAP_NET_RAW");
    socket.non_blocking(true);
  }

  void verdict(bool ok) {
    if (ok == reachable) return;
    reachable = ok;
    on_change(ok);
  }

  asio::awaitable<void> send_loop() {
    while (!stopped) {
      if (!answered && ++misses >= count) verdict(false);
      answered = false;
      ++seq;
      auto req = make_echo_request(v6, ident, seq);
      boost::system::error_code ec;
      socket.send_to(asio::buffer(req), target, 0, ec);  // a send error is a miss
      timer.expires_after(period);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  asio::awaitable<void> receive_loop() {
    std::array<std::uint8_t, 1500> buf;
    asio::ip::icmp::endpoint from;
    while (!stopped) {
      auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buf), from,
                                                        asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;
      if (from.address() != target.address()) continue;
      auto s = parse_echo_reply(v6, std::span(buf.data(), n), ident);
      if (!s || *s != seq) continue;  // a late answer to an older probe proves little
      answered = true;
      misses = 0;
      on_answer();
      verdict(true);
    }
  }
};

gateway_probe::gateway_probe(asio::any_io_executor ex, asio::ip::address gateway,
                             std::chrono::nanoseconds period, int count, std::uint16_t ident,
                             std::function<void()> on_answer, std::function<void(bool)> on_change)
    : impl_(std::make_shared<impl>(ex, gateway, period, count, ident, std::move(on_answer),
                                   std::move(on_change))) {}

gateway_probe::~gateway_probe() { stop(); }

asio::awaitable<void> gateway_probe::run() {
  auto self = impl_;  // keeps the state alive while the loops run
  co_await (self->send_loop() && self->receive_loop());
}

void gateway_probe::retime(std::chrono::nanoseconds period, int count) noexcept {
  impl_->period = period;
  impl_->count = count;
}

bool gateway_probe::reachable() const noexcept { return impl_->reachable; }

void gateway_probe::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->timer.cancel();
  impl_->socket.close(ec);
}

}  // namespace hasys::heartbeat
