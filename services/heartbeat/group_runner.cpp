// One group's loops: heartbeats out every period, datagrams in and authenticated, precise peer
// expiry, gateway verdicts, executor reports and operator commands, all fed to the role machine.
#include "group_runner.hpp"

#include "gateway_probe.hpp"
#include "peer_socket.hpp"

#include <hasys/daemon/spawn.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace hasys::heartbeat {

namespace {

cluster::time_point now() { return std::chrono::steady_clock::now(); }

std::int64_t wall_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

struct group_runner::timers {
  asio::steady_timer period;
  asio::steady_timer expiry;
  cluster::time_point peer_deadline = cluster::time_point::max();
  explicit timers(asio::any_io_executor ex) : period(ex), expiry(ex) {}
};

group_runner::group_runner(asio::any_io_executor fast, group_setup setup, group_output& out)
    : fast_(fast),
      setup_(std::move(setup)),
      out_(out),
      state_(cluster::initial_state(setup_.params, now())),
      verifier_(setup_.group, setup_.params.peer_name, setup_.key, setup_.peer_boot_floor),
      timers_(std::make_unique<timers>(fast)) {
  last_peer_boot_ = setup_.peer_boot_floor;
  state_.epoch = setup_.epoch;
  if (setup_.heartbeat_net) {
    const auto& l = *setup_.heartbeat_net;
    links_[0] = std::make_unique<peer_socket>(fast, l.self_address, l.peer_address, l.port, true);
  }
  const auto& p = setup_.public_net;
  links_[1] = std::make_unique<peer_socket>(fast, p.self_address, p.peer_address, p.port, false);
  if (setup_.gateway)
    gateway_ = std::make_unique<gateway_probe>(
        fast, asio::ip::make_address(*setup_.gateway), setup_.params.period, setup_.params.count,
        setup_.icmp_ident, [this] { feed(cluster::gateway_heard{}); },
        [this](bool reachable) { feed(cluster::gateway_changed{reachable}); });
}

group_runner::~group_runner() { stop(); }

void group_runner::start() {
  const std::string tag = "group " + setup_.group;
  daemon::spawn_or_die(fast_, period_loop(), tag + " period loop");
  daemon::spawn_or_die(fast_, expiry_loop(), tag + " expiry loop");
  for (std::size_t i = 0; i < cluster::link_count; ++i) {
    if (!links_[i]) continue;
    const auto via = static_cast<cluster::peer_link>(i);
    daemon::spawn_or_die(
        fast_, links_[i]->receive([this, via](std::span<const std::uint8_t> d) { on_datagram(via, d); }),
        tag + " receive loop");
  }
  if (gateway_) daemon::spawn_or_die(fast_, gateway_->run(), tag + " gateway probe");
  publish_status_if_changed(true);
}

void group_runner::stop() {
  if (stopped_) return;
  stopped_ = true;
  timers_->period.cancel();
  timers_->expiry.cancel();
  for (auto& l : links_)
    if (l) l->stop();
  if (gateway_) gateway_->stop();
}

// A wake-up this much later than due is a stall of this daemon, not timer noise.
constexpr auto stall_threshold = 1ms;

void group_runner::woke_late(std::chrono::steady_clock::time_point due, std::chrono::steady_clock::time_point t) {
  if (t - due < stall_threshold || in_stall_) return;
  in_stall_ = true;
  // First the time this loop could not look, so no link expires on the way; then everything the
  // peer sent meanwhile, in order, so no decision is taken on its stale reports.
  feed(cluster::stalled{due, t});
  for (std::size_t i = 0; i < cluster::link_count; ++i) {
    if (!links_[i]) continue;
    const auto via = static_cast<cluster::peer_link>(i);
    links_[i]->drain([this, via](std::span<const std::uint8_t> d) { on_datagram(via, d); });
  }
  in_stall_ = false;
}

// Whichever handler runs first after this daemon was not scheduled (a datagram, the executor's
// answer, a timer) finds its loop overdue and accounts for the stall before its own input.
void group_runner::check_stall() {
  if (in_stall_ || stopped_) return;
  auto due = next_period_at_;
  if (timers_->peer_deadline != cluster::time_point::max())
    due = std::min(due, std::chrono::steady_clock::time_point(timers_->peer_deadline.time_since_epoch()));
  woke_late(due, std::chrono::steady_clock::now());
}

asio::awaitable<void> group_runner::period_loop() {
  auto next = std::chrono::steady_clock::now();
  while (!stopped_) {
    const auto woke = std::chrono::steady_clock::now();
    send_late_.add(woke - next);  // how late this loop runs: the peer hears us that much later
    woke_late(next, woke);
    next_period_at_ = std::chrono::steady_clock::time_point::max();  // this lateness is counted
    if (setup_.params.grace_timeout > cluster::duration::zero() && woke >= grace_until_)
      setup_.params.grace_timeout = cluster::duration::zero();  // the transition is over
    feed(cluster::tick{});
    send_heartbeats();
    out_.desired(desired());
    publish_status_if_changed(false);
    // Fixed-rate schedule: a late wake-up does not push every later heartbeat back.
    next += setup_.params.period;
    const auto t = std::chrono::steady_clock::now();
    if (next < t) next = t;
    next_period_at_ = next;
    timers_->period.expires_at(next);
    co_await timers_->period.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Wakes exactly when the peer's silence reaches period x count, so detection does not wait for
// the next period tick.
asio::awaitable<void> group_runner::expiry_loop() {
  while (!stopped_) {
    auto deadline = timers_->peer_deadline;
    if (deadline == cluster::time_point::max()) deadline = now() + setup_.params.period;
    timers_->expiry.expires_at(std::chrono::steady_clock::time_point(deadline.time_since_epoch()));
    co_await timers_->expiry.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) co_return;
    if (timers_->peer_deadline != cluster::time_point::max() && now() >= timers_->peer_deadline) {
      // Before the peer's silence is judged: was this loop itself late? What the peer sent meanwhile
      // is read, and the time this node could not look moves the links' deadlines on.
      woke_late(std::chrono::steady_clock::time_point(deadline.time_since_epoch()), std::chrono::steady_clock::now());
      cluster::time_point next = cluster::time_point::max();
      for (const auto& l : state_.links)
        if (l.up) next = std::min(next, l.last_seen + setup_.params.peer_timeout() + 200us);
      if (next != cluster::time_point::max() && now() < next) {
        timers_->peer_deadline = next;
        continue;
      }
      timers_->peer_deadline = cluster::time_point::max();
      feed(cluster::tick{});
    }
  }
}

void group_runner::reconfigure(const cluster::params& p, std::optional<cluster::failover_mode> mode) {
  auto& q = setup_.params;
  if (p.period != q.period || p.count != q.count) {
    const auto before = q.peer_timeout();  // the longer one if a transition is already under way
    const auto t = std::chrono::steady_clock::now();
    q.grace_timeout = before;
    q.period = p.period;
    q.count = p.count;
    grace_until_ = t + std::chrono::duration_cast<std::chrono::steady_clock::duration>(before + q.own_timeout()) +
                   std::chrono::seconds(2);
    if (gateway_) gateway_->retime(q.period, q.count);
    timers_->period.cancel();  // the next heartbeat at the new period
  }
  q.active_priority = p.active_priority;
  q.start_window = p.start_window;  // for a start still under way; the next start reads the file
  q.flow_timeout = p.flow_timeout;
  if (mode)
    command(*mode == cluster::failover_mode::manual ? cluster::command_kind::set_mode_manual
                                                   : cluster::command_kind::set_mode_auto);
  publish_status_if_changed(true);
}

void group_runner::on_datagram(cluster::peer_link via, std::span<const std::uint8_t> d) {
  // After a stall this datagram may be the oldest of many waiting: the stall and the newer ones
  // come first, so the report below is judged against them (it never overwrites a newer one).
  check_stall();
  const proto::heartbeat_packet* p = verifier_.verify(d);
  if (!p) return;
  const auto i = static_cast<std::size_t>(via);
  ++received_[i];
  const auto t = std::chrono::steady_clock::now();
  if (last_rx_[i] != std::chrono::steady_clock::time_point{}) gaps_[i].add(t - last_rx_[i]);
  last_rx_[i] = t;
  peer_clock_unix_ms_ = p->sent_unix_ns / 1'000'000;
  if (verifier_.peer_boot_id() != last_peer_boot_) {
    last_peer_boot_ = verifier_.peer_boot_id();
    out_.peer_boot(setup_.group, last_peer_boot_);
  }
  // Datagrams of the two networks, or one read ahead by a pending receive and others drained
  // after a stall, come out of order: an older report proves its link alive but never replaces
  // the newer one (the verifier admits boot ids only upwards, so a new boot is newer).
  if (p->report.boot_id != newest_boot_ || p->seq > newest_seq_) {
    newest_boot_ = p->report.boot_id;
    newest_seq_ = p->seq;
    newest_report_ = p->report;
  }
  feed(cluster::heartbeat_received{via, newest_report_});
  timers_->peer_deadline = now() + setup_.params.peer_timeout() + 200us;
}

void group_runner::feed(const cluster::input& in) {
  if (stopped_) return;
  if (!std::holds_alternative<cluster::stalled>(in)) check_stall();
  const auto before = cluster::advertise(setup_.params, state_);
  auto t = cluster::step(setup_.params, state_, in, now());
  state_ = std::move(t.next);
  if (state_.epoch != before.epoch) out_.epoch(setup_.group, state_.epoch);
  for (auto& a : t.actions) {
    if (auto* e = std::get_if<cluster::raise_event>(&a)) {
      out_.event(proto::event_msg{proto::unix_ms_now(), setup_.group, setup_.node, "heartbeat",
                                  e->level, std::move(e->code), std::move(e->text), {}});
    } else if (auto* f = std::get_if<cluster::run_flow>(&a)) {
      out_.desired(desired());
      if (setup_.standalone)
        asio::post(fast_, [this, f = *f] { feed(cluster::flow_finished{f.epoch, f.up, true, "standalone"}); });
    } else if (auto* r = std::get_if<cluster::command_reply>(&a)) {
      last_reply_ = *r;
    } else if (std::holds_alternative<cluster::announce_addresses>(a)) {
      ++announce_;
      out_.desired(desired());
    } else if (auto* rb = std::get_if<cluster::reboot_node>(&a)) {
      out_.reboot(setup_.group, rb->reason);
    }
  }
  if (cluster::advertise(setup_.params, state_) != before) send_heartbeats();  // tell the peer now
  publish_status_if_changed(false);
}

void group_runner::send_heartbeats() {
  proto::heartbeat_packet p;
  p.group = setup_.group;
  p.node = setup_.node;
  p.sent_unix_ns = wall_ns();
  p.report = cluster::advertise(setup_.params, state_);
  for (auto& l : links_) {
    if (!l) continue;
    p.seq = ++seq_;  // one sequence over both links: the peer's replay window spans them
    l->send(proto::encode(p, setup_.key));
  }
}

cluster::command_reply group_runner::command(cluster::command_kind kind) {
  last_reply_ = {false, "no reply from the role machine"};
  feed(cluster::operator_command{kind});
  return last_reply_;
}

std::pair<cluster::command_reply, cluster::role> group_runner::preview(
    cluster::command_kind kind) const {
  auto t = cluster::step(setup_.params, state_, cluster::operator_command{kind}, now());
  for (const auto& a : t.actions)
    if (const auto* r = std::get_if<cluster::command_reply>(&a)) return {*r, t.next.current};
  return {{false, "no reply from the role machine"}, state_.current};
}

void group_runner::health(const proto::health_msg& h) {
  // Only the newest verdict counts: a restarted monitor has a higher boot id (its boot ids only
  // grow) and starts a new sequence; a late message of an older boot is not the truth any more.
  if (health_ && (h.monitor_boot < health_->monitor_boot ||
                  (h.monitor_boot == health_->monitor_boot && h.seq <= health_->seq)))
    return;
  health_ = h;
  health_at_ = std::chrono::steady_clock::now();
  const int failing = h.healthy ? 0 : std::max(1, h.failing_managed);
  const bool reboot = !h.healthy && h.reboot_after_failover;
  if (h.healthy != state_.healthy || failing != state_.health_failing ||
      h.reason != state_.health_reason || reboot != state_.health_reboot)
    feed(cluster::health_changed{h.healthy, failing, h.reason, reboot});
}

void group_runner::observed(const proto::observed_state& o) {
  observed_ = o;
  executor_connected_ = true;
  // Level first: whether anything may still be held decides what the phases below may end in.
  if (o.holding != state_.executor_holding) feed(cluster::resources_held{o.holding});
  if (o.phase == proto::flow_phase::released) {
    feed(cluster::resources_released{o.epoch, o.detail});
    return;
  }
  if (o.phase == proto::flow_phase::releasing) {
    feed(cluster::resources_releasing{o.epoch, o.detail});
    return;
  }
  // The Active's flow failed after it was up (a resource it brought back failed to come up).
  if (o.phase == proto::flow_phase::failed && o.up && o.epoch == state_.epoch &&
      state_.current == cluster::role::active && !state_.flow_pending) {
    feed(cluster::flow_finished{o.epoch, true, false, o.detail});
    return;
  }
  if (!state_.flow_pending || o.epoch != state_.epoch) return;
  const bool want_up = state_.current == cluster::role::activating;
  if (o.up != want_up) return;
  if (o.phase == proto::flow_phase::done || o.phase == proto::flow_phase::failed)
    feed(cluster::flow_finished{o.epoch, o.up, o.phase == proto::flow_phase::done, o.detail});
}

proto::desired_state group_runner::desired() const {
  proto::desired_state d;
  d.group = setup_.group;
  d.epoch = state_.epoch;
  d.up = state_.current == cluster::role::activating || state_.current == cluster::role::active;
  d.handover = state_.handover && state_.current == cluster::role::deactivating;
  d.heartbeat_boot = setup_.params.boot_id;
  d.watchdog_ms = std::chrono::duration_cast<std::chrono::milliseconds>(setup_.params.executor_watchdog()).count();
  d.announce = announce_;
  // Stamped now: the executor judges this daemon's silence on this clock (CLOCK_MONOTONIC).
  d.sent_mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
  if (d.up) {
    d.decided_mono_ns = state_.decided_at.time_since_epoch().count();
    d.peer_heard_mono_ns = state_.peer_heard_before.time_since_epoch().count();
  }
  return d;
}

proto::status_msg group_runner::status() const {
  const auto t = now();
  proto::status_msg m;
  m.group = setup_.group;
  m.node = setup_.node;
  m.time_unix_ms = proto::unix_ms_now();
  m.boot_id = setup_.params.boot_id;
  m.role = state_.current;
  m.mode = state_.mode;
  m.epoch = state_.epoch;
  m.role_for_ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - state_.since).count();
  m.healthy = state_.healthy;
  m.health.failing = state_.health_failing;
  m.health.reason = state_.health_reason;
  if (health_) {
    m.health.monitor = true;
    m.health.monitor_seen_ms_ago =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - health_at_).count();
    m.health.findings = health_->findings;
    m.health.processes = health_->processes;
  }
  m.held = state_.held;
  m.handover = state_.handover;
  m.handover_request = state_.handover_request;
  m.active_priority = setup_.params.active_priority;
  m.period_ms = std::chrono::duration_cast<std::chrono::milliseconds>(setup_.params.period).count();
  m.count = setup_.params.count;
  m.gateway_configured = setup_.gateway.has_value();
  m.gateway = setup_.gateway.value_or("");
  m.gateway_ok = state_.gateway_ok;
  for (std::size_t i = 0; i < cluster::link_count; ++i) {
    auto& v = i == 0 ? m.heartbeat_link : m.public_link;
    v.configured = links_[i] != nullptr;
    v.up = state_.links[i].up;
    if (state_.links[i].last_seen != cluster::time_point{})
      v.last_seen_ms_ago.emplace(
          std::chrono::duration_cast<std::chrono::milliseconds>(t - state_.links[i].last_seen).count());
    if (links_[i]) {
      v.sent = links_[i]->sent();
      v.send_errors = links_[i]->send_errors();
    }
    v.received = received_[i];
  }
  m.peer.name = setup_.params.peer_name;
  m.peer.alive = state_.peer_alive;
  if (state_.peer) {
    const auto& r = *state_.peer;
    m.peer.role = r.current;
    m.peer.mode = r.mode;
    m.peer.epoch = r.epoch;
    m.peer.boot_id = r.boot_id;
    m.peer.gateway_ok = r.gateway_ok;
    m.peer.healthy = r.healthy;
    m.peer.health_failing = r.health_failing;
    m.peer.active_priority = r.active_priority;
    m.peer.held = r.held;
    m.peer.clock_unix_ms = peer_clock_unix_ms_;
  }
  m.flow.pending = state_.flow_pending;
  m.flow.want_up = desired().up;
  m.flow.epoch = state_.epoch;
  m.flow.standalone = setup_.standalone;
  m.flow.executor_connected = executor_connected_;
  if (!observed_.group.empty()) {
    m.flow.observed = std::string(proto::to_string(observed_.phase));
    m.flow.detail = observed_.detail;
    m.flow.holding = observed_.holding;
    m.flow.ready = observed_.ready;
    m.flow.ready_unix_ms = observed_.ready_unix_ms;
    m.flow.resources = observed_.resources;
    m.flow.executor_counters = observed_.counters;
  }
  if (executor_bad_messages)
    if (auto n = executor_bad_messages()) m.flow.executor_counters["bad_observed_messages"] = n;
  m.jitter.send_late = send_late_;
  m.jitter.heartbeat_gap = gaps_[0];
  m.jitter.public_gap = gaps_[1];
  m.jitter.stalls = state_.stalls;
  m.jitter.longest_stall_us = std::chrono::duration_cast<std::chrono::microseconds>(state_.longest_stall).count();
  const auto& c = verifier_.counters();
  for (std::size_t i = 0; i < c.dropped.size(); ++i)
    if (c.dropped[i]) m.dropped[std::string(proto::to_string(static_cast<proto::drop_reason>(i)))] = c.dropped[i];
  return m;
}

// What makes a status worth publishing before the next once-a-second one.
group_runner::status_key_t group_runner::status_key() const {
  const auto& p = state_.peer;
  return {static_cast<int>(state_.current), static_cast<int>(state_.mode), state_.epoch,
          state_.healthy, state_.held, state_.handover, state_.handover_request, state_.gateway_ok,
          state_.links[0].up, state_.links[1].up, state_.peer_alive, state_.flow_pending,
          p ? static_cast<int>(p->current) : -1, p ? p->epoch : 0, p && p->gateway_ok,
          p ? static_cast<int>(p->mode) : -1, static_cast<int>(observed_.phase), observed_.epoch,
          observed_.holding, executor_connected_, state_.health_failing, state_.health_reason};
}

void group_runner::publish_status_if_changed(bool force) {
  auto key = status_key();
  const auto t = std::chrono::steady_clock::now();
  if (!force && key == last_status_key_ && t - last_status_ < 1s) return;
  last_status_key_ = key;
  last_status_ = t;
  out_.status(status());
}

}  // namespace hasys::heartbeat
