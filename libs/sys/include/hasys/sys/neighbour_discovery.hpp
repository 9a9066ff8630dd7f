// Gratuitous ARP, unsolicited neighbour advertisements and duplicate-address probes (CAP_NET_RAW).
#pragma once

#include <hasys/sys/error.hpp>
#include <hasys/sys/link.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <vector>

namespace hasys::sys {

// `count` gratuitous ARP requests, back to back, broadcast on the interface: sender IP = target
// IP = ip, sender MAC = mac. Neighbours holding ip in their ARP cache move it to mac. For spaced
// repeats (some switches drop bursts), call again from a timer.
boost::system::error_code send_gratuitous_arp(int ifindex, const boost::asio::ip::address_v4& ip,
                                              const mac_address& mac, int count = 1);
boost::system::error_code send_gratuitous_arp(int ifindex, const boost::asio::ip::address_v4& ip,
                                              const mac_address& mac, int count, diagnostics& diag);

// `count` unsolicited neighbour advertisements (override flag, target link-layer address option)
// to all-nodes (ff02::1) for ip, hop limit 255; the kernel picks the source address.
boost::system::error_code send_unsolicited_na(int ifindex, const boost::asio::ip::address_v6& ip,
                                              const mac_address& mac, int count = 1);
boost::system::error_code send_unsolicited_na(int ifindex, const boost::asio::ip::address_v6& ip,
                                              const mac_address& mac, int count, diagnostics& diag);

// Duplicate-address probe: who else claims ip on the link? The MAC addresses (each once) that
// claimed ip within `wait`, excluding `self`.
// IPv4 (RFC 5227): `probes` ARP requests with sender IP 0.0.0.0 and target ip, spread evenly over
// `wait`; a claim is an ARP reply or request whose sender IP is ip.
// IPv6 (RFC 4862 DAD): `probes` neighbour solicitations from :: to ip's solicited-node group; a
// claim is a neighbour advertisement for ip.
// Listens from before the first probe until `wait` has passed, so it always takes `wait`.
// ip and self are taken by value: the coroutine may start after the caller's temporaries are gone.
boost::asio::awaitable<boost::system::result<std::vector<mac_address>>> probe_address(
    boost::asio::any_io_executor ex, int ifindex, boost::asio::ip::address ip, mac_address self,
    std::chrono::milliseconds wait, int probes = 2);

}  // namespace hasys::sys
