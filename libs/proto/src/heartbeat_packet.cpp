// Encoding, authentication and replay checks of heartbeat packets (B1).
#include <hasys/proto/heartbeat_packet.hpp>

#include <algorithm>

// The low-level SHA-256 API is deprecated in OpenSSL 3 but kept: the EVP/HMAC path initialises
// the provider machinery, which touches about 2 MB of libcrypto in every daemon (footprint target
// of issue 2); the plain digest does not. hmac_sha256 is checked against RFC 4231 and EVP in tests.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace hasys::proto {

namespace {

constexpr std::array<std::uint8_t, 4> magic{'H', 'S', 'Y', 'B'};
constexpr std::size_t header_size = 40;
constexpr std::size_t mac_size = 32;
constexpr std::size_t max_group = 20;
constexpr std::size_t max_node = 15;
constexpr std::uint8_t known_flags = 0x3f;

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::array<std::uint8_t, mac_size> mac_of(std::span<const std::uint8_t> data,
                                          std::span<const std::uint8_t> key) {
  return hmac_sha256(key, data);
}

std::uint8_t flags_of(const cluster::peer_report& r) {
  return static_cast<std::uint8_t>(r.gateway_ok << 0 | r.healthy << 1 | r.active_priority << 2 |
                                   r.handover << 3 | r.handover_request << 4 | r.held << 5);
}

void apply_flags(std::uint8_t f, cluster::peer_report& r) {
  r.gateway_ok = f & 1;
  r.healthy = f & 2;
  r.active_priority = f & 4;
  r.handover = f & 8;
  r.handover_request = f & 16;
  r.held = f & 32;
}

bool valid_name_bytes(std::span<const std::uint8_t> s) {
  for (auto c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key,
                                         std::span<const std::uint8_t> data) noexcept {
  constexpr std::size_t block = 64;
  std::array<std::uint8_t, block> k{};
  if (key.size() > block) SHA256(key.data(), key.size(), k.data());  // RFC 2104: hash long keys
  else std::copy(key.begin(), key.end(), k.begin());
  std::array<std::uint8_t, block> pad;
  std::array<std::uint8_t, 32> inner, out;
  SHA256_CTX c;
  for (std::size_t i = 0; i < block; ++i) pad[i] = k[i] ^ 0x36;
  SHA256_Init(&c);
  SHA256_Update(&c, pad.data(), block);
  SHA256_Update(&c, data.data(), data.size());
  SHA256_Final(inner.data(), &c);
  for (std::size_t i = 0; i < block; ++i) pad[i] = k[i] ^ 0x5c;
  SHA256_Init(&c);
  SHA256_Update(&c, pad.data(), block);
  SHA256_Update(&c, inner.data(), inner.size());
  SHA256_Final(out.data(), &c);
  OPENSSL_cleanse(k.data(), k.size());
  return out;
}

std::string_view to_string(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::malformed: return "malformed";
    case drop_reason::foreign_group: return "foreign_group";
    case drop_reason::bad_mac: return "bad_mac";
    case drop_reason::unknown_sender: return "unknown_sender";
    case drop_reason::replayed: return "replayed";
  }
  return "unknown";
}

std::vector<std::uint8_t> encode(const heartbeat_packet& p, std::span<const std::uint8_t> key) {
  if (key.empty()) throw std::invalid_argument("heartbeat key is empty");
  if (p.group.empty() || p.group.size() > max_group || p.node.empty() || p.node.size() > max_node)
    throw std::invalid_argument("heartbeat group or node name out of limits");
  std::vector<std::uint8_t> out;
  out.reserve(max_packet_size);
  out.insert(out.end(), magic.begin(), magic.end());
  out.push_back(packet_version);
  out.push_back(static_cast<std::uint8_t>(p.report.current));
  out.push_back(static_cast<std::uint8_t>(p.report.mode));
  out.push_back(flags_of(p.report));
  put_u64(out, p.report.boot_id);
  put_u64(out, p.seq);
  put_u64(out, p.report.epoch);
  put_u64(out, static_cast<std::uint64_t>(p.sent_unix_ns));
  out.push_back(static_cast<std::uint8_t>(p.group.size()));
  out.insert(out.end(), p.group.begin(), p.group.end());
  out.push_back(static_cast<std::uint8_t>(p.node.size()));
  out.insert(out.end(), p.node.begin(), p.node.end());
  out.push_back(p.report.healthy ? 0 : std::max<std::uint8_t>(1, p.report.health_failing));
  auto mac = mac_of(out, key);
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

decode_result decode(std::span<const std::uint8_t> d, std::string_view group,
                     std::span<const std::uint8_t> key) {
  decode_result r;
  const auto fail = [&r](drop_reason why) {
    r.ok = false;
    r.reason = why;
    return r;
  };
  if (d.size() < header_size + 2 + 2 + mac_size || d.size() > max_packet_size)
    return fail(drop_reason::malformed);
  if (!std::equal(magic.begin(), magic.end(), d.begin()) || d[4] < 1 || d[4] > packet_version)
    return fail(drop_reason::malformed);
  const std::size_t health_bytes = d[4] >= 2 ? 1 : 0;
  const std::uint8_t role_byte = d[5], mode_byte = d[6], flags = d[7];
  if (role_byte > static_cast<std::uint8_t>(cluster::role::failed) || mode_byte > 1 ||
      (flags & ~known_flags))
    return fail(drop_reason::malformed);
  std::size_t at = header_size;
  const std::size_t glen = d[at++];
  if (glen == 0 || glen > max_group || at + glen + 1 > d.size()) return fail(drop_reason::malformed);
  auto gbytes = d.subspan(at, glen);
  at += glen;
  const std::size_t nlen = d[at++];
  if (nlen == 0 || nlen > max_node || at + nlen + health_bytes + mac_size != d.size())
    return fail(drop_reason::malformed);
  auto nbytes = d.subspan(at, nlen);
  at += nlen;
  const std::uint8_t failing = health_bytes ? d[at] : 0;
  at += health_bytes;
  if (!valid_name_bytes(gbytes) || !valid_name_bytes(nbytes)) return fail(drop_reason::malformed);
  if (std::string_view(reinterpret_cast<const char*>(gbytes.data()), glen) != group)
    return fail(drop_reason::foreign_group);
  auto expected = mac_of(d.first(at), key);
  if (CRYPTO_memcmp(expected.data(), d.data() + at, mac_size) != 0) return fail(drop_reason::bad_mac);

  auto& p = r.packet;
  p.group.assign(gbytes.begin(), gbytes.end());
  p.node.assign(nbytes.begin(), nbytes.end());
  p.report.current = static_cast<cluster::role>(role_byte);
  p.report.mode = static_cast<cluster::failover_mode>(mode_byte);
  apply_flags(flags, p.report);
  p.report.health_failing = p.report.healthy ? 0 : std::max<std::uint8_t>(1, failing);
  p.report.boot_id = get_u64(d.data() + 8);
  p.seq = get_u64(d.data() + 16);
  p.report.epoch = get_u64(d.data() + 24);
  p.sent_unix_ns = static_cast<std::int64_t>(get_u64(d.data() + 32));
  r.ok = true;
  return r;
}

bool replay_guard::accept(std::uint64_t boot_id, std::uint64_t seq) noexcept {
  if (boot_id < boot_) return false;
  if (boot_id > boot_ || !started_) {  // a new boot of the peer, or the first packet we see
    boot_ = boot_id;
    highest_ = seq;
    window_ = 1;
    started_ = true;
    return true;
  }
  if (seq > highest_) {
    const std::uint64_t shift = seq - highest_;
    window_ = shift >= 64 ? 1 : (window_ << shift) | 1;
    highest_ = seq;
    return true;
  }
  const std::uint64_t back = highest_ - seq;
  if (back >= 64) return false;
  const std::uint64_t bit = std::uint64_t{1} << back;
  if (window_ & bit) return false;
  window_ |= bit;
  return true;
}

std::uint64_t packet_counters::dropped_total() const noexcept {
  std::uint64_t n = 0;
  for (auto v : dropped) n += v;
  return n;
}

packet_verifier::packet_verifier(std::string group, std::string peer, std::vector<std::uint8_t> key,
                                 std::uint64_t peer_boot_floor)
    : group_(std::move(group)), peer_(std::move(peer)), key_(std::move(key)), guard_(peer_boot_floor) {}

const heartbeat_packet* packet_verifier::verify(std::span<const std::uint8_t> datagram) {
  last_ = decode(datagram, group_, key_);
  if (!last_.ok) {
    counters_.count(last_.reason);
    return nullptr;
  }
  if (last_.packet.node != peer_) {
    counters_.count(drop_reason::unknown_sender);
    return nullptr;
  }
  if (!guard_.accept(last_.packet.report.boot_id, last_.packet.seq)) {
    counters_.count(drop_reason::replayed);
    return nullptr;
  }
  ++counters_.accepted;
  return &last_.packet;
}

}  // namespace hasys::proto
