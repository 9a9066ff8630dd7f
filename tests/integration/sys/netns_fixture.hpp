// Integration fixture for libs/sys: two fresh network namespaces joined by a veth pair, always
// deleted; the test thread enters one of them to use netlink and packet sockets there.
#pragma once

#include <hasys/sys/link.hpp>

#include <hasys/test/coroutine_test.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hasys::sys::test {

// The path of iproute2's ip program, "" when there is none.
std::string ip_command();

// Runs a command (the test's own set-up: `ip`), bounded to 10 s; throws std::runtime_error with
// its output when it fails.
std::string run_command(const std::vector<std::string>& argv);

// While alive, the calling thread is in the named network namespace (setns on /run/netns/name);
// the thread's previous namespace is restored when it ends.
class netns_scope {
 public:
  explicit netns_scope(const std::string& name);
  netns_scope(const netns_scope&) = delete;
  netns_scope& operator=(const netns_scope&) = delete;
  ~netns_scope();

 private:
  int previous_ = -1;
};

// Writes a sysctl of the current thread's network namespace (path under /proc/sys).
void write_sysctl(const std::string& path, const std::string& value);

// Namespaces hsys-a-XXXXXX and hsys-b-XXXXXX (random suffix), veth va (in a, 203.0.113.1/24,
// MAC 02:00:00:00:0a:01) <-> vb (in b, 203.0.113.2/24, MAC 02:00:00:00:0b:01), both up.
// The destructor deletes both namespaces (and so the veth), also after a failed constructor.
class netns_pair {
 public:
  netns_pair();
  netns_pair(const netns_pair&) = delete;
  netns_pair& operator=(const netns_pair&) = delete;
  ~netns_pair();

  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }
  static constexpr mac_address mac_a{0x02, 0, 0, 0, 0x0a, 0x01};
  static constexpr mac_address mac_b{0x02, 0, 0, 0, 0x0b, 0x01};

 private:
  void remove() noexcept;
  std::string a_;
  std::string b_;
};

// Skips (with the reason) unless root with `ip` available; then builds the pair.
class netns_test : public hasys::test::io_test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // The ifindex of name in the current thread's namespace; fails the test when absent.
  static int index_of(const std::string& name);
  // Sends one UDP datagram to ip:9 from the current namespace (to make the kernel resolve it).
  static void send_udp(const boost::asio::ip::address& ip);
  // Whether IPv6 is usable in the current namespace.
  static bool ipv6_enabled();
  // Looks every 10 ms until pred holds or timeout passes (states that raise no event here).
  static bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

  std::optional<netns_pair> pair_;
};

}  // namespace hasys::sys::test
