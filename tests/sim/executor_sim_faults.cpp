// The executor simulation's faults: kills and stops, stalls, a silent or dead heartbeat, lost and
// late desired states, netlink errors, slow replies, failing removals, a VIP deleted underneath.
#include "executor_sim_world.hpp"

#include <algorithm>

namespace hasys::sim::exec_world {

void world::start_lasting(lasting k, duration lo, duration hi) {
  const auto i = static_cast<std::size_t>(k);
  lasting_[i] = true;
  schedule(now_ + uniform(lo, hi), ev::fault_end, 0, ++lasting_token_[i] * 8 + i);
}

void world::on_fault_end(const event& e) {
  const auto i = static_cast<std::size_t>(e.id % 8);
  if (e.id / 8 != lasting_token_[i] || !lasting_[i]) return;
  lasting_[i] = false;
  // What the executor verified during netlink errors told it nothing, and a request that was out
  // came back unknown: invariant 1 counts the VIP's absence afresh from here.
  if (static_cast<lasting>(i) == lasting::netlink) absent_counted_ = {};
  static constexpr const char* names[] = {"lost", "late", "netlink", "slow", "removal_fails"};
  trace(std::string("fault ends: ") + names[i]);
}

void world::inject_fault() {
  ++report_.faults;
  switch (pick(13)) {
    case 0:
    case 1:  // kill -9: state lost, the journal on disk kept, what was out is dropped
      if (!ex_.running) return;
      ++report_.kills;
      exec_end("kill -9");
      return;
    case 2:  // SIGTERM, sometimes followed by a second one
      if (!ex_.running || ex_.s.stopping()) return;
      ++report_.orderly_stops;
      trace("executor: SIGTERM");
      abandon_watch("the executor was asked to stop");
      if (chance(0.2)) schedule(now_ + uniform(0ms, 1s), ev::second_signal, ex_.inc);
      deliver(flow::stop_requested{});
      return;
    case 3:  // desired states lost on the way
      loss_ = std::uniform_real_distribution<double>(0.1, 0.8)(rng_);
      trace("fault: desired states lost with p " + std::to_string(loss_));
      return start_lasting(lasting::lost, 200ms, 4s);
    case 4:  // desired states late (in order: the control socket keeps order)
      trace("fault: desired states late");
      return start_lasting(lasting::late, 200ms, 4s);
    case 5:  // the heartbeat frozen: no desired state for a while (the watchdog may fire)
      if (!hb_.alive) return;
      hb_.frozen_until = std::max(hb_.frozen_until, now_ + uniform(100ms, 2s));
      trace("fault: heartbeat frozen until " + stamp(hb_.frozen_until));
      return;
    case 6:  // the heartbeat killed: its connection closes, it comes back later
      if (!hb_.alive) return;
      hb_.alive = false;
      hb_.seen.reset();
      abandon_watch("the heartbeat was killed");
      trace("fault: heartbeat killed");
      deliver(flow::heartbeat_lost{"closed"});
      schedule(now_ + uniform(200ms, 2s), ev::hb_restart);
      return;
    case 7:  // netlink errors: every kernel call fails and changes nothing
      abandon_watch("netlink errors hide the kernel");
      trace("fault: netlink errors");
      return start_lasting(lasting::netlink, 100ms, 2s);
    case 8:  // slow replies
      abandon_watch("kernel replies are slow");
      trace("fault: slow replies");
      return start_lasting(lasting::slow, 200ms, 3s);
    case 9:  // someone deletes the VIP by hand, a moment from now
      schedule(now_ + uniform(0ms, 1s), ev::remove_vip);
      return;
    case 10:  // removals fail (the address stays; releases still read it)
      trace("fault: removals fail");
      return start_lasting(lasting::removal_fails, 200ms, 3s);
    case 11:  // the executor stalls: nothing is processed, results queue up
      if (!ex_.running || ex_.stalled) return;
      abandon_watch("the executor stalled");
      ex_.stalled = true;
      ++ex_.tick_token;
      ex_.tick_at = time_point::max();
      trace("fault: executor stalls");
      schedule(now_ + uniform(100ms, 1500ms), ev::thaw, ex_.inc, ++ex_.stall_token);
      return;
    default:  // a quiet spell
      return;
  }
}

}  // namespace hasys::sim::exec_world
