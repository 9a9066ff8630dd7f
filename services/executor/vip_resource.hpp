// W2: the virtual IP (see vip_resource.cpp for what it guarantees).
#pragma once

#include "resource.hpp"

#include <chrono>
#include <cstdint>

namespace hasys::executor {

// What the background duplicate-address probe learned while this node did not hold the address.
// Only a probe that ran, found nobody, and finished while the address was still not this node's
// counts as clean; a failed probe is unknown, never clean.
struct duplicate_guard {
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds fresh_for{12};
  bool clean = false;
  clock::time_point at{};
  std::uint64_t generation = 0;  // bumped when this node adds the address

  // This node added the address: what was seen before proves nothing later, and a probe still
  // in flight must not record its result either.
  void taken() noexcept {
    clean = false;
    ++generation;
  }
  void record(std::uint64_t started_generation, bool still_free, bool probe_ran, bool strangers,
              clock::time_point now) noexcept {
    if (started_generation != generation || !still_free) return;
    clean = probe_ran && !strangers;
    at = now;
  }
  bool fresh(clock::time_point now) const noexcept { return clean && now - at < fresh_for; }
};

class vip_resource final : public resource {
 public:
  vip_resource(config::vip_node cfg, resource_services& s);
  flow::node_spec spec() const override;
  std::chrono::milliseconds timeout() const override { return cfg_.timeout; }
  boost::asio::awaitable<step_result> up(const resource_context& c, std::uint64_t epoch) override;
  boost::asio::awaitable<step_result> down(const resource_context& c, std::uint64_t epoch) override;
  boost::asio::awaitable<verify_result> check(const resource_context& c) override;
  boost::asio::awaitable<verify_result> refresh(const resource_context& c) override;
  boost::asio::awaitable<verify_result> release(const resource_context& c) override;
  boost::asio::awaitable<change_result> announce(const resource_context& c, std::string reason) override;
  boost::asio::awaitable<void> run(const resource_context& c) override;
  boost::asio::awaitable<std::vector<readiness_check>> ready(const resource_context& c) override;

 private:
  vip_target target(const resource_context& c) const;
  void later_bursts(const resource_context& c);
  void seen(flow::presence p) noexcept;

  config::vip_node cfg_;
  resource_services& services_;
  std::string label_;
  bool held_ = false;  // last known to be on this node
  duplicate_guard guard_;
  std::uint64_t bursts_ = 0;  // a newer burst series replaces an older one
};

}  // namespace hasys::executor
