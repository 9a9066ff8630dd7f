// Samples, every few milliseconds, which lab nodes hold a virtual IP (configured on an interface
// that is up), to check "at no moment do both nodes hold the VIP for longer than one heartbeat
// period" (issue 3) from outside the daemons.
#pragma once

#include "lab.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hasys::lab {

class vip_watch {
 public:
  vip_watch(const lab& l, std::vector<std::string> nodes, std::string vip,
            std::string interface = "eth0",
            std::chrono::milliseconds every = std::chrono::milliseconds(2));
  ~vip_watch();
  vip_watch(const vip_watch&) = delete;
  vip_watch& operator=(const vip_watch&) = delete;

  // The longest stretch during which two or more nodes held the address at once.
  std::chrono::milliseconds longest_overlap() const;
  // Which nodes hold it in the latest sample.
  std::vector<std::string> holders() const;
  // Waits until exactly `node` holds it (and no other); false on deadline.
  bool wait_sole_holder(const std::string& node, std::chrono::milliseconds timeout) const;
  std::size_t samples() const { return samples_.load(); }

 private:
  void run();

  std::vector<std::string> nodes_, namespaces_;
  std::string vip_, interface_;
  std::chrono::milliseconds every_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> samples_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> holders_;
  std::chrono::steady_clock::duration longest_{};
  std::thread thread_;
};

}  // namespace hasys::lab
