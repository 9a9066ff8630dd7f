// Heartbeat packets: round trip, every drop reason, the replay window, and mutation robustness.
#include <hasys/proto/heartbeat_packet.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>

using namespace hasys;
using namespace hasys::proto;

namespace {

const std::vector<std::uint8_t> key(32, 0x5a);
const std::vector<std::uint8_t> other_key(32, 0xa5);

heartbeat_packet sample(std::uint64_t seq = 1, std::uint64_t boot = 100) {
  heartbeat_packet p;
  p.group = "GROUP-Linux";
  p.node = "node-b";
  p.seq = seq;
  p.sent_unix_ns = 1'764'000'000'123'456'789;
  p.report.current = cluster::role::active;
  p.report.mode = cluster::failover_mode::manual;
  p.report.epoch = 42;
  p.report.boot_id = boot;
  p.report.gateway_ok = true;
  p.report.healthy = false;
  p.report.health_failing = 7;
  p.report.active_priority = true;
  p.report.handover = false;
  p.report.handover_request = true;
  p.report.held = true;
  return p;
}

}  // namespace

namespace {
std::string hex(std::span<const std::uint8_t> b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto c : b) s += {digits[c >> 4], digits[c & 15]};
  return s;
}
std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST(hmac_sha256, matches_rfc_4231) {
  const std::vector<std::uint8_t> key1(20, 0x0b);
  EXPECT_EQ(hex(hmac_sha256(key1, bytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(hmac_sha256(bytes("Jefe"), bytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(hmac_sha256, matches_openssl_for_keys_and_messages_of_every_length) {
  std::mt19937_64 rng(7);
  for (std::size_t klen : {1, 16, 32, 63, 64, 65, 100, 200}) {
    for (std::size_t mlen : {0, 1, 55, 56, 64, 117, 1000}) {
      std::vector<std::uint8_t> k(klen), m(mlen);
      for (auto& b : k) b = static_cast<std::uint8_t>(rng());
      for (auto& b : m) b = static_cast<std::uint8_t>(rng());
      std::array<std::uint8_t, 32> want{};
      unsigned int len = 0;
      HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()), m.data(), m.size(), want.data(), &len);
      EXPECT_EQ(hex(hmac_sha256(k, m)), hex(want)) << "key " << klen << " message " << mlen;
    }
  }
}

TEST(heartbeat_packet, round_trips_every_field) {
  auto p = sample();
  auto bytes = encode(p, key);
  EXPECT_LE(bytes.size(), max_packet_size);
  auto r = decode(bytes, "GROUP-Linux", key);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.packet.group, p.group);
  EXPECT_EQ(r.packet.node, p.node);
  EXPECT_EQ(r.packet.seq, p.seq);
  EXPECT_EQ(r.packet.sent_unix_ns, p.sent_unix_ns);
  EXPECT_EQ(r.packet.report, p.report);
}

TEST(heartbeat_packet, health_failing_is_carried_and_never_says_0_for_an_unhealthy_sender) {
  auto p = sample();
  p.report.health_failing = 0;  // unhealthy but no count: it counts as 1
  auto r = decode(encode(p, key), "GROUP-Linux", key);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.packet.report.health_failing, 1);
  p.report.healthy = true;
  p.report.health_failing = 3;  // healthy: nothing fails
  r = decode(encode(p, key), "GROUP-Linux", key);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.packet.report.health_failing, 0);
}

TEST(heartbeat_packet, version_1_without_the_health_byte_is_still_read) {
  // A version 1 packet, as the previous release sends it: no health byte before the MAC.
  auto p = sample();
  auto v2 = encode(p, key);
  std::vector<std::uint8_t> v1(v2.begin(), v2.end() - 33);  // less the health byte and the MAC
  v1[4] = 1;
  auto mac = hmac_sha256(key, v1);
  v1.insert(v1.end(), mac.begin(), mac.end());
  auto r = decode(v1, "GROUP-Linux", key);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.packet.report.healthy);
  EXPECT_EQ(r.packet.report.health_failing, 1);
  EXPECT_EQ(r.packet.report.epoch, 42u);
  v1[4] = 3;  // a future version is not guessed at
  EXPECT_FALSE(decode(v1, "GROUP-Linux", key).ok);
}

TEST(heartbeat_packet, wrong_key_is_bad_mac) {
  auto r = decode(encode(sample(), key), "GROUP-Linux", other_key);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, drop_reason::bad_mac);
}

TEST(heartbeat_packet, other_group_is_foreign) {
  auto r = decode(encode(sample(), key), "GROUP-Other", key);
  EXPECT_EQ(r.reason, drop_reason::foreign_group);
}

TEST(heartbeat_packet, every_flipped_bit_is_rejected) {
  auto good = encode(sample(), key);
  for (std::size_t i = 0; i < good.size() * 8; ++i) {
    auto bad = good;
    bad[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    EXPECT_FALSE(decode(bad, "GROUP-Linux", key).ok) << "bit " << i;
  }
}

TEST(heartbeat_packet, truncated_and_extended_datagrams_are_malformed) {
  auto good = encode(sample(), key);
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = decode(std::span(good).first(n), "GROUP-Linux", key);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.reason, drop_reason::malformed) << "length " << n;
  }
  auto longer = good;
  longer.push_back(0);
  EXPECT_EQ(decode(longer, "GROUP-Linux", key).reason, drop_reason::malformed);
}

TEST(heartbeat_packet, names_over_the_wire_limits_are_refused_when_encoding) {
  auto p = sample();
  p.group = std::string(21, 'g');
  EXPECT_THROW(encode(p, key), std::invalid_argument);
  p = sample();
  p.node = std::string(16, 'n');
  EXPECT_THROW(encode(p, key), std::invalid_argument);
  EXPECT_THROW(encode(sample(), {}), std::invalid_argument);
}

TEST(replay_guard, accepts_each_sequence_once_within_the_window) {
  replay_guard g;
  EXPECT_TRUE(g.accept(5, 10));
  EXPECT_FALSE(g.accept(5, 10));
  EXPECT_TRUE(g.accept(5, 12));
  EXPECT_TRUE(g.accept(5, 11));  // late, from the other link
  EXPECT_FALSE(g.accept(5, 11));
  EXPECT_TRUE(g.accept(5, 100));
  EXPECT_FALSE(g.accept(5, 36));  // 64 behind: outside the window
  EXPECT_TRUE(g.accept(5, 37));   // 63 behind: inside, never seen
}

TEST(replay_guard, a_new_boot_resets_and_an_old_boot_is_refused) {
  replay_guard g;
  EXPECT_TRUE(g.accept(5, 1000));
  EXPECT_TRUE(g.accept(6, 1));
  EXPECT_FALSE(g.accept(5, 1001));
  EXPECT_EQ(g.boot_id(), 6u);
}

TEST(replay_guard, the_persisted_floor_refuses_older_boots_and_accepts_the_current_one) {
  replay_guard g(6);
  EXPECT_FALSE(g.accept(5, 1));
  EXPECT_TRUE(g.accept(6, 7));
  EXPECT_FALSE(g.accept(6, 7));
}

TEST(packet_verifier, counts_each_reason_and_accepts_only_the_peer) {
  packet_verifier v("GROUP-Linux", "node-b", key);
  auto good = encode(sample(1), key);
  EXPECT_NE(v.verify(good), nullptr);
  EXPECT_EQ(v.verify(good), nullptr);  // replayed
  EXPECT_EQ(v.verify(encode(sample(2), other_key)), nullptr);
  std::vector<std::uint8_t> junk{1, 2, 3};
  EXPECT_EQ(v.verify(junk), nullptr);
  auto stranger = sample(3);
  stranger.node = "node-x";
  EXPECT_EQ(v.verify(encode(stranger, key)), nullptr);
  const auto& c = v.counters();
  EXPECT_EQ(c.accepted, 1u);
  EXPECT_EQ(c.dropped[std::size_t(drop_reason::replayed)], 1u);
  EXPECT_EQ(c.dropped[std::size_t(drop_reason::bad_mac)], 1u);
  EXPECT_EQ(c.dropped[std::size_t(drop_reason::malformed)], 1u);
  EXPECT_EQ(c.dropped[std::size_t(drop_reason::unknown_sender)], 1u);
  EXPECT_EQ(c.dropped_total(), 4u);
}

// A cheap, deterministic fuzz pass that runs in every CI build (the libFuzzer target in
// tests/fuzz goes deeper when built with clang).
TEST(packet_verifier, random_mutations_never_crash_and_are_never_accepted) {
  std::mt19937_64 rng(20261125);
  packet_verifier v("GROUP-Linux", "node-b", key);
  auto good = encode(sample(1), key);
  ASSERT_NE(v.verify(good), nullptr);
  std::uint64_t accepted = 0, intact = 0;
  for (int i = 0; i < 200'000; ++i) {
    const auto original = encode(sample(2 + i), key);
    auto d = original;
    switch (rng() % 4) {
      case 0: d[rng() % d.size()] = static_cast<std::uint8_t>(rng()); break;
      case 1: d.resize(rng() % (max_packet_size + 8)); break;
      case 2: for (auto& b : d) b = static_cast<std::uint8_t>(rng()); break;
      case 3: d.insert(d.begin() + static_cast<long>(rng() % d.size()), static_cast<std::uint8_t>(rng())); break;
    }
    if (d == original) ++intact;
    if (v.verify(d)) ++accepted;
  }
  // A mutation that happens to leave the packet intact is a valid packet; anything else is not.
  EXPECT_EQ(accepted, intact);
  EXPECT_EQ(v.counters().dropped_total(), 200'000u - intact);
}
