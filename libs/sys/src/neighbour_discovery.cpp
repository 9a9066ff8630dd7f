// Gratuitous ARP, unsolicited NA and duplicate-address probes on AF_PACKET sockets.
#include <hasys/sys/address.hpp>
#include <hasys/sys/neighbour_discovery.hpp>

#include "packet_socket.hpp"
#include "packets.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <functional>

namespace hasys::sys {

namespace {

using detail::ethertype_arp;
using detail::ethertype_ipv6;
namespace sys_errc = boost::system::errc;

// Opens a packet socket and sends payload `count` times; diag names the operation on failure.
boost::system::error_code send_repeated(int ifindex, std::uint16_t ethertype,
                                        const mac_address& destination,
                                        std::span<const std::uint8_t> payload, int count,
                                        const std::string& what, diagnostics& diag) {
  diag.message.clear();
  if (count < 1) {
    diag.message = what + " on " + describe_interface(ifindex) + ": count " +
                   std::to_string(count) + " is not at least 1";
    return make_error_code(sys_errc::invalid_argument);
  }
  boost::system::error_code ec;
  const int fd = detail::shared_send_socket(ec);  // never closed: see packet_socket.hpp
  for (int i = 0; !ec && i < count; ++i) ec = detail::send_frame(fd, ifindex, ethertype, destination, payload);
  if (ec) diag.message = what + " on " + describe_interface(ifindex) + ": " + ec.message();
  return ec;
}

// What a probe sends, and how a received frame is read as a claim on the address.
struct probe_plan {
  std::uint16_t ethertype = 0;
  mac_address destination{};
  std::vector<std::uint8_t> probe;
  std::function<std::optional<mac_address>(const detail::received_frame&)> claim;
};

probe_plan ipv4_plan(const boost::asio::ip::address_v4& ip, const mac_address& self) {
  return {ethertype_arp, detail::broadcast_mac, detail::encode_arp(detail::arp_probe(ip, self)),
          [ip](const detail::received_frame& f) -> std::optional<mac_address> {
            const auto m = detail::decode_arp(f.payload);
            return m ? detail::arp_claim(*m, ip) : std::nullopt;
          }};
}

probe_plan ipv6_plan(const boost::asio::ip::address_v6& ip) {
  return {ethertype_ipv6, detail::multicast_mac(detail::solicited_node_group(ip)),
          detail::encode_dad_solicitation(ip),
          [ip](const detail::received_frame& f) -> std::optional<mac_address> {
            const auto na = detail::decode_na(f.payload);
            if (!na || na->target != ip) return std::nullopt;
            return na->target_mac ? na->target_mac : f.source;
          }};
}

// Reads every frame waiting on fd and records the claims of other MACs.
boost::system::error_code collect_claims(int fd, const probe_plan& plan, const mac_address& self,
                                         std::vector<mac_address>& found) {
  boost::system::error_code ec;
  while (auto frame = detail::receive_frame(fd, ec)) {
    if (frame->outgoing) continue;
    const auto mac = plan.claim(*frame);
    if (mac && *mac != self && std::find(found.begin(), found.end(), *mac) == found.end()) {
      found.push_back(*mac);
    }
  }
  return ec;
}

boost::asio::awaitable<boost::system::result<std::vector<mac_address>>> run_probe(
    boost::asio::any_io_executor ex, int ifindex, probe_plan plan, mac_address self,
    std::chrono::milliseconds wait, int probes) {
  using namespace boost::asio::experimental::awaitable_operators;
  using clock = std::chrono::steady_clock;
  boost::system::error_code ec;
  auto fd = detail::open_packet_socket(ifindex, plan.ethertype, ec);
  if (ec) co_return ec;
  const int raw = fd.get();
  boost::asio::posix::stream_descriptor readable(ex, fd.release());
  // Closed on the closer's thread, not this one (packet_socket.hpp), whichever way this ends.
  struct hand_over {
    boost::asio::posix::stream_descriptor& d;
    ~hand_over() {
      boost::system::error_code ignored;
      d.cancel(ignored);
      detail::close_in_background(detail::unique_fd(d.release()));
    }
  } closing{readable};
  boost::asio::steady_timer timer(ex);
  std::vector<mac_address> found;
  const auto start = clock::now();
  const auto deadline = start + wait;
  for (int sent = 0;;) {
    const auto next_probe = start + wait * sent / probes;
    if (sent < probes && clock::now() >= next_probe) {
      if (auto send_ec =
              detail::send_frame(raw, ifindex, plan.ethertype, plan.destination, plan.probe)) {
        co_return send_ec;
      }
      ++sent;
      continue;
    }
    if (clock::now() >= deadline) break;
    timer.expires_at(sent < probes ? std::min(next_probe, deadline) : deadline);
    const auto woke = co_await (readable.async_wait(boost::asio::posix::descriptor_base::wait_read,
                                                    boost::asio::use_awaitable) ||
                                timer.async_wait(boost::asio::use_awaitable));
    if (woke.index() == 0) {
      if (auto read_ec = collect_claims(raw, plan, self, found)) co_return read_ec;
    }
  }
  // Frames that arrived in the last instant are still claims within `wait`.
  if (auto read_ec = collect_claims(raw, plan, self, found)) co_return read_ec;
  co_return found;
}

}  // namespace

boost::system::error_code send_gratuitous_arp(int ifindex, const boost::asio::ip::address_v4& ip,
                                              const mac_address& mac, int count) {
  diagnostics diag;
  return send_gratuitous_arp(ifindex, ip, mac, count, diag);
}

boost::system::error_code send_gratuitous_arp(int ifindex, const boost::asio::ip::address_v4& ip,
                                              const mac_address& mac, int count,
                                              diagnostics& diag) {
  const auto payload = detail::encode_arp(detail::gratuitous_arp(ip, mac));
  return send_repeated(ifindex, ethertype_arp, detail::broadcast_mac, payload, count,
                       "gratuitous ARP for " + ip.to_string() + " (" + to_string(mac) + ")", diag);
}

boost::system::error_code send_unsolicited_na(int ifindex, const boost::asio::ip::address_v6& ip,
                                              const mac_address& mac, int count) {
  diagnostics diag;
  return send_unsolicited_na(ifindex, ip, mac, count, diag);
}

boost::system::error_code send_unsolicited_na(int ifindex, const boost::asio::ip::address_v6& ip,
                                              const mac_address& mac, int count,
                                              diagnostics& diag) {
  const auto packet = detail::encode_unsolicited_na(ip, mac);
  return send_repeated(
      ifindex, ethertype_ipv6, detail::multicast_mac(detail::all_nodes()), packet, count,
      "unsolicited neighbour advertisement for " + ip.to_string() + " (" + to_string(mac) + ")",
      diag);
}

boost::asio::awaitable<boost::system::result<std::vector<mac_address>>> probe_address(
    boost::asio::any_io_executor ex, int ifindex, boost::asio::ip::address ip, mac_address self,
    std::chrono::milliseconds wait, int probes) {
  if (probes < 1 || wait.count() < 0) co_return make_error_code(sys_errc::invalid_argument);
  auto plan = ip.is_v4() ? ipv4_plan(ip.to_v4(), self) : ipv6_plan(ip.to_v6());
  co_return co_await run_probe(std::move(ex), ifindex, std::move(plan), self, wait, probes);
}

}  // namespace hasys::sys
