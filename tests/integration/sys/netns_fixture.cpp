// The network-namespace pair behind the libs/sys integration tests.
#include "netns_fixture.hpp"

#include <hasys/sys/address.hpp>
#include <hasys/sys/process.hpp>

#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hasys::sys::test {

namespace {

using namespace std::chrono_literals;

std::string random_suffix() {
  std::random_device rd;
  std::ostringstream out;
  out << std::hex << (rd() & 0xffffffU);
  return out.str();
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

std::string ip_command() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

std::string run_command(const std::vector<std::string>& argv) {
  boost::asio::io_context ioc;
  run_options o{.argv = argv};
  o.timeout = 10s;
  const auto r = hasys::test::run_coroutine_test(ioc, run_process(ioc.get_executor(), o), 15s);
  if (!r.ok()) {
    throw std::runtime_error(
        join(argv) + ": " +
        (!r.error.empty() ? r.error : "exit code " + std::to_string(r.exit_code)) + "\n" +
        r.output);
  }
  return r.output;
}

netns_scope::netns_scope(const std::string& name) {
  previous_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (previous_ < 0 || target < 0 || ::setns(target, CLONE_NEWNET) != 0) {
    const std::string why = std::strerror(errno);
    if (target >= 0) ::close(target);
    if (previous_ >= 0) ::close(previous_);
    throw std::runtime_error("cannot enter network namespace " + name + ": " + why);
  }
  ::close(target);
}

netns_scope::~netns_scope() {
  if (::setns(previous_, CLONE_NEWNET) != 0) {
    ADD_FAILURE() << "cannot return to the test's network namespace: " << std::strerror(errno);
  }
  ::close(previous_);
}

void write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream out("/proc/sys/" + path);
  out << value;
  out.flush();
  if (!out) throw std::runtime_error("cannot write " + value + " to /proc/sys/" + path);
}

netns_pair::netns_pair() {
  const auto suffix = random_suffix();
  a_ = "hsys-a-" + suffix;
  b_ = "hsys-b-" + suffix;
  const auto ip = ip_command();
  try {
    run_command({ip, "netns", "add", a_});
    run_command({ip, "netns", "add", b_});
    run_command({ip, "-n", a_, "link", "add", "va", "address", to_string(mac_a), "type", "veth",
                 "peer", "name", "vb", "address", to_string(mac_b), "netns", b_});
    run_command({ip, "-n", a_, "addr", "add", "203.0.113.1/24", "dev", "va"});
    run_command({ip, "-n", b_, "addr", "add", "203.0.113.2/24", "dev", "vb"});
    for (const auto& [ns, dev] : {std::pair{a_, "va"}, std::pair{b_, "vb"}}) {
      run_command({ip, "-n", ns, "link", "set", "lo", "up"});
      run_command({ip, "-n", ns, "link", "set", dev, "up"});
    }
  } catch (...) {
    remove();
    throw;
  }
}

netns_pair::~netns_pair() { remove(); }

void netns_pair::remove() noexcept {
  const auto ip = ip_command();
  for (const auto& ns : {a_, b_}) {
    if (!std::filesystem::exists("/run/netns/" + ns)) continue;
    try {
      run_command({ip, "netns", "del", ns});
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot delete network namespace " << ns << ": " << e.what();
    }
  }
}

void netns_test::SetUp() {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to create network namespaces (uid " << ::geteuid() << ")";
  if (ip_command().empty())
    GTEST_SKIP() << "needs the ip program (iproute2) to build the namespaces";
  pair_.emplace();
}

void netns_test::TearDown() {
  pair_.reset();
  io_test::TearDown();
}

int netns_test::index_of(const std::string& name) {
  const auto index = interface_index(name);
  EXPECT_TRUE(index) << "no interface " << name;
  return index ? *index : 0;
}

void netns_test::send_udp(const boost::asio::ip::address& ip) {
  const int family = ip.is_v4() ? AF_INET : AF_INET6;
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_storage to{};
  socklen_t size = 0;
  if (ip.is_v4()) {
    auto& in = reinterpret_cast<sockaddr_in&>(to);
    in.sin_family = AF_INET;
    in.sin_port = htons(9);
    const auto b = ip.to_v4().to_bytes();
    std::memcpy(&in.sin_addr, b.data(), b.size());
    size = sizeof in;
  } else {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(to);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(9);
    const auto b = ip.to_v6().to_bytes();
    std::memcpy(&in6.sin6_addr, b.data(), b.size());
    size = sizeof in6;
  }
  const char byte = 0;
  EXPECT_EQ(::sendto(fd, &byte, 1, 0, reinterpret_cast<sockaddr*>(&to), size), 1)
      << std::strerror(errno);
  ::close(fd);
}

bool netns_test::ipv6_enabled() {
  std::ifstream in("/proc/sys/net/ipv6/conf/all/disable_ipv6");
  int disabled = 1;
  return in >> disabled && disabled == 0;
}

bool netns_test::poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace hasys::sys::test
