// W2: the virtual IP driver (see vip_driver.cpp for what it guarantees).
#pragma once

#include "flow_driver.hpp"

#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>

namespace hasys::executor {

class vip_driver final : public flow_driver {
 public:
  explicit vip_driver(config::vip_node cfg);
  const std::string& name() const override { return cfg_.name; }
  std::string_view kind() const override { return "vip"; }
  bool stop_on_error() const override { return cfg_.stop_on_error; }
  std::chrono::milliseconds timeout() const override { return cfg_.timeout; }
  boost::asio::awaitable<step_result> up(const flow_context& c, std::uint64_t epoch) override;
  boost::asio::awaitable<step_result> down(const flow_context& c, std::uint64_t epoch) override;
  void release_now(const flow_context& c) override;
  void announce_again(const flow_context& c) override;
  std::optional<bool> held(const flow_context& c) const override;
  boost::asio::awaitable<void> run(const flow_context& c) override;

 private:
  std::string interface(const flow_context& c) const;
  std::optional<int> ifindex(const flow_context& c, std::string& why) const;
  void announce(const flow_context& c, int idx, const sys::mac_address& mac) const;
  void announce_bursts(const flow_context& c, int idx, const sys::mac_address& mac);
  boost::asio::awaitable<std::vector<sys::mac_address>> strangers(const flow_context& c, int idx,
                                                                  std::chrono::milliseconds wait) const;

  config::vip_node cfg_;
  sys::ip_prefix address_;
  std::string label_;
  bool held_ = false;  // this driver added the address and has not seen it go
  bool guard_clean_ = false;
  std::uint64_t guard_generation_ = 0;  // bumped when this node adds the address
  std::chrono::steady_clock::time_point guard_at_{};
};

}  // namespace hasys::executor
