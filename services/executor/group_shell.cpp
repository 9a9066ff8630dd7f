// The shell of one group's flow machine: feeds it, carries out its actions, wakes it on time.
#include "group_shell.hpp"

#include <hasys/daemon/spawn.hpp>
#include <hasys/sys/process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace hasys::executor {

namespace {

flow::time_point now() { return std::chrono::steady_clock::now(); }

std::int64_t ms(flow::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

proto::flow_phase to_proto(flow::phase p) {
  switch (p) {
    case flow::phase::idle:
      return proto::flow_phase::idle;
    case flow::phase::running:
      return proto::flow_phase::running;
    case flow::phase::done:
      return proto::flow_phase::done;
    case flow::phase::failed:
      return proto::flow_phase::failed;
    case flow::phase::releasing:
      return proto::flow_phase::releasing;
    case flow::phase::released:
      return proto::flow_phase::released;
  }
  return proto::flow_phase::idle;
}

}  // namespace

group_shell::group_shell(asio::any_io_executor ex, const config::node_config& node,
                         const config::group_config& group, event_sink& events,
                         resource_services& services, bool simulate, std::string machine_boot,
                         reporter report)
    : group_(group),
      services_(services),
      journal_(ex, services.lanes, node.state_dir / "executor" / (group.name + ".json"),
               [this](const std::string& why) {
                 context_.events->event(name(), cluster::severity::warning, "journal",
                                        "Resource flow journal not written [" + why + "]");
               }),
      report_(std::move(report)),
      clock_(ex) {
  context_.ex = ex;
  context_.group = group.name;
  context_.node = node.name;
  context_.peer = group.peer_name;
  context_.peer_public_address = group.public_net.peer_address;
  context_.events = &events;
  context_.simulate = simulate;
  context_.takeover = &takeover_;
  params_.group = group.name;
  for (const auto& n : group.flow) {
    resources_.push_back(make_resource(n, group, services));
    params_.nodes.push_back(resources_.back()->spec());
  }
  params_.announce_every = group.announce_interval;
  params_.common_start = !group.common_start.empty();
  params_.failover_condition = group.failover_condition && !group.failover_condition_script.empty();
  auto t = flow::initial_state(params_,
                               read_journal(node.state_dir / "executor" / (group.name + ".json")),
                               machine_boot, now());
  state_ = std::move(t.next);
  initial_ = std::move(t.actions);
}

group_shell::~group_shell() = default;

void group_shell::start() {
  const std::string tag = "group " + name();
  daemon::spawn_or_die(context_.ex, journal_.run(), tag + " journal");
  daemon::spawn_or_die(context_.ex, clock_loop(), tag + " clock");
  for (auto& r : resources_)
    daemon::spawn_or_die(context_.ex, r->run(context_), tag + " " + r->spec().name);
  if (group_.readiness_interval.count() > 0)
    daemon::spawn_or_die(context_.ex, readiness_loop(), tag + " readiness");
  started_ = true;
  feeding_ = true;  // the start's own actions first, then whatever came meanwhile
  for (auto& a : initial_) act(a);
  initial_.clear();
  feeding_ = false;
  feed(flow::tick{});
}

void group_shell::desired(const proto::desired_state& d) {
  // The first word of a new up epoch starts its takeover's clock; an epoch this node already
  // acts for (an executor restarted under it) is no takeover.
  if (d.up && d.epoch != takeover_.epoch && d.epoch != state_.j.acting_epoch) {
    using clock = std::chrono::steady_clock;
    const auto at = [](std::int64_t ns) { return ns > 0 ? clock::time_point(std::chrono::nanoseconds(ns)) : clock::time_point{}; };
    takeover_ = {d.epoch, at(d.peer_heard_mono_ns), at(d.decided_mono_ns), clock::now()};
  }
  flow::desired in{
      d.epoch,     d.up, d.handover, d.announce, std::chrono::milliseconds(d.watchdog_ms),
      std::nullopt};
  if (d.sent_mono_ns > 0) in.sent = flow::time_point(std::chrono::nanoseconds(d.sent_mono_ns));
  feed(flow::desired_received{in});
  report_(observed());  // level-triggered: every desired state gets the current answer
}

void group_shell::heartbeat_lost(const std::string& why) { feed(flow::heartbeat_lost{why}); }

void group_shell::stop(bool at_once) { feed(flow::stop_requested{at_once}); }

void group_shell::feed(const flow::input& in) {
  // What the heartbeat already sent is read before any input is judged (issue 18): an input that
  // comes first after this process was not scheduled — a lease refresh's answer, a step's end —
  // would otherwise judge the watchdog on a word that waits unread in the socket. Read desired
  // states queue ahead of it; a desired state itself comes from the socket in order.
  if (!feeding_ && started_ && drain_control && !std::holds_alternative<flow::desired_received>(in)) {
    feeding_ = true;
    drain_control();
    feeding_ = false;
  }
  queued_.push_back(in);
  if (feeding_ || !started_) return;
  feeding_ = true;
  while (!queued_.empty()) {
    auto next = std::move(queued_.front());
    queued_.pop_front();
    auto t = flow::step(params_, state_, next, now());
    state_ = std::move(t.next);
    for (auto& a : t.actions) act(a);
  }
  feeding_ = false;
  clock_.cancel();  // the next deadline may have moved
}

void group_shell::act(const flow::action& a) {
  const std::string tag = "group " + name();
  if (auto* st = std::get_if<flow::run_step>(&a)) {
    daemon::spawn_or_die(context_.ex, step_task(*st, journal_ticket_), tag + " step",
                         step_cancel_.slot());
  } else if (auto* p = std::get_if<flow::run_program>(&a)) {
    daemon::spawn_or_die(context_.ex, program_task(*p), tag + " program");
  } else if (auto* r = std::get_if<flow::io_request>(&a)) {
    daemon::spawn_or_die(context_.ex, io_task(*r), tag + " " + std::string(flow::to_string(r->op)));
  } else if (std::holds_alternative<flow::cancel_step>(a)) {
    step_cancel_.emit(asio::cancellation_type::terminal);
  } else if (std::holds_alternative<flow::report_changed>(a)) {
    report_(observed());
  } else if (auto* j = std::get_if<flow::save_journal>(&a)) {
    journal_ticket_ = journal_.write(j->j);
  } else if (auto* e = std::get_if<flow::raise_event>(&a)) {
    context_.events->event(name(), e->level, e->code, e->text, e->details);
  } else if (std::holds_alternative<flow::exit_ready>(a)) {
    // The journal's latest state goes to disk before the process may exit.
    daemon::spawn_or_die(
        context_.ex,
        [](group_shell* self, std::uint64_t ticket) -> asio::awaitable<void> {
          co_await self->journal_.written(ticket);
          if (self->on_stopped) self->on_stopped();
        }(this, journal_ticket_),
        tag + " stop");
  }
}

asio::awaitable<void> group_shell::clock_loop() {
  for (;;) {
    const auto t = flow::next_deadline(params_, state_);
    clock_.expires_at(t == flow::time_point::max() ? asio::steady_timer::time_point::max() : t);
    co_await clock_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (state_.at == flow::stage::stopped) co_return;
    // The self-stall guard: if this process was not scheduled in time, the heartbeat's messages
    // of that time wait in the socket; feed() reads them before its silence is judged.
    if (t != flow::time_point::max() && now() >= t) feed(flow::tick{});
  }
}

asio::awaitable<void> group_shell::step_task(flow::run_step st, std::uint64_t journal_ticket) {
  auto& r = *resources_[st.node];
  step_result res;
  try {
    // A restart must know a script was started (it is never run twice); a resource it can verify
    // (a VIP, a mount) it looks at instead, so that step does not wait for the disk: the
    // takeover's critical path holds no file write.
    if (!r.spec().observable) co_await journal_.written(journal_ticket);
    asio::steady_timer deadline(context_.ex, r.timeout());
    // Named first: GCC 12 destroys a conditional's temporary awaitable twice inside co_await.
    asio::awaitable<step_result> op = st.up ? r.up(context_, st.epoch) : r.down(context_, st.epoch);
    auto v = co_await (std::move(op) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (v.index() == 1)
      res = {false, std::string(flow::to_string(r.spec().kind)) + " " + r.spec().name +
                        " timed out after " + std::to_string(r.timeout().count()) + " ms"};
    else
      res = std::get<0>(std::move(v));
  } catch (const boost::system::system_error& e) {
    res = {false, e.code() == asio::error::operation_aborted
                      ? "cancelled: the executor is releasing the group"
                      : std::string(e.what())};
  }
  feed(flow::step_done{st.node, st.up, st.epoch, res.ok, res.detail});
}

asio::awaitable<void> group_shell::io_task(flow::io_request req) {
  auto& r = *resources_[req.node];
  flow::io_done d{req.node, req.op, flow::presence::unknown, {}};
  if (req.op == flow::io_op::announce) {
    std::string reason = req.reason;
    auto c = co_await r.announce(context_, std::move(reason));
    if (!c.ok) d.error = c.error.empty() ? "announce failed" : c.error;
  } else {
    // Named first: GCC 12 destroys a conditional's temporary awaitable twice inside co_await.
    asio::awaitable<verify_result> op = req.op == flow::io_op::check     ? r.check(context_)
                                        : req.op == flow::io_op::refresh ? r.refresh(context_)
                                                                         : r.release(context_);
    auto v = co_await std::move(op);
    d.seen = v.seen;
    d.error = v.error;
  }
  feed(d);
}

asio::awaitable<void> group_shell::program_task(flow::run_program p) {
  step_result r;
  if (p.which == flow::program::common_start) {
    std::string what = "Common start program";
    r = co_await run_group_program(
        context_, 0, std::move(what), group_.common_start,
        std::max<std::chrono::milliseconds>(group_.common_start_wait, 1s));
  } else {
    std::string what = "Failover condition script";
    r = co_await run_group_program(context_, p.epoch, std::move(what),
                                   group_.failover_condition_script,
                                   group_.failover_condition_wait);
  }
  feed(flow::program_done{p.which, r.ok, r.detail});
}

proto::observed_state group_shell::observed() const {
  const auto o = flow::observe(state_);
  proto::observed_state m{name(), o.epoch, o.up, to_proto(o.ph), o.detail, o.holding, {}, {}};
  const auto t = now();
  for (std::size_t i = 0; i < params_.nodes.size(); ++i) {
    const auto& n = params_.nodes[i];
    const auto& r = state_.res[i];
    proto::resource_status s;
    s.name = n.name;
    s.kind = std::string(flow::to_string(n.kind));
    if (!n.observable) {
      s.state = "unverifiable";
    } else {
      s.state = std::string(flow::to_string(r.seen));
      if (r.checked_at != flow::time_point{}) s.verified_ms_ago = ms(t - r.checked_at);
      s.error = r.error;
      s.errors = r.errors;
    }
    m.resources.push_back(std::move(s));
  }
  if (journal_.failures()) m.counters["journal_write_failures"] = journal_.failures();
  m.ready = ready_;
  m.ready_unix_ms = ready_unix_ms_;
  return m;
}

asio::awaitable<group_shell::readiness_report> group_shell::readiness(bool said) {
  readiness_report r;
  for (auto& res : resources_) {
    auto checks = co_await res->ready(context_);
    r.checks.insert(r.checks.end(), checks.begin(), checks.end());
  }
  std::vector<program_to_check> programs;
  if (group_.failover_condition)
    programs.push_back({"failover condition script", group_.failover_condition_script, ""});
  if (!group_.common_start.empty())
    programs.push_back({"common start program", group_.common_start, ""});
  for (const auto& m : group_.monitor.processes) {
    if (!m.recovery || m.start.empty()) continue;
    programs.push_back({"process " + m.name + " start command",
                        m.start.substr(0, m.start.find_first_of(" \t")), m.user});
  }
  auto checked = co_await check_programs(services_, std::move(programs));
  r.checks.insert(r.checks.end(), checked.begin(), checked.end());
  std::string failures;
  for (const auto& c : r.checks) {
    if (c.ok) continue;
    r.ready = false;
    failures += (failures.empty() ? "" : "; ") + c.what + ": " + c.detail;
  }
  r.summary = r.ready ? "ready to take over (" + std::to_string(r.checks.size()) + " checks)"
                      : "not ready: " + failures;
  const bool changed = r.summary != ready_summary_;
  ready_summary_ = r.summary;
  ready_ = r.ready ? "ready" : r.summary;
  ready_unix_ms_ = proto::unix_ms_now();
  if ((changed || said) && context_.events) {
    std::map<std::string, std::string> details;
    for (const auto& c : r.checks) details[c.what] = (c.ok ? "ok: " : "FAILED: ") + c.detail;
    context_.events->event(name(),
                           r.ready ? cluster::severity::information : cluster::severity::warning,
                           r.ready ? "standby_ready" : "standby_not_ready",
                           std::string(r.ready ? "Standby is ready to take over"
                                               : "Standby is not ready to take over") +
                               " [" + context_.node + (r.ready ? "" : ": " + failures) + "]",
                           std::move(details));
  }
  co_return r;
}

// While this node is not Active, check every readiness_interval (and once shortly after start).
asio::awaitable<void> group_shell::readiness_loop() {
  asio::steady_timer t(context_.ex);
  t.expires_after(5s);
  for (;;) {
    co_await t.async_wait(asio::use_awaitable);
    const bool active_here = state_.want && state_.want->up;
    if (!active_here && !stopped()) {
      co_await readiness(false);
    } else if (active_here) {
      ready_.clear();  // it is the Active: the question is the peer's
    }
    t.expires_after(group_.readiness_interval);
  }
}

asio::awaitable<step_result> group_shell::common_program(bool start) {
  const auto& program = start ? group_.common_start : group_.common_stop;
  if (program.empty())
    co_return step_result{
        false, std::string("no ") + (start ? "common_start" : "common_stop") + " is configured"};
  std::string what = start ? "Common start program" : "Common stop program";
  co_return co_await run_group_program(
      context_, state_.j.acting_epoch, std::move(what), program,
      std::max<std::chrono::milliseconds>(group_.common_start_wait, 1s));
}

}  // namespace hasys::executor
