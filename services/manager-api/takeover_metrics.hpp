// A takeover phase by phase (issue 18), for GET /metrics: the virtual IP's vip_up events carry,
// from the executor that took over, how long the peer was silent before the decision and how long
// each step after it took; each phase is kept as a Prometheus histogram for the whole fleet.
#pragma once

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace hasys::manager {

class takeover_metrics {
 public:
  // The phases, in the order of a takeover, by the detail key that carries each (milliseconds).
  static constexpr std::array<const char*, 5> phases{"peer_silent", "decision_to_executor", "executor_to_address",
                                                     "address_to_announce", "decision_to_announce"};
  // Bucket bounds in seconds.
  static constexpr std::array<double, 16> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                 0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

  // An event as stored (hasys.evt.<group>.<node>): a vip_up with its phases is counted, anything
  // else ignored. A phase that is not a number is skipped and counted.
  void observe(const boost::json::object& event);
  // The histograms in Prometheus text format.
  void write(std::string& out) const;

  std::uint64_t takeovers() const noexcept { return takeovers_; }
  std::uint64_t unreadable() const noexcept { return unreadable_; }

 private:
  struct histogram {
    std::array<std::uint64_t, bounds.size() + 1> counts{};  // the last: above every bound
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::array<histogram, phases.size()> by_phase_{};
  std::uint64_t takeovers_ = 0;
  std::uint64_t unreadable_ = 0;
};

}  // namespace hasys::manager
