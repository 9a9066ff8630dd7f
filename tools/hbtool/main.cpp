// hasys-hbtool: sends hostile heartbeat traffic at a node, for tests of B1 (garbage, forged,
// foreign-group, stale and captured-then-replayed packets). Lab use only.
#include <hasys/config/node_config.hpp>
#include <hasys/proto/heartbeat_packet.hpp>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct args {
  std::string mode, group = "lab", as = "node-b", to, key_file, capture_iface;
  int count = 10;
  int interval_ms = 5;
  int wait_ms = 3000;
};

int usage() {
  std::fputs(
      "usage: hasys-hbtool MODE --to ADDR:PORT [options]\n"
      "modes:\n"
      "  garbage   random bytes\n"
      "  forge     well-formed, claims Active with a huge epoch, signed with a random key\n"
      "  foreign   signed with --key, but for another group\n"
      "  stale     signed with --key, from a boot id older than any real one (a replay)\n"
      "  replay    capture one real heartbeat for --to on --capture IFACE, then re-send it\n"
      "options: --group G (lab) --as NODE (node-b) --key FILE --count N (10) --interval MS (5)\n"
      "         --capture IFACE --wait MS (3000: how long to wait for a packet to capture)\n",
      stderr);
  return 2;
}

bool parse(int argc, char** argv, args& a) {
  if (argc < 2) return false;
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--to") a.to = v;
    else if (k == "--group") a.group = v;
    else if (k == "--as") a.as = v;
    else if (k == "--key") a.key_file = v;
    else if (k == "--count") a.count = std::stoi(v);
    else if (k == "--interval") a.interval_ms = std::stoi(v);
    else if (k == "--capture") a.capture_iface = v;
    else if (k == "--wait") a.wait_ms = std::stoi(v);
    else return false;
  }
  return !a.to.empty();
}

sockaddr_in target_of(const std::string& to) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  const auto colon = to.rfind(':');
  sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(to.substr(colon + 1))));
  if (inet_pton(AF_INET, to.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    throw std::runtime_error("--to: " + to + " is not IPv4:port");
  return sa;
}

std::vector<std::uint8_t> load_key(const std::string& file) {
  if (file.empty()) throw std::runtime_error("this mode needs --key FILE");
  auto k = hasys::config::read_key_file(file);
  if (!k.error.empty()) throw std::runtime_error(k.error);
  return k.key;
}

hasys::proto::heartbeat_packet claim(const args& a, std::uint64_t boot, std::uint64_t seq) {
  hasys::proto::heartbeat_packet p;
  p.group = a.group;
  p.node = a.as;
  p.seq = seq;
  p.report.current = hasys::cluster::role::active;
  p.report.epoch = 1'000'000;
  p.report.boot_id = boot;
  p.report.active_priority = true;
  return p;
}

// Waits for one UDP datagram to `to` on `iface` (AF_PACKET sees this namespace's own traffic,
// outgoing included) and returns its payload.
std::vector<std::uint8_t> capture(const std::string& iface, const sockaddr_in& to, int wait_ms) {
  // ETH_P_ALL: only "all protocols" taps see the packets this namespace sends.
  int fd = ::socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
  if (fd < 0) throw std::runtime_error("capture needs CAP_NET_RAW (AF_PACKET socket)");
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_ALL);
  ll.sll_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  if (ll.sll_ifindex == 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) {
    ::close(fd);
    throw std::runtime_error("capture: no interface " + iface);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  std::uint8_t buf[2048];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    sockaddr_ll from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 28 || from.sll_protocol != htons(ETH_P_IP)) continue;
    const auto* ip = reinterpret_cast<const iphdr*>(buf);
    const std::size_t ihl = ip->ihl * 4u;
    if (ip->protocol != IPPROTO_UDP || static_cast<std::size_t>(n) < ihl + 8) continue;
    const auto* udp = reinterpret_cast<const udphdr*>(buf + ihl);
    if (ip->daddr != to.sin_addr.s_addr || udp->dest != to.sin_port) continue;
    ::close(fd);
    return {buf + ihl + 8, buf + n};
  }
  ::close(fd);
  throw std::runtime_error("capture: no heartbeat to the target within " + std::to_string(wait_ms) + " ms");
}

}  // namespace

int main(int argc, char** argv) {
  args a;
  if (!parse(argc, argv, a)) return usage();
  try {
    const auto to = target_of(a.to);
    std::mt19937_64 rng(std::random_device{}());
    std::vector<std::vector<std::uint8_t>> packets;
    if (a.mode == "replay") {
      if (a.capture_iface.empty()) throw std::runtime_error("replay needs --capture IFACE");
      auto captured = capture(a.capture_iface, to, a.wait_ms);
      packets.assign(static_cast<std::size_t>(a.count), captured);
    } else {
      for (int i = 0; i < a.count; ++i) {
        if (a.mode == "garbage") {
          std::vector<std::uint8_t> d(rng() % 200);
          for (auto& b : d) b = static_cast<std::uint8_t>(rng());
          packets.push_back(std::move(d));
        } else if (a.mode == "forge") {
          std::vector<std::uint8_t> wrong(32);
          for (auto& b : wrong) b = static_cast<std::uint8_t>(rng());
          packets.push_back(hasys::proto::encode(claim(a, ~std::uint64_t{0}, 1 + i), wrong));
        } else if (a.mode == "foreign") {
          auto p = claim(a, ~std::uint64_t{0}, 1 + i);
          p.group = a.group + "-x";
          packets.push_back(hasys::proto::encode(p, load_key(a.key_file)));
        } else if (a.mode == "stale") {
          packets.push_back(hasys::proto::encode(claim(a, 1, 1 + i), load_key(a.key_file)));
        } else {
          return usage();
        }
      }
    }
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    int sent = 0;
    for (auto& d : packets) {
      if (::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) ++sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(a.interval_ms));  // pacing, not waiting
    }
    ::close(fd);
    std::printf("{\"mode\":\"%s\",\"sent\":%d}\n", a.mode.c_str(), sent);
    return sent == static_cast<int>(packets.size()) ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hasys-hbtool: %s\n", e.what());
    return 1;
  }
}
