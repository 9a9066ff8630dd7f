// The executor simulation's invariants, judged against the kernel's ground truth after every step
// and at every report the executor makes.
#include "executor_sim_world.hpp"

#include <algorithm>
#include <sstream>

namespace hasys::sim::exec_world {

// Invariant 1 counts the VIP's absence only while the executor could have seen it: the process
// runs, is not stalled, and no netlink fault hides the kernel from it (the count starts afresh
// when one ends, see on_fault_end). Nothing else is excluded.
void world::account() {
  const auto dt = now_ - accounted_at_;
  accounted_at_ = now_;
  if (!k_.present && ex_.running && !ex_.stalled && !on(lasting::netlink)) absent_counted_ += dt;
}

// One refresh period (the flow's own: params::refresh_every) plus the slowest verification that
// was out during this absence, plus a tick's rounding.
duration world::inv1_bound() const {
  return p_.refresh_every(p_.nodes[0]) + (absence_slow_ ? io_slow_max : io_max) + inv1_slack;
}

void world::check_invariants() {
  const auto o = flow::observe(ex_.s);
  if (ex_.running && !k_.present && o.ph == flow::phase::done && o.up && !absence_slow_)
    report_.worst_unnoticed_ms =
        std::max<std::int64_t>(report_.worst_unnoticed_ms, absent_counted_ / 1ms);
  // 1. Never done-up while the VIP has been gone for longer than the executor needs to notice.
  if (ex_.running && !ex_.stalled && !k_.present && o.ph == flow::phase::done && o.up &&
      absent_counted_ > inv1_bound())
    return violate("invariant 1: reports done up for epoch " + std::to_string(o.epoch) +
                   " while the VIP has been gone from the kernel for " +
                   std::to_string(absent_counted_ / 1ms) + " ms (counted), bound " +
                   std::to_string(inv1_bound() / 1ms) + " ms");
  // 2. The restarted executor announces the address it adopts in time (its lease is judged
  // where the kernel would let it expire, see ev::expire).
  if (watch_) {
    if (watch_->inc != ex_.inc || !ex_.running) return abandon_watch("another incarnation");
    if (ex_.s.fence) return abandon_watch("the executor fenced: " + *ex_.s.fence);
    if (watch_->first_up && !watch_->announced &&
        now_ > *watch_->first_up + hb_period + announce_slack)
      return violate("invariant 2: the restarted executor has not announced the address of epoch " +
                     std::to_string(watch_->epoch) + " " +
                     std::to_string((now_ - *watch_->first_up) / 1ms) +
                     " ms after the first desired up reached it");
  }
}

// 3. Released, or not holding, while the kernel still has the VIP. In this world only this
// node's flow ever adds the VIP, so an address in the kernel is always one the flow has held.
void world::check_report(const flow::observed& o) {
  if (!k_.present || !ex_.running) return;
  if (o.ph == flow::phase::released)
    return violate("invariant 3: reports released for epoch " + std::to_string(o.epoch) +
                   " while the kernel has the VIP");
  if (!o.holding)
    return violate("invariant 3: reports holding = false (" + std::string(flow::to_string(o.ph)) +
                   " epoch " + std::to_string(o.epoch) + ") while the kernel has the VIP");
}

// Invariant 2 is armed by a restart that finds the heartbeat still wanting the journal's acting
// epoch up, that epoch live (not fenced, not failed, the VIP in its span) and the address in the
// kernel with more lease left than one normal reply takes.
void world::arm_watch() {
  watch_.reset();
  const auto& j = ex_.s.j;
  if (!hb_.alive || !hb_.up || hb_.epoch != j.acting_epoch || j.acting_epoch == 0) return;
  if (j.acting_epoch == j.fenced_epoch || j.acting_epoch == j.failed_up_epoch || j.up_count == 0 ||
      ex_.s.fence)
    return;
  if (!k_.present || k_.expire_at - now_ <= io_max) return;
  if (on(lasting::netlink) || on(lasting::slow)) return;
  watch_ = adoption_watch{ex_.inc, j.acting_epoch, std::nullopt, false};
  ++report_.adoption_watches;
  trace("invariant 2 armed for epoch " + std::to_string(j.acting_epoch));
}

void world::abandon_watch(const std::string& why) {
  if (!watch_) return;
  trace("invariant 2 no longer judged: " + why);
  watch_.reset();
}

void world::announced() {
  ++report_.announces;
  if (!watch_ || watch_->inc != ex_.inc || watch_->announced) return;
  watch_->announced = true;
  if (watch_->first_up) ++report_.adoptions_in_time;  // later than the bound is a violation
}

void world::violate(const std::string& what) {
  if (report_.violation) return;
  std::ostringstream os;
  os << "seed " << o_.seed << " step " << report_.steps << ": " << what << "\nrecent:\n";
  for (const auto& l : trace_) os << "  " << l << "\n";
  const auto& s = ex_.s;
  const auto& r = s.res[0];
  const auto o = flow::observe(s);
  os << "  now " << stamp(now_) << "; kernel " << (k_.present ? "has" : "lacks")
     << " the VIP, expiry " << stamp(k_.expiry) << " deleted at " << stamp(k_.expire_at) << "\n"
     << "  executor #" << ex_.inc << (ex_.running ? " running" : " down")
     << (ex_.stalled ? " stalled" : "") << "; reports " << flow::to_string(o.ph) << " epoch "
     << o.epoch << (o.up ? " up" : " down") << (o.holding ? " holding" : " not holding")
     << "; fence " << (s.fence ? *s.fence : "none") << "\n"
     << "  journal up_count " << s.j.up_count << " acting " << s.j.acting_epoch << " fenced "
     << s.j.fenced_epoch << " failed_up " << s.j.failed_up_epoch << " failed_down "
     << s.j.failed_down_epoch << "; vip seen " << flow::to_string(r.seen) << " pending "
     << r.io_pending << " owned " << r.owned << " remove_failed " << r.remove_failed << " checked "
     << stamp(r.checked_at) << " refreshed " << (r.refreshed_at ? stamp(*r.refreshed_at) : "never")
     << "; stage " << static_cast<int>(s.at) << " step "
     << (s.step ? p_.nodes[s.step->node].name + (s.step->up ? " up" : " down") : "none")
     << " want_at " << stamp(s.want_at) << "\n"
     << "  heartbeat " << (hb_.alive ? "alive" : "dead") << " wants " << (hb_.up ? "up" : "down")
     << " epoch " << hb_.epoch << "\n";
  report_.violation = os.str();
}

}  // namespace hasys::sim::exec_world
