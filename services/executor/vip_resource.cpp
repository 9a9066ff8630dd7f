// W2: the virtual IP. Added with a lease the flow machine keeps refreshing (a frozen holder loses
// it to the kernel), announced with gratuitous ARP / unsolicited NA, checked for a stranger
// holding it before it is added, and guarded in the background while this node does not hold it.
#include "vip_resource.hpp"

#include <hasys/daemon/spawn.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace hasys::executor {

namespace {

constexpr auto guard_every = 5s;      // background duplicate check while not held
constexpr auto guard_wait = 200ms;    // how long the background probe listens
constexpr auto takeover_wait = 60ms;  // how long the probe at up() listens when it must run
const std::chrono::milliseconds later_burst_at[] = {200ms, 1000ms};

asio::awaitable<void> pause(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::int64_t ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

std::string ms_text(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

// Issue 18: a takeover phase by phase — the peer's last packet, the decision, the executor's read
// of it, the address added, the first gratuitous ARP sent — so a slow one has a name. Only for
// the epoch the heartbeat's timing came with (an adoption after a restart has none).
void add_takeover_phases(std::map<std::string, std::string>& details, const takeover_clock* t, std::uint64_t epoch,
                         std::chrono::steady_clock::time_point added, std::chrono::steady_clock::time_point announced) {
  using clock = std::chrono::steady_clock;
  if (!t || t->epoch != epoch || t->decided == clock::time_point{} || t->received == clock::time_point{}) return;
  if (t->peer_heard != clock::time_point{} && t->peer_heard <= t->decided)
    details["peer_silent_ms"] = ms_text(t->decided - t->peer_heard);
  details["decision_to_executor_ms"] = ms_text(t->received - t->decided);
  details["executor_to_address_ms"] = ms_text(added - t->received);
  details["address_to_announce_ms"] = ms_text(announced - added);
  details["decision_to_announce_ms"] = ms_text(announced - t->decided);
}

}  // namespace

vip_resource::vip_resource(config::vip_node cfg, resource_services& s)
    : cfg_(std::move(cfg)), services_(s) {
  label_ = "VIP: " + cfg_.ip;
}

flow::node_spec vip_resource::spec() const {
  return {cfg_.name, flow::resource_kind::vip,         cfg_.stop_on_error,
          true,      std::chrono::seconds(cfg_.lease), true};
}

vip_target vip_resource::target(const resource_context& c) const {
  vip_target t;
  t.node = cfg_.name;
  t.interface = config::interface_for(cfg_, c.node);
  t.address = {asio::ip::make_address(cfg_.ip), cfg_.prefix_length};
  t.lease = cfg_.lease;
  return t;
}

void vip_resource::seen(flow::presence p) noexcept {
  if (p == flow::presence::present) held_ = true;
  if (p == flow::presence::absent) held_ = false;
}

// Bursts after the first, for switches and clients that missed it (not awaited by the flow).
void vip_resource::later_bursts(const resource_context& c) {
  const auto series = ++bursts_;
  daemon::spawn_or_die(
      c.ex,
      [](vip_resource* self, resource_context c, std::uint64_t series) -> asio::awaitable<void> {
        for (auto at : later_burst_at) {
          co_await pause(at);
          if (!self->held_ || series != self->bursts_) co_return;
          const auto t = self->target(c);
          (void)co_await self->services_.addresses.announce(t);
        }
      }(this, c, series),
      "announce bursts " + label_);
}

asio::awaitable<step_result> vip_resource::up(const resource_context& c, std::uint64_t epoch) {
  const auto t = target(c);
  auto& addr = services_.addresses;
  std::string duplicate_check;
  // The duplicate-address check: the background guard's recent clean result (nothing to look at
  // on the takeover's path: adding is idempotent), or, when there is none, a probe now unless the
  // address is already this node's.
  if (guard_.fresh(std::chrono::steady_clock::now())) {
    duplicate_check = "background probe " + std::to_string(ms_since(guard_.at)) + " ms ago";
  } else if (const auto there = co_await addr.query(t); there.seen == flow::presence::present) {
    duplicate_check = "the address was already on this node";
  } else {
    auto p = co_await addr.probe(t, c.peer_public_address, takeover_wait);
    if (!p.ok) co_return step_result{false, "Virtual IP not added: " + p.error};  // fail closed
    if (!p.strangers.empty())
      co_return step_result{false, "Virtual IP is in use by another host [" + label_ +
                                       ", MAC: " + sys::to_string(p.strangers.front()) + "]"};
    duplicate_check = "probe at takeover (" + std::to_string(takeover_wait.count()) + " ms)";
  }
  auto added = co_await addr.add(t);
  if (!added.ok) co_return step_result{false, added.error};
  const auto added_at = std::chrono::steady_clock::now();
  held_ = true;
  guard_.taken();
  auto first = co_await addr.announce(t);
  const auto announced_at = std::chrono::steady_clock::now();
  later_bursts(c);
  const std::string sim = addr.simulated() ? " (simulate: stand-in kernel)" : "";
  if (c.events) {
    std::map<std::string, std::string> details{{"interface", t.interface},
                                               {"lease_s", std::to_string(cfg_.lease.count())},
                                               {"duplicate_check", duplicate_check},
                                               {"announce", first.ok ? "sent" : "failed: " + first.error}};
    add_takeover_phases(details, c.takeover, epoch, added_at, announced_at);
    c.events->event(c.group, cluster::severity::information, "vip_up", "Virtual IP is normal [" + label_ + "]" + sim,
                    std::move(details));
  }
  co_return step_result{true, "added " + sys::to_string(t.address) + " on " + t.interface};
}

asio::awaitable<step_result> vip_resource::down(const resource_context& c, std::uint64_t) {
  const auto t = target(c);
  auto removed = co_await services_.addresses.remove(t);
  if (!removed.ok) co_return step_result{false, removed.error};
  held_ = false;
  if (c.events)
    c.events->event(c.group, cluster::severity::information, "vip_down",
                    "Virtual IP is released [" + label_ + "]", {{"interface", t.interface}});
  co_return step_result{true, "removed " + sys::to_string(t.address)};
}

asio::awaitable<verify_result> vip_resource::check(const resource_context& c) {
  const auto t = target(c);
  auto r = co_await services_.addresses.query(t);
  seen(r.seen);
  co_return r;
}

asio::awaitable<verify_result> vip_resource::refresh(const resource_context& c) {
  const auto t = target(c);
  auto r = co_await services_.addresses.refresh(t);
  seen(r.seen);
  co_return r;
}

asio::awaitable<verify_result> vip_resource::release(const resource_context& c) {
  const auto t = target(c);
  auto r = co_await services_.addresses.release(t);
  seen(r.seen);
  if (r.seen == flow::presence::absent && c.events)
    c.events->event(c.group, cluster::severity::information, "vip_down",
                    "Virtual IP is released [" + label_ + "]", {{"interface", t.interface}});
  co_return r;
}

asio::awaitable<change_result> vip_resource::announce(const resource_context& c,
                                                      std::string reason) {
  const auto t = target(c);
  auto r = co_await services_.addresses.announce(t);
  if (r.ok) later_bursts(c);
  if (r.ok && c.events)
    c.events->event(c.group, cluster::severity::information, "vip_announce",
                    "Virtual IP is announced again [" + label_ + "]" +
                        (services_.addresses.simulated() ? " (simulate: not sent)" : ""),
                    {{"interface", t.interface}, {"reason", reason}});
  co_return r;
}

// Readiness: nobody but the Active answers for the address (the peer's MAC is not a stranger),
// and the probe could run at all (the interface is there). Not run while this node holds it.
asio::awaitable<std::vector<readiness_check>> vip_resource::ready(const resource_context& c) {
  std::vector<readiness_check> out;
  const std::string what = cfg_.name + " duplicate check";
  if (held_) {
    out.push_back({what, true, "held by this node"});
    co_return out;
  }
  const auto t = target(c);
  auto p = co_await services_.addresses.probe(t, c.peer_public_address, guard_wait);
  if (!p.ok)
    out.push_back(
        {what, false, "could not check " + cfg_.ip + " on " + t.interface + ": " + p.error});
  else if (!p.strangers.empty())
    out.push_back({what, false,
                   cfg_.ip + " is answered by another host (MAC " +
                       sys::to_string(p.strangers.front()) + "), not the peer"});
  else
    out.push_back(
        {what, true, "nobody but the peer answers for " + cfg_.ip + " on " + t.interface});
  co_return out;
}

asio::awaitable<void> vip_resource::run(const resource_context& c) {
  bool reported_stranger = false, reported_failure = false;
  for (;;) {
    if (!held_) {
      const auto generation = guard_.generation;
      const auto t = target(c);
      auto p = co_await services_.addresses.probe(t, c.peer_public_address, guard_wait);
      guard_.record(generation, !held_, p.ok, !p.strangers.empty(),
                    std::chrono::steady_clock::now());
      if (!p.strangers.empty() && !reported_stranger && c.events)
        c.events->event(c.group, cluster::severity::critical, "vip_conflict",
                        "Virtual IP is in use by another host [" + label_ +
                            ", MAC: " + sys::to_string(p.strangers.front()) + "]");
      reported_stranger = !p.strangers.empty();
      if (!p.ok && !reported_failure && c.events)
        c.events->event(c.group, cluster::severity::warning, "vip_guard_failed",
                        "Duplicate-address check could not run [" + label_ + ": " + p.error +
                            "]: a takeover probes again first");
      reported_failure = !p.ok;
    }
    co_await pause(guard_every);
  }
}

}  // namespace hasys::executor
