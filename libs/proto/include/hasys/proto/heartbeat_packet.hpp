// Heartbeat packets between the two nodes of a group (D1, B1): binary, HMAC-SHA256, replay guard.
#pragma once

#include <hasys/cluster/types.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::proto {

// Wire layout, all integers big-endian:
//   0  magic "HSYB"           4
//   4  version (1)            1
//   5  role                   1
//   6  mode                   1
//   7  flags                  1   bit 0 gateway_ok, 1 healthy, 2 active_priority, 3 handover,
//                                 4 handover_request, 5 held; 6-7 reserved, must be 0
//   8  boot_id                8
//  16  seq                    8   per sender, strictly increasing over both links
//  24  epoch                  8
//  32  sent_unix_ns           8   sender's wall clock (display only, never trusted for order)
//  40  group length g, group  1+g (1..20)
//      node length n, node    1+n (1..15)
//      health_failing         1   version 2 only: managed monitors failing, 0 when healthy (F11)
//      hmac-sha256            32  over every byte before it, keyed with the group key
// Version 1 (no health_failing; an unhealthy sender counts as failing 1) is still read, so a pair
// can be upgraded one node at a time.
inline constexpr std::size_t max_packet_size = 40 + 1 + 20 + 1 + 15 + 1 + 32;
inline constexpr std::uint8_t packet_version = 2;

struct heartbeat_packet {
  std::string group;
  std::string node;
  std::uint64_t seq = 0;
  std::int64_t sent_unix_ns = 0;
  cluster::peer_report report;  // role, mode, epoch, boot_id, flags
};

// HMAC-SHA256 (RFC 2104) of data under key.
std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key,
                                         std::span<const std::uint8_t> data) noexcept;

// Serialises and signs; the key must not be empty. Names longer than the wire limits throw
// std::invalid_argument (configuration validation keeps them out).
std::vector<std::uint8_t> encode(const heartbeat_packet& p, std::span<const std::uint8_t> key);

// Why a received datagram was dropped.
enum class drop_reason : std::uint8_t { malformed, foreign_group, bad_mac, unknown_sender, replayed };
std::string_view to_string(drop_reason r) noexcept;

struct decode_result {
  bool ok = false;
  drop_reason reason = drop_reason::malformed;
  heartbeat_packet packet;  // valid when ok
};

// Parses and authenticates one datagram for `group` (constant-time MAC check). Never throws.
decode_result decode(std::span<const std::uint8_t> datagram, std::string_view group,
                     std::span<const std::uint8_t> key);

// Replay protection for one sender (B1): a boot id that never goes back, and within a boot a
// 64-packet sliding window over the sequence, shared by both links (packets may arrive out of
// order across the two networks, but each sequence number is accepted once).
class replay_guard {
 public:
  // `floor` is the highest boot id known from before this process started (persisted), so an
  // old packet recorded before our restart is not taken for a new boot of the peer.
  explicit replay_guard(std::uint64_t floor = 0) : boot_(floor) {}
  // True when (boot_id, seq) is fresh; records it. Call only for authenticated packets.
  bool accept(std::uint64_t boot_id, std::uint64_t seq) noexcept;
  std::uint64_t boot_id() const noexcept { return boot_; }

 private:
  std::uint64_t boot_ = 0;
  std::uint64_t highest_ = 0;
  std::uint64_t window_ = 0;  // bit i: highest_ - i was seen
  bool started_ = false;      // a packet of boot_ was accepted
};

// Per-reason counters of dropped datagrams, plus the accepted ones.
struct packet_counters {
  std::uint64_t accepted = 0;
  std::array<std::uint64_t, 5> dropped{};  // indexed by drop_reason
  void count(drop_reason r) noexcept { ++dropped[static_cast<std::size_t>(r)]; }
  std::uint64_t dropped_total() const noexcept;
};

// Everything a receiver checks, in order: shape, group, MAC, sender name, replay.
class packet_verifier {
 public:
  packet_verifier(std::string group, std::string peer, std::vector<std::uint8_t> key,
                  std::uint64_t peer_boot_floor = 0);
  // The authenticated packet from the peer, or nothing (and the drop is counted).
  const heartbeat_packet* verify(std::span<const std::uint8_t> datagram);
  const packet_counters& counters() const noexcept { return counters_; }
  std::uint64_t peer_boot_id() const noexcept { return guard_.boot_id(); }

 private:
  std::string group_, peer_;
  std::vector<std::uint8_t> key_;
  replay_guard guard_;
  packet_counters counters_;
  decode_result last_;
};

}  // namespace hasys::proto
