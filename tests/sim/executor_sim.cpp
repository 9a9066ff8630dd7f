// The executor simulation's world: clock, event queue, the kernel's VIP and the heartbeat driver
// that sends desired states (the executor process is in executor_sim_process.cpp).
#include "executor_sim_world.hpp"

#include <cstdio>

namespace hasys::sim {

namespace exec_world {

world::world(const exec_sim_options& o) : o_(o), rng_(o.seed) {
  p_.group = "g";
  p_.nodes = {{"vip", flow::resource_kind::vip, true, true, lease, true},
              {"app1", flow::resource_kind::application, true, false, {}, false},
              {"app2", flow::resource_kind::application, true, false, {}, false}};
  exec_start();
  schedule(now_ + uniform(1ms, hb_period), ev::hb_period);
  if (o_.faults) schedule(now_ + 1s, ev::fault);
}

exec_sim_report world::run() {
  while (report_.steps < o_.steps && !report_.violation && !queue_.empty()) {
    event e = queue_.top();
    queue_.pop();
    now_ = e.at;
    account();
    handle(e);
    ++report_.steps;
    if (!report_.violation) check_invariants();
  }
  report_.simulated_seconds = std::chrono::duration<double>(now_ - start_at).count();
  return report_;
}

// ---- plumbing ----

void world::schedule(time_point at, ev what, std::uint64_t gen, std::uint64_t id, flow::desired d) {
  queue_.push(event{at, order_++, what, gen, id, d});
}

duration world::uniform(duration lo, duration hi) {
  return duration(std::uniform_int_distribution<std::int64_t>(lo.count(), hi.count())(rng_));
}
bool world::chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
int world::pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

std::string world::stamp(time_point t) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4fs", std::chrono::duration<double>(t - start_at).count());
  return buf;
}

// A bounded trace of recent lines; a line repeated at once (a retry loop) is folded into one.
void world::trace(const std::string& line) {
  if (!trace_.empty() && line == trace_last_) {
    const auto was = trace_.back();
    trace_.back() = was.substr(0, was.find(" [x")) + " [x" + std::to_string(++trace_repeats_ + 1) +
                    " until " + stamp(now_) + "]";
    return;
  }
  trace_last_ = line;
  trace_repeats_ = 0;
  trace_.push_back(stamp(now_) + " " + line);
  if (trace_.size() > 60) trace_.pop_front();
}

void world::handle(const event& e) {
  switch (e.what) {
    case ev::tick:
      return on_tick(e);
    case ev::step_end:
      return on_step_end(e);
    case ev::io_end:
      return on_io_end(e);
    case ev::desired:
      if (e.gen != ex_.inc || !ex_.running) return;  // sent on a connection that is gone
      return deliver(flow::desired_received{e.d});
    case ev::hb_period:
      return hb_period_event();
    case ev::fault:
      inject_fault();
      schedule(now_ + uniform(200ms, 4s), ev::fault);
      return;
    case ev::fault_end:
      return on_fault_end(e);
    case ev::exec_start:
      ex_.restart_pending = false;
      if (!ex_.running) exec_start();
      return;
    case ev::thaw:
      return on_thaw(e);
    case ev::expire:
      if (e.gen != k_.gen || !k_.present) return;
      k_.present = false;
      ++k_.gen;
      ++report_.lease_lapses;
      if (watch_ && watch_->inc == ex_.inc)
        return violate("invariant 2: the address the restarted executor should adopt (epoch " +
                       std::to_string(watch_->epoch) +
                       ") expired in the kernel: not refreshed in time");
      if (ex_.running && ex_.s.res[0].owned) lapsed_ = {ex_.inc, ex_.s.j.acting_epoch};
      return kernel_gone("lease ran out (" + std::to_string((now_ - k_.expiry) / 1ms) +
                         " ms grain)");
    case ev::hb_restart:
      hb_.alive = true;
      hb_.seen.reset();
      hb_set(false, hb_.epoch, "restarted heartbeat starts deactivated");
      return;
    case ev::remove_vip:
      if (!k_.present) return;
      abandon_watch("the VIP was removed underneath");
      kernel_remove("someone ran ip addr del");
      return;
    case ev::second_signal:
      if (e.gen == ex_.inc && ex_.running) deliver(flow::stop_requested{true});
      return;
  }
}

// ---- the kernel ----

void world::kernel_extend() {
  k_.expiry = now_ + lease;
  k_.expire_at = k_.expiry + uniform(0ms, kernel_grain);
  ++k_.gen;
  schedule(k_.expire_at, ev::expire, k_.gen);
}

void world::kernel_add(const std::string& who) {
  const bool was = k_.present;
  k_.present = true;
  kernel_extend();
  ++report_.vip_adds;
  if (!was) {
    absent_counted_ = {};
    trace("kernel: VIP added (" + who + ")");
  }
}

bool world::kernel_refresh() {
  if (!k_.present) return false;  // never adds it back
  kernel_extend();
  return true;
}

void world::kernel_remove(const std::string& who) {
  if (!k_.present) return;
  k_.present = false;
  ++k_.gen;
  kernel_gone(who);
}

void world::kernel_gone(const std::string& why) {
  absent_counted_ = {};
  absence_slow_ = slow_out_until_ > now_;
  trace("kernel: VIP gone: " + why);
}

// ---- the heartbeat ----

void world::hb_period_event() {
  schedule(now_ + hb_period, ev::hb_period);
  if (!hb_.alive || now_ < hb_.frozen_until) return;
  // Like the role machine: an executor that lets go of the epoch's resources deactivates the
  // role; a new activation comes with a new epoch.
  const auto& r = hb_.seen;
  if (hb_.up) {
    const bool let_go = r && r->epoch == hb_.epoch &&
                        (r->ph == flow::phase::releasing || r->ph == flow::phase::released ||
                         (r->ph == flow::phase::failed && r->up));
    if (let_go)
      hb_set(false, hb_.epoch, "the executor let go: deactivating");
    else if (chance(1.0 / 150))
      hb_set(false, hb_.epoch, "deactivating");
    else if (chance(1.0 / 300))
      hb_set(true, hb_.epoch + 1, "a new epoch");
    else if (chance(1.0 / 40))
      ++hb_.announce;
  } else {
    const bool settled = r && r->epoch == hb_.epoch && !r->holding &&
                         (r->ph == flow::phase::released || (!r->up && r->ph == flow::phase::done));
    if (chance(settled ? 1.0 / 10 : 1.0 / 100)) hb_set(true, hb_.epoch + 1, "activating");
  }
  send_desired();
}

void world::hb_set(bool up, std::uint64_t epoch, const std::string& why) {
  if (hb_.up == up && hb_.epoch == epoch) return;
  abandon_watch("the heartbeat's desired state changed");
  hb_.up = up;
  hb_.epoch = epoch;
  trace("heartbeat wants " + std::string(up ? "up" : "down") + " epoch " + std::to_string(epoch) +
        ": " + why);
}

void world::send_desired() {
  if (!ex_.running) return;  // no connection to send on
  if (on(lasting::lost) && chance(loss_)) return;
  const auto delay = on(lasting::late) ? uniform(0ms, 300ms) : uniform(50us, 500us);
  const auto at = std::max(now_ + delay, ex_.desired_last);
  ex_.desired_last = at;
  schedule(at, ev::desired, ex_.inc, 0,
           flow::desired{hb_.epoch, hb_.up, false, hb_.announce, hb_watchdog});
}

}  // namespace exec_world

exec_sim_report run_executor_simulation(const exec_sim_options& o) {
  return exec_world::world(o).run();
}

}  // namespace hasys::sim
