// The sampler thread: enters each node's network namespace in turn (setns) and asks netlink.
#include "vip_watch.hpp"

#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

namespace hasys::lab {

vip_watch::vip_watch(const lab& l, std::vector<std::string> nodes, std::string vip,
                     std::string interface, std::chrono::milliseconds every)
    : nodes_(std::move(nodes)),
      vip_(std::move(vip)),
      interface_(std::move(interface)),
      every_(every) {
  for (const auto& n : nodes_) namespaces_.push_back(l.ns(n));
  thread_ = std::thread([this] { run(); });
  while (samples_.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

vip_watch::~vip_watch() {
  stop_ = true;
  thread_.join();
}

void vip_watch::run() {
  std::vector<int> fds;
  for (const auto& ns : namespaces_)
    fds.push_back(::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  const auto ip = boost::asio::ip::make_address(vip_);
  std::optional<std::chrono::steady_clock::time_point> overlap_since;
  while (!stop_) {
    std::vector<std::string> now_holding;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i] < 0 || ::setns(fds[i], CLONE_NEWNET) != 0) continue;
      auto idx = sys::interface_index(interface_);
      if (!idx) continue;
      auto has = sys::has_address(*idx, ip);
      auto state = sys::link(*idx);
      if (has && *has && state && state->admin_up && state->carrier)
        now_holding.push_back(nodes_[i]);
    }
    const auto t = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      holders_ = now_holding;
      if (now_holding.size() >= 2) {
        if (!overlap_since) overlap_since = t;
        longest_ = std::max(longest_, t - *overlap_since);
      } else {
        overlap_since.reset();
      }
    }
    ++samples_;
    std::this_thread::sleep_for(every_);
  }
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
}

std::chrono::milliseconds vip_watch::longest_overlap() const {
  std::lock_guard lock(mutex_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(longest_);
}

std::vector<std::string> vip_watch::holders() const {
  std::lock_guard lock(mutex_);
  return holders_;
}

bool vip_watch::wait_sole_holder(const std::string& node, std::chrono::milliseconds timeout) const {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto h = holders();
    if (h.size() == 1 && h[0] == node) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(every_);  // the sampler's own period: a poll of its result
  }
}

}  // namespace hasys::lab
