// W2: the virtual IP. Added with a lease the executor keeps refreshing (a frozen holder loses it
// to the kernel), announced with gratuitous ARP / unsolicited NA, checked for a stranger holding
// it before it is added, and guarded in the background while this node does not hold it.
#include "vip_driver.hpp"

#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>
#include <hasys/sys/neighbour_discovery.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace hasys::executor {

namespace {

constexpr auto guard_every = 5s;        // background duplicate check while not held
constexpr auto guard_fresh = 12s;       // a clean guard result this recent skips the check at up()
constexpr auto guard_wait = 200ms;      // how long the background probe listens
constexpr auto takeover_wait = 60ms;    // how long the probe at up() listens when it must run
constexpr int announce_count = 3;       // gratuitous ARPs per burst
const std::chrono::milliseconds later_bursts[] = {200ms, 1000ms};

asio::awaitable<void> pause(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

vip_driver::vip_driver(config::vip_node cfg) : cfg_(std::move(cfg)) {
  address_.ip = asio::ip::make_address(cfg_.ip);
  address_.prefix = cfg_.prefix_length;
  label_ = "VIP: " + cfg_.ip;
}

std::string vip_driver::interface(const flow_context& c) const {
  return config::interface_for(cfg_, c.node);
}

std::optional<int> vip_driver::ifindex(const flow_context& c, std::string& why) const {
  sys::diagnostics d;
  auto idx = sys::interface_index(interface(c), d);
  if (!idx) {
    why = d.message.empty() ? "no interface " + interface(c) : d.message;
    return std::nullopt;
  }
  return *idx;
}

void vip_driver::announce(const flow_context& c, int idx, const sys::mac_address& mac) const {
  if (address_.ip.is_v4())
    sys::send_gratuitous_arp(idx, address_.ip.to_v4(), mac, announce_count);
  else
    sys::send_unsolicited_na(idx, address_.ip.to_v6(), mac, announce_count);
  (void)c;
}

// A burst now, and later ones for switches and clients that missed it (not awaited by the flow).
void vip_driver::announce_bursts(const flow_context& c, int idx, const sys::mac_address& mac) {
  announce(c, idx, mac);
  asio::co_spawn(c.ex, [this, c, idx, mac]() -> asio::awaitable<void> {
    for (auto at : later_bursts) {
      co_await pause(at);
      if (!held_) co_return;
      announce(c, idx, mac);
    }
  }, asio::detached);
}

void vip_driver::announce_again(const flow_context& c) {
  if (!held_) return;
  if (!c.simulate) {
    std::string why;
    auto idx = ifindex(c, why);
    if (!idx) return;
    auto mac = sys::hardware_address(*idx);
    if (!mac) return;
    announce_bursts(c, *idx, *mac);
  }
  if (c.events)
    c.events->event(c.group, cluster::severity::information, "vip_announce",
                    "Virtual IP is announced again [" + label_ + "]" + (c.simulate ? " (simulate: not sent)" : ""),
                    {{"interface", interface(c)}});
}

// Whoever answers for the address, other than this node and the group's peer.
asio::awaitable<std::vector<sys::mac_address>> vip_driver::strangers(const flow_context& c, int idx,
                                                                     std::chrono::milliseconds wait) const {
  std::vector<sys::mac_address> out;
  auto self = sys::hardware_address(idx);
  if (!self) co_return out;
  auto claimed = co_await sys::probe_address(c.ex, idx, address_.ip, *self, wait);
  if (!claimed) co_return out;
  std::optional<sys::mac_address> peer;
  if (!c.peer_public_address.empty()) peer = sys::neighbour(asio::ip::make_address(c.peer_public_address));
  for (const auto& m : *claimed)
    if (!peer || m != *peer) out.push_back(m);
  co_return out;
}

asio::awaitable<step_result> vip_driver::up(const flow_context& c, std::uint64_t) {
  if (c.simulate) {
    held_ = true;
    if (c.events)
      c.events->event(c.group, cluster::severity::information, "vip_up",
                      "Virtual IP is normal [" + label_ + "] (simulate: not added)");
    co_return step_result{true, "simulate: would add " + sys::to_string(address_) + " on " + interface(c)};
  }
  std::string why;
  auto idx = ifindex(c, why);
  if (!idx) co_return step_result{false, why};
  auto mac = sys::hardware_address(*idx);
  if (!mac) co_return step_result{false, "no hardware address on " + interface(c)};
  auto present = sys::has_address(*idx, address_.ip);
  if (!(present && *present)) {
    // The duplicate-address check: the background guard's recent clean result, or a probe now.
    const bool fresh = guard_clean_ && std::chrono::steady_clock::now() - guard_at_ < guard_fresh;
    if (!fresh) {
      auto others = co_await strangers(c, *idx, takeover_wait);
      if (!others.empty())
        co_return step_result{false, "Virtual IP is in use by another host [" + label_ + ", MAC: " +
                                         sys::to_string(others.front()) + "]"};
    }
  }
  sys::diagnostics d;
  if (auto ec = sys::add_address(*idx, address_, cfg_.lease, {}, d))
    co_return step_result{false, d.message.empty() ? ec.message() : d.message};
  held_ = true;
  // What the guard saw before this node held the address proves nothing later, and a guard probe
  // still in flight must not record its result either.
  guard_clean_ = false;
  ++guard_generation_;
  announce_bursts(c, *idx, *mac);
  if (c.events)
    c.events->event(c.group, cluster::severity::information, "vip_up", "Virtual IP is normal [" + label_ + "]",
                    {{"interface", interface(c)}, {"lease_s", std::to_string(cfg_.lease.count())}});
  co_return step_result{true, "added " + sys::to_string(address_) + " on " + interface(c)};
}

asio::awaitable<step_result> vip_driver::down(const flow_context& c, std::uint64_t) {
  if (c.simulate) {
    held_ = false;
    co_return step_result{true, "simulate: would remove " + sys::to_string(address_)};
  }
  std::string why;
  auto idx = ifindex(c, why);
  if (!idx) {  // no interface: the address cannot be on it either
    held_ = false;
    co_return step_result{true, why};
  }
  sys::diagnostics d;
  if (auto ec = sys::remove_address(*idx, address_, d))
    co_return step_result{false, d.message.empty() ? ec.message() : d.message};
  held_ = false;
  if (c.events)
    c.events->event(c.group, cluster::severity::information, "vip_down",
                    "Virtual IP is released [" + label_ + "]", {{"interface", interface(c)}});
  co_return step_result{true, "removed " + sys::to_string(address_)};
}

void vip_driver::release_now(const flow_context& c) {
  held_ = false;
  if (c.simulate) return;
  std::string why;
  if (auto idx = ifindex(c, why)) sys::remove_address(*idx, address_);
}

std::optional<bool> vip_driver::held(const flow_context& c) const {
  if (c.simulate) return held_;
  std::string why;
  auto idx = ifindex(c, why);
  if (!idx) return false;
  auto r = sys::has_address(*idx, address_.ip);
  return r ? std::optional<bool>(*r) : std::nullopt;
}

asio::awaitable<void> vip_driver::run(const flow_context& c) {
  if (c.simulate) co_return;
  const auto refresh_every = cfg_.lease.count() > 0 ? std::chrono::milliseconds(cfg_.lease) / 4
                                                    : std::chrono::milliseconds(1000);
  auto next_guard = std::chrono::steady_clock::now();
  bool reported_stranger = false;
  for (;;) {
    std::string why;
    auto idx = ifindex(c, why);
    if (held_ && idx && cfg_.lease.count() > 0) {
      auto ec = sys::refresh_address(*idx, address_, cfg_.lease);
      if (ec == sys::make_error_code(sys::errc::address_absent)) {
        held_ = false;
        if (c.lost) c.lost("Virtual IP lease expired [" + label_ + "]: this node was frozen or stalled");
      }
    } else if (!held_ && idx && std::chrono::steady_clock::now() >= next_guard) {
      next_guard = std::chrono::steady_clock::now() + guard_every;
      const auto generation = guard_generation_;
      auto others = co_await strangers(c, *idx, guard_wait);
      if (generation == guard_generation_ && !held_) {
        guard_clean_ = others.empty();
        guard_at_ = std::chrono::steady_clock::now();
      }
      if (!others.empty() && !reported_stranger && c.events)
        c.events->event(c.group, cluster::severity::critical, "vip_conflict",
                        "Virtual IP is in use by another host [" + label_ + ", MAC: " +
                            sys::to_string(others.front()) + "]");
      reported_stranger = !others.empty();
    }
    co_await pause(refresh_every);
  }
}

}  // namespace hasys::executor
