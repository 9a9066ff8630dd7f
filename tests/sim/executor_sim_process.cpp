// The executor simulation's executor process: a flow machine fed with what comes back, its
// actions carried out on the simulated kernel and clock, restarted from its journal on disk.
#include "executor_sim_world.hpp"

#include <algorithm>

namespace hasys::sim::exec_world {

void world::exec_start() {
  ++ex_.inc;
  if (ex_.inc > 1) ++report_.restarts;
  ex_.running = true;
  ex_.stalled = false;
  ex_.out.clear();
  ex_.step_id.reset();
  ex_.backlog.clear();
  ++ex_.tick_token;
  ex_.tick_at = time_point::max();
  ex_.desired_last = now_;
  auto t = flow::initial_state(p_, disk_, "boot-1", now_);
  ex_.s = std::move(t.next);
  trace("executor #" + std::to_string(ex_.inc) + " starts: journal up_count " +
        std::to_string(disk_.up_count) + " acting " + std::to_string(disk_.acting_epoch) +
        " fenced " + std::to_string(disk_.fenced_epoch) + " in_progress " +
        std::to_string(disk_.in_progress) + (disk_.in_progress_up ? " up" : " down"));
  arm_watch();
  for (const auto& a : t.actions) {
    act(a);
    if (!ex_.running || report_.violation) return;
  }
  arm_tick();
}

void world::exec_end(const std::string& why) {
  trace("executor #" + std::to_string(ex_.inc) + " ends: " + why);
  lose_ops_out();
  ex_.running = false;
  ex_.stalled = false;
  ex_.backlog.clear();
  ++ex_.tick_token;
  abandon_watch("the executor ended");
  if (!ex_.restart_pending) {
    ex_.restart_pending = true;
    schedule(now_ + uniform(100ms, 3s), ev::exec_start);
  }
}

// What was out when the process died: each kernel change went through, or it did not.
void world::lose_ops_out() {
  for (const auto& [id, op] : ex_.out) {
    if (on(lasting::netlink) || !chance(0.5)) continue;
    if (op.is_step && op.step.node == 0 && !op.cancelled) {
      if (op.step.up)
        kernel_add("an up run cut short by the end");
      else if (!on(lasting::removal_fails))
        kernel_remove("a down run cut short by the end");
    } else if (!op.is_step && op.io.op == flow::io_op::refresh) {
      kernel_refresh();
    } else if (!op.is_step && op.io.op == flow::io_op::release && !on(lasting::removal_fails)) {
      kernel_remove("a release cut short by the end");
    }
  }
  ex_.out.clear();
  ex_.step_id.reset();
}

void world::deliver(flow::input in) {
  if (!ex_.running) return;
  if (ex_.stalled) {
    ex_.backlog.push_back(std::move(in));
    return;
  }
  feed(in);
}

void world::feed(const flow::input& in) {
  auto t = flow::step(p_, ex_.s, in, now_);
  ex_.s = std::move(t.next);
  if (const auto* d = std::get_if<flow::desired_received>(&in)) {
    if (watch_ && watch_->inc == ex_.inc && !watch_->first_up) {
      if (d->d.up && d->d.epoch == watch_->epoch)
        watch_->first_up = now_;
      else
        abandon_watch("the first desired state was not up for the journal's epoch");
    }
  }
  for (const auto& a : t.actions) {
    act(a);
    if (!ex_.running || report_.violation) return;
  }
  // The executor answers every desired state with its observed state (level-triggered).
  if (std::holds_alternative<flow::desired_received>(in)) report(true);
  arm_tick();
}

void world::act(const flow::action& a) {
  if (const auto* st = std::get_if<flow::run_step>(&a)) {
    const auto id = ++op_ids_;
    ex_.out[id] = op_out{true, false, *st, {}};
    ex_.step_id = id;
    schedule(now_ + uniform(step_min, step_max), ev::step_end, ex_.inc, id);
    // ADR 0003: a lease that lapsed is fenced, never added back under the same epoch (counted;
    // the test requires zero). Results that waited out a stall are judged from their request
    // time, and a refresh that finds it gone after unknown ones counts as news.
    if (st->node == 0 && st->up && lapsed_ == std::pair{ex_.inc, st->epoch}) {
      ++report_.readds_after_lapse;
      trace("the VIP's lease ran out under this run and it is added back without a fence");
    }
    trace(std::string("run ") + p_.nodes[st->node].name + (st->up ? " up" : " down") + " epoch " +
          std::to_string(st->epoch));
  } else if (const auto* r = std::get_if<flow::io_request>(&a)) {
    if (r->op == flow::io_op::announce) {
      announced();
      trace("announce: " + r->reason);
    } else if (r->op != flow::io_op::refresh) {
      trace(std::string("io ") + std::string(flow::to_string(r->op)));
    }
    const auto slow = on(lasting::slow) && r->op != flow::io_op::announce;
    const auto delay = uniform(io_min, slow ? io_slow_max : io_max);
    if (delay > io_max) {
      slow_out_until_ = std::max(slow_out_until_, now_ + delay);
      if (!k_.present) absence_slow_ = true;
    }
    const auto id = ++op_ids_;
    ex_.out[id] = op_out{false, false, {}, *r};
    schedule(now_ + delay, ev::io_end, ex_.inc, id);
  } else if (std::holds_alternative<flow::cancel_step>(a)) {
    if (!ex_.step_id || !ex_.out.count(*ex_.step_id)) return;
    auto op = ex_.out[*ex_.step_id];
    ex_.out.erase(*ex_.step_id);
    // The VIP's add may already have gone through when the cancel came.
    if (op.step.node == 0 && op.step.up && !on(lasting::netlink) && chance(0.5))
      kernel_add("a cancelled up run had added it");
    op.cancelled = true;
    const auto id = ++op_ids_;
    ex_.out[id] = op;
    ex_.step_id = id;
    schedule(now_ + uniform(0ms, 2ms), ev::step_end, ex_.inc, id);
    trace("cancel the run out");
  } else if (std::holds_alternative<flow::report_changed>(a)) {
    report(false);
  } else if (const auto* j = std::get_if<flow::save_journal>(&a)) {
    disk_ = j->j;
  } else if (const auto* e = std::get_if<flow::raise_event>(&a)) {
    if (e->code == "fenced") {
      ++report_.fences;
      lapsed_.reset();
    }
    if (e->code == "resource_adopted") ++report_.adoptions;
    trace("event " + e->code + ": " + e->text);
  } else if (std::holds_alternative<flow::exit_ready>(a)) {
    exec_end("exit_ready");
  } else if (std::holds_alternative<flow::run_program>(a)) {
    violate("a program was asked for, but none is configured");
  }
}

void world::arm_tick() {
  if (!ex_.running || ex_.stalled) return;
  const auto t = flow::next_deadline(p_, ex_.s);
  if (t == ex_.tick_at) return;
  ++ex_.tick_token;
  ex_.tick_at = t;
  if (t != time_point::max()) schedule(std::max(t, now_), ev::tick, ex_.inc, ex_.tick_token);
}

void world::on_tick(const event& e) {
  if (e.gen != ex_.inc || e.id != ex_.tick_token || !ex_.running || ex_.stalled) return;
  ex_.tick_at = time_point::max();
  if (now_ == ex_.same_tick_at) {
    if (++ex_.same_ticks > 100)
      return violate("the executor wakes in a busy loop: next_deadline stays at " + stamp(now_) +
                     " and a tick there changes nothing");
  } else {
    ex_.same_tick_at = now_;
    ex_.same_ticks = 1;
  }
  feed(flow::tick{});
}

void world::on_step_end(const event& e) {
  if (e.gen != ex_.inc || !ex_.running) return;
  const auto it = ex_.out.find(e.id);
  if (it == ex_.out.end()) return;
  const auto op = it->second;
  ex_.out.erase(it);
  if (ex_.step_id == e.id) ex_.step_id.reset();
  bool ok = true;
  std::string detail;
  if (op.cancelled) {
    ok = false;
    detail = "cancelled: the executor is releasing the group";
  } else if (op.step.node == 0) {
    if (on(lasting::netlink)) {
      ok = false;
      detail = "RTNETLINK answers: No buffer space available";
    } else if (op.step.up) {
      kernel_add("vip up");
      announced();  // the driver announces as it adds
    } else if (on(lasting::removal_fails)) {
      ok = false;
      detail = "RTM_DELADDR: Operation not permitted";
    } else {
      kernel_remove("vip down");
    }
  }
  trace(std::string("done ") + p_.nodes[op.step.node].name + (op.step.up ? " up" : " down") +
        (ok ? " ok" : " failed: " + detail));
  deliver(flow::step_done{op.step.node, op.step.up, op.step.epoch, ok, detail});
}

void world::on_io_end(const event& e) {
  if (e.gen != ex_.inc || !ex_.running) return;
  const auto it = ex_.out.find(e.id);
  if (it == ex_.out.end()) return;
  const auto r = it->second.io;
  ex_.out.erase(it);
  flow::io_done d{r.node, r.op, flow::presence::unknown, {}};
  auto seen = [&] { return k_.present ? flow::presence::present : flow::presence::absent; };
  if (r.op != flow::io_op::announce && on(lasting::netlink)) {
    d.error = "netlink: Connection refused";  // changes nothing, tells nothing
  } else if (r.op == flow::io_op::check) {
    d.seen = seen();
  } else if (r.op == flow::io_op::refresh) {
    d.seen = kernel_refresh() ? flow::presence::present : flow::presence::absent;
  } else if (r.op == flow::io_op::release) {
    if (!on(lasting::removal_fails)) kernel_remove("released");
    d.seen = seen();
    if (k_.present) d.error = "RTM_DELADDR: Operation not permitted";
  }
  if (r.op != flow::io_op::announce &&
      (r.op != flow::io_op::refresh || d.seen != flow::presence::present))
    trace(std::string("io ") + std::string(flow::to_string(r.op)) + " -> " +
          std::string(flow::to_string(d.seen)) + (d.error.empty() ? "" : " (" + d.error + ")"));
  deliver(d);
}

void world::on_thaw(const event& e) {
  if (e.gen != ex_.inc || e.id != ex_.stall_token || !ex_.running || !ex_.stalled) return;
  ex_.stalled = false;
  auto backlog = std::move(ex_.backlog);
  ex_.backlog.clear();
  trace("executor thawed, " + std::to_string(backlog.size()) + " inputs waiting");
  for (const auto& in : backlog) {
    feed(in);
    if (!ex_.running || report_.violation) return;
  }
  arm_tick();
}

// What the executor tells the heartbeat: on every change and in answer to every desired state.
void world::report(bool level) {
  const auto o = flow::observe(ex_.s);
  check_report(o);
  if (hb_.alive) hb_.seen = o;
  const auto line = "report " + std::string(flow::to_string(o.ph)) + " epoch " +
                    std::to_string(o.epoch) + (o.up ? " up" : " down") +
                    (o.holding ? " holding" : " not holding");
  if (line != traced_report_) {
    traced_report_ = line;
    trace(line + (o.detail.empty() ? "" : " [" + o.detail + "]") + (level ? " (answer)" : ""));
  }
}

}  // namespace hasys::sim::exec_world
