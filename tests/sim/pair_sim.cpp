// The simulated world: clock, event queue, two links, a gateway, executors, faults, invariants.
#include "pair_sim.hpp"

#include <array>
#include <deque>
#include <queue>
#include <random>
#include <sstream>

namespace hasys::sim {

using namespace std::chrono_literals;
using cluster::duration;
using cluster::peer_link;
using cluster::role;
using cluster::time_point;

namespace {

constexpr duration max_flow = 200ms;      // executor time for a flow run
constexpr duration max_delay = 20ms;      // one-way packet delay incl. jitter
constexpr duration max_outage = 3s;       // crash, freeze and fault durations
constexpr duration max_unverified = 1300ms;  // a release the executor cannot verify: a lease at most
constexpr std::size_t max_inbox = 64;        // datagrams a socket keeps for a daemon that does not read

struct sim_node {
  cluster::params p;
  cluster::state s;
  bool up = true;        // process running (false: crashed / powered off)
  bool frozen = false;   // SIGSTOP
  std::uint64_t gen = 0; // bumps on crash/restart/freeze/thaw: stale timers are dropped
  std::array<bool, cluster::link_count> attached{true, true};  // cable of each network
  bool healthy = true;
  bool gw_seen = true;   // last gateway state told to the machine
  // The executor, which outlives the heartbeat daemon but not the machine: whether resources of
  // the group are on this node (ground truth), and its work in progress.
  bool exec_holding = false;
  std::uint64_t exec_gen = 0;  // bumps when the machine powers off: its executor's work is gone
  time_point exec_free{};      // the executor runs one flow at a time, in order
  std::optional<time_point> hides_since;  // holding, but not in a holding role (invariant 4)
  bool heard_since_boot = false;          // the daemon heard its peer since it last booted
  // A short stall of the daemon (not scheduled: its loops late, its peer's datagrams waiting in
  // its sockets) and a freeze: both end with the self-stall guard's report (issue 8).
  bool stalled = false;
  time_point paused_from{};
  std::vector<cluster::heartbeat_received> inbox;  // datagrams the kernel kept during a stall
  time_point last_heard{};          // the latest heartbeat this daemon read
  duration paused_since_heard{};    // ... and the time it was frozen or stalled since
  bool deaf = false;                // frozen with the machine: what is sent to it is lost
};

enum class kind { tick, send, deliver, flow_done, gateway_notice, fault, restart, thaw, released, tell, unstall };

struct event {
  time_point at;
  std::uint64_t order;
  kind what;
  int node;
  std::uint64_t gen;
  peer_link via = peer_link::heartbeat;
  cluster::peer_report report{};
  cluster::flow_finished flow{};
  bool applied = false;                 // flow_done: the executor's own effect is done
  std::vector<cluster::input> inputs;   // tell: the executor's reports, for the daemon
  std::uint64_t boot = 0;               // tell, released: the daemon incarnation they are for
  bool operator>(const event& o) const { return at != o.at ? at > o.at : order > o.order; }
};

class world {
 public:
  explicit world(const sim_options& o) : o_(o), rng_(o.seed) {
    for (int i = 0; i < 2; ++i) {
      auto& n = nodes_[i];
      n.p.self_name = i == 0 ? "node-a" : "node-b";
      n.p.peer_name = i == 0 ? "node-b" : "node-a";
      n.p.period = o.period;
      n.p.count = o.count;
      n.p.active_priority = i == 0;
      n.p.flow_timeout = 2s;
      n.p.start_window = o.start_window;
      if (!o.heartbeat_net) n.attached[0] = false;
      boot(i);
    }
    schedule(now_ + 1s, kind::fault, 0, 0);
    // The yielding side's release may be unverifiable until its lease takes the address (rule 13).
    bound_conflict_ = o.period * (o.count + 8) + 2 * max_flow + 2 * max_delay + max_unverified;
    bound_settle_ = nodes_[0].p.start_limit() + o.period * (o.count + 10) + 3 * max_flow + max_unverified;
  }

  sim_report run() {
    while (report_.steps < o_.steps && !report_.violation) {
      event e = queue_.top();
      queue_.pop();
      now_ = e.at;
      handle(e);
      ++report_.steps;
      check_invariants();
    }
    report_.simulated_seconds = std::chrono::duration<double>(now_.time_since_epoch()).count();
    return report_;
  }

 private:
  // ---- plumbing ----
  void schedule(time_point at, kind k, int node, std::uint64_t gen, event extra = {}) {
    extra.at = at;
    extra.order = order_++;
    extra.what = k;
    extra.node = node;
    extra.gen = gen;
    queue_.push(extra);
  }
  duration uniform(duration lo, duration hi) {
    return duration(std::uniform_int_distribution<std::int64_t>(lo.count(), hi.count())(rng_));
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  void trace(const std::string& line) {
    std::ostringstream os;
    os << std::chrono::duration<double>(now_.time_since_epoch()).count() << "s " << line;
    trace_.push_back(os.str());
    if (trace_.size() > 40) trace_.pop_front();
  }

  bool running(int i) const { return nodes_[i].up && !nodes_[i].frozen; }
  // Running and its loop scheduled: only such a daemon reads an input now.
  bool awake(int i) const { return running(i) && !nodes_[i].stalled; }
  bool gateway_reachable(int i) const { return gateway_up_ && nodes_[i].attached[1]; }
  // A link carries packets between the two nodes: both cables in, and not lost outright.
  bool link_works(std::size_t l) const {
    return nodes_[0].attached[l] && nodes_[1].attached[l] && loss_[l] < 0.5;
  }

  void boot(int i) {
    auto& n = nodes_[i];
    n.up = true;
    n.frozen = false;
    ++n.gen;
    n.p.boot_id = ++boot_counter_;
    n.s = cluster::initial_state(n.p, now_);
    n.heard_since_boot = false;
    n.stalled = false;
    n.deaf = false;
    n.inbox.clear();
    n.last_heard = {};
    n.paused_since_heard = {};
    n.gw_seen = true;
    feed(i, cluster::health_changed{n.healthy, n.healthy ? 0 : 1, "sim"});
    if (!gateway_reachable(i)) schedule(now_ + o_.period * o_.count, kind::gateway_notice, i, n.gen);
    arm_timers(i);
  }
  void arm_timers(int i) {
    schedule(now_ + uniform(1ms, o_.period), kind::tick, i, nodes_[i].gen);
    schedule(now_ + uniform(1ms, o_.period), kind::send, i, nodes_[i].gen);
  }

  void hear(int i, const cluster::heartbeat_received& hb) {
    auto& n = nodes_[i];
    n.heard_since_boot = true;
    n.last_heard = now_;
    n.paused_since_heard = {};
    feed(i, hb);
  }
  // The daemon runs again after a freeze or a stall: that time was not its to observe.
  void resumed(int i) {
    auto& n = nodes_[i];
    n.paused_since_heard += now_ - n.paused_from;
    n.deaf = false;
  }

  void feed(int i, const cluster::input& in) {
    auto& n = nodes_[i];
    const bool by_operator = std::holds_alternative<cluster::operator_command>(in);
    auto t = cluster::step(n.p, n.s, in, now_);
    const role before = n.s.current;
    n.s = std::move(t.next);
    if (n.s.current != before)
      trace(n.p.self_name + " " + std::string(to_string(before)) + " -> " +
            std::string(to_string(n.s.current)) + " epoch " + std::to_string(n.s.epoch));
    for (auto& a : t.actions) {
      // Issue 8 (the self-stall guard): a node declares its peer lost only after it observed
      // period x count of silence; the time it was frozen or not scheduled does not count.
      if (auto* ev = std::get_if<cluster::raise_event>(&a); ev && ev->code == "peer_lost" && !report_.violation) {
        const auto observed = now_ - n.last_heard - n.paused_since_heard;
        if (n.last_heard != time_point{} && observed + 1ms < n.p.peer_timeout())
          violate(n.p.self_name + " declared its peer lost after observing " + std::to_string(observed / 1ms) +
                  " ms of silence (" + std::to_string(n.paused_since_heard / 1ms) + " ms more it could not look)");
      }
      // A booted node decides alone only after its start wait (the boot wait for the healthy
      // priority node, the start window for any other), unless it heard its peer (F8, R3).
      const auto alone_after =
          n.p.active_priority && n.s.healthy ? n.p.boot_wait() : n.p.start_limit();
      if (auto* ev = std::get_if<cluster::raise_event>(&a); ev && ev->code == "activating" && !by_operator &&
          !n.heard_since_boot && now_ - n.s.booted < alone_after && !report_.violation)
        violate(n.p.self_name + " activated alone " + std::to_string((now_ - n.s.booted) / 1ms) +
                " ms after it booted, before its start wait and without hearing its peer: " + ev->text);
      if (auto* f = std::get_if<cluster::run_flow>(&a)) {
        if (f->up) {
          ++report_.activations;
          // F13: a node that cannot reach its gateway never activates on its own. Judged on the
          // real network, not on the node's belief: it must have been able to reach the gateway
          // within the freshness window (a probe answer it could have seen).
          const auto reach_age = now_ - last_reachable_[static_cast<std::size_t>(i)];
          if (!by_operator && reach_age > n.p.gateway_fresh() + max_delay && !report_.violation)
            violate(n.p.self_name + " activated " + std::to_string(reach_age / 1ms) +
                    " ms after it last could reach its gateway");
        }
        if (f->up) n.exec_holding = true;  // resources appear while the flow runs
        event e;
        e.flow = cluster::flow_finished{f->epoch, f->up, true, ""};
        // the executor answers the daemon's incarnation, whatever freezes happen meanwhile; it
        // finishes one run before the next, so its answers come in order
        n.exec_free = std::max(now_, n.exec_free) + uniform(1ms, max_flow);
        schedule(n.exec_free, kind::flow_done, i, n.p.boot_id, e);
      }
    }
  }

  // ---- events ----
  void handle(const event& e) {
    auto& n = nodes_[e.node];
    switch (e.what) {
      case kind::tick:
        if (e.gen != n.gen || !running(e.node)) return;
        // The gateway probe: an answer every period while the gateway can be reached.
        if (gateway_reachable(e.node)) {
          last_reachable_[static_cast<std::size_t>(e.node)] = now_;
          feed(e.node, cluster::gateway_heard{});
        }
        feed(e.node, cluster::tick{});
        // The executor answers every desired state (each period) with what it holds: level-triggered.
        if (n.s.executor_holding != n.exec_holding) feed(e.node, cluster::resources_held{n.exec_holding});
        schedule(now_ + o_.period, kind::tick, e.node, n.gen);
        return;
      case kind::send:
        if (e.gen != n.gen || !running(e.node)) return;
        for (std::size_t l = 0; l < cluster::link_count; ++l) {
          if (!nodes_[0].attached[l] || !nodes_[1].attached[l] || chance(loss_[l])) continue;
          event d;
          d.via = static_cast<peer_link>(l);
          d.report = cluster::advertise(n.p, n.s);
          schedule(now_ + uniform(100us, delay_[l]), kind::deliver, 1 - e.node, 0, d);
        }
        schedule(now_ + o_.period, kind::send, e.node, n.gen);
        return;
      case kind::deliver:
        if (!n.up) return;
        if (n.frozen || n.stalled) {  // the kernel keeps the first ones until the daemon reads again
          if (!n.deaf && n.inbox.size() < max_inbox) n.inbox.push_back(cluster::heartbeat_received{e.via, e.report});
          return;
        }
        hear(e.node, cluster::heartbeat_received{e.via, e.report});
        return;
      case kind::flow_done: {
        if (e.gen != n.p.boot_id || !n.up) return;
        event d = e;
        if (!d.applied) {  // the executor's side happens now, whatever the daemon is doing
          d.applied = true;
          d.inputs.clear();
          if (d.flow.up) {
            d.inputs.push_back(cluster::resources_held{true});
          } else if (chance(0.15)) {  // a removal fails: held until the lease takes it (rule 13)
            d.flow.ok = false;
            d.flow.detail = "removal failed";
            d.inputs.push_back(cluster::resources_held{true});
            trace(n.p.self_name + " executor cannot verify its release");
            event v;
            v.boot = n.p.boot_id;
            schedule(now_ + uniform(50ms, max_unverified), kind::released, e.node, n.exec_gen, v);
          } else {
            n.exec_holding = false;
            d.inputs.push_back(cluster::resources_held{false});
          }
        }
        if (n.frozen || n.stalled) {  // the executor answered; the daemon reads it once it runs
          schedule(now_ + 10ms, kind::flow_done, e.node, e.gen, d);
          return;
        }
        for (const auto& in : d.inputs) feed(e.node, in);
        feed(e.node, d.flow);
        return;
      }
      case kind::released: {  // the executor verified what it could not remove at once
        if (e.gen != n.exec_gen || !n.up) return;
        if (n.exec_holding) trace(n.p.self_name + " executor verified its release");
        n.exec_holding = false;
        event t;
        t.boot = e.boot;
        t.inputs = e.inputs;
        t.inputs.insert(t.inputs.begin(), cluster::resources_held{false});
        schedule(now_, kind::tell, e.node, 0, t);
        return;
      }
      case kind::tell:  // executor reports reaching the daemon they were for
        if (!n.up || e.boot != n.p.boot_id) return;
        if (n.frozen || n.stalled) return schedule(now_ + 10ms, kind::tell, e.node, 0, e);
        for (const auto& in : e.inputs) feed(e.node, in);
        return;
      case kind::gateway_notice: {
        if (e.gen != n.gen || !n.up) return;
        if (n.frozen || n.stalled) return schedule(now_ + 10ms, kind::gateway_notice, e.node, e.gen, e);
        bool r = gateway_reachable(e.node);
        if (r) last_reachable_[static_cast<std::size_t>(e.node)] = now_;  // the verdict is an answer
        if (r != n.gw_seen) {
          n.gw_seen = r;
          feed(e.node, cluster::gateway_changed{r});
        }
        return;
      }
      case kind::restart:
        if (n.up) return;
        trace(n.p.self_name + " restarts");
        boot(e.node);
        return;
      case kind::thaw:
        if (e.gen != n.gen || !n.frozen) return;
        trace(n.p.self_name + " thawed");
        n.frozen = false;
        ++n.gen;
        resumed(e.node);
        {
          auto inbox = std::move(n.inbox);  // read first, as the shell drains its sockets
          n.inbox.clear();
          for (const auto& hb : inbox) hear(e.node, hb);
        }
        feed(e.node, cluster::stalled{n.paused_from, now_});  // its timers fire that late
        feed(e.node, cluster::health_changed{n.healthy, n.healthy ? 0 : 1, "sim"});  // the monitor tells it again
        arm_timers(e.node);
        schedule(now_, kind::gateway_notice, e.node, n.gen);
        return;
      case kind::unstall: {
        if (e.gen != n.gen || !n.stalled) return;
        trace(n.p.self_name + " runs again after " + std::to_string((now_ - n.paused_from) / 1ms) + " ms");
        // Silent that long, it may rightly have been declared lost by its peer: a disturbance
        // after which the pair settles again (shorter stalls must change nothing).
        if (now_ - n.paused_from >= n.p.peer_timeout() - o_.period - max_delay) last_command_ = now_;
        n.stalled = false;
        ++n.gen;
        resumed(e.node);
        // The shell, waking late: reads what waits in the sockets, then reports the stall.
        auto inbox = std::move(n.inbox);
        n.inbox.clear();
        for (const auto& hb : inbox) hear(e.node, hb);
        feed(e.node, cluster::stalled{n.paused_from, now_});
        feed(e.node, cluster::health_changed{n.healthy, n.healthy ? 0 : 1, "sim"});  // what the monitor said meanwhile
        arm_timers(e.node);
        // The gateway probe's verdict of the time it was stalled (a notice due then was for its
        // old timers): its next probe tells it again.
        schedule(now_, kind::gateway_notice, e.node, n.gen);
        return;
      }
      case kind::fault:
        inject_fault();
        schedule(now_ + uniform(200ms, 4s), kind::fault, 0, 0);
        return;
    }
  }

  // A change of gateway reachability reaches a node after the probe's detection delay.
  void gateway_moved() {
    for (int i = 0; i < 2; ++i) {
      if (!nodes_[i].up) continue;
      bool r = gateway_reachable(i);
      schedule(now_ + (r ? o_.period : o_.period * o_.count) + uniform(0ms, o_.period),
               kind::gateway_notice, i, nodes_[i].gen);
    }
  }

  void inject_fault() {
    ++report_.faults;

    int i = pick(2);
    auto& n = nodes_[i];
    std::size_t l = o_.heartbeat_net ? static_cast<std::size_t>(pick(2)) : 1;
    switch (pick(o_.commands ? 15 : 13)) {
      case 11:
      case 12:  // the daemon is not scheduled for a moment (a loaded machine): issue 8
        if (!running(i) || n.stalled) return;
        trace(n.p.self_name + " stalls");
        n.stalled = true;
        n.paused_from = now_;
        ++n.gen;
        schedule(now_ + uniform(o_.period / 5, o_.period * (o_.count + 2)), kind::unstall, i, n.gen);
        return;
      case 0:  // cable pull / plug back
        n.attached[l] = !n.attached[l];
        trace(n.p.self_name + (n.attached[l] ? " plugs " : " pulls ") + (l ? "public" : "heartbeat"));
        if (l == 1) gateway_moved();
        return;
      case 1:  // loss on a link
        loss_[l] = chance(0.5) ? 0.0 : std::uniform_real_distribution<double>(0, o_.max_loss)(rng_);
        trace(std::string(l ? "public" : "heartbeat") + " loss " + std::to_string(loss_[l]));
        return;
      case 2:  // delay on a link
        delay_[l] = uniform(200us, max_delay);
        return;
      case 3:  // kill -9 / power off
        if (!n.up) return;
        trace(n.p.self_name + " crashes");
        n.up = false;
        n.stalled = false;
        n.inbox.clear();
        ++n.gen;
        n.exec_holding = false;
        ++n.exec_gen;
        schedule(now_ + uniform(100ms, max_outage), kind::restart, i, 0);
        return;
      case 4:  // freeze
        if (!awake(i)) return;
        n.deaf = chance(0.5);  // the whole machine paused (a VM): what is sent to it is lost
        trace(n.p.self_name + (n.deaf ? " frozen with its machine" : " frozen"));
        n.frozen = true;
        n.stalled = false;
        n.inbox.clear();
        n.paused_from = now_;
        ++n.gen;
        schedule(now_ + uniform(50ms, max_outage), kind::thaw, i, n.gen);
        return;
      case 5:  // gateway down/up
        gateway_up_ = !gateway_up_;
        trace(std::string("gateway ") + (gateway_up_ ? "up" : "down"));
        gateway_moved();
        return;
      case 6:  // local health
        if (!awake(i)) return;
        n.healthy = !n.healthy;
        trace(n.p.self_name + (n.healthy ? " healthy" : " unhealthy"));
        feed(i, cluster::health_changed{n.healthy, n.healthy ? 0 : 1, "sim"});
        last_command_ = now_;  // the pair may move the service: it settles again after it
        return;
      case 7:
      case 8:  // heal everything (keeps the world mostly healthy so invariant 2 is exercised)
        for (auto& m : nodes_) {
          m.attached = {o_.heartbeat_net, true};
          m.healthy = true;
          if (awake(int(&m - nodes_.data()))) feed(int(&m - nodes_.data()), cluster::health_changed{true, 0, ""});
        }
        loss_ = {0, 0};
        gateway_up_ = true;
        gateway_moved();
        trace("healed");
        return;
      case 9: {  // the executor lets go of the resources on its own (its watchdog: F9)
        if (!awake(i) || !cluster::holds_resources(n.s.current)) return;
        trace(n.p.self_name + " executor releases epoch " + std::to_string(n.s.epoch));
        last_command_ = now_;  // a disturbance like a command: the pair settles again after it
        feed(i, cluster::resources_releasing{n.s.epoch, "watchdog"});
        event v;
        v.boot = n.p.boot_id;
        v.inputs.push_back(cluster::resources_released{n.s.epoch, "watchdog"});
        const bool unverified = chance(0.3);  // its removal fails until the lease takes it
        schedule(now_ + (unverified ? uniform(50ms, max_unverified) : uniform(1ms, max_flow)), kind::released, i,
                 n.exec_gen, v);
        return;
      }
      case 10:  // the heartbeat daemon alone restarts; its executor lets go of what it held (F9)
        if (!awake(i)) return;
        trace(n.p.self_name + " heartbeat daemon restarts" + (n.exec_holding ? " (executor holding)" : ""));
        last_command_ = now_;
        boot(i);
        if (n.exec_holding) {
          event t;
          t.boot = n.p.boot_id;
          t.inputs.push_back(cluster::resources_held{true});  // the executor's first answer
          const auto first = now_ + uniform(1ms, 20ms);
          schedule(first, kind::tell, i, 0, t);
          event v;
          v.boot = n.p.boot_id;  // later than the first answer: one connection keeps the order
          schedule(first + (chance(0.3) ? uniform(50ms, max_unverified) : uniform(1ms, max_flow)), kind::released, i,
                   n.exec_gen, v);
        }
        return;
      default: {  // operator command
        if (!awake(i)) return;
        static constexpr cluster::command_kind kinds[] = {
            cluster::command_kind::manual_failover, cluster::command_kind::manual_failover,
            cluster::command_kind::set_mode_manual, cluster::command_kind::stop_maintenance,
            cluster::command_kind::stop_maintenance, cluster::command_kind::partition_active,
            cluster::command_kind::partition_standby, cluster::command_kind::forced_active,
            cluster::command_kind::forced_standby};
        auto k = kinds[pick(std::size(kinds))];
        trace(n.p.self_name + " operator " + std::string(to_string(k)));
        last_command_ = now_;
        feed(i, cluster::operator_command{k});
        return;
      }
    }
  }

  // ---- invariants ----
  void violate(const std::string& what) {
    std::ostringstream os;
    os << "seed " << o_.seed << " step " << report_.steps << ": " << what << "\nrecent:\n";
    for (auto& l : trace_) os << "  " << l << "\n";
    for (auto& n : nodes_)
      os << "  " << n.p.self_name << " role " << to_string(n.s.current) << " epoch " << n.s.epoch
         << " mode " << to_string(n.s.mode) << " up " << n.up << " frozen " << n.frozen << " stalled " << n.stalled
         << " held " << n.s.held << " executor_holding " << n.exec_holding << " healthy " << n.s.healthy << " gw " << n.s.gateway_ok
         << " peer_alive " << n.s.peer_alive << "\n";
    report_.violation = os.str();
  }

  void check_invariants() {
    const bool both_running = running(0) && running(1);
    const bool connected = link_works(0) || link_works(1);
    // 1. Never two holders of the resources while a link between them works, beyond the bound.
    const bool conflict = both_running && connected &&
                          cluster::holds_resources(nodes_[0].s.current) &&
                          cluster::holds_resources(nodes_[1].s.current);
    if (conflict && !conflict_since_) conflict_since_ = now_;
    if (!conflict && conflict_since_) {
      ++report_.conflicts_resolved;
      conflict_since_.reset();
    }
    if (conflict_since_ && now_ - *conflict_since_ > bound_conflict_)
      return violate("both nodes hold the resources while connected for longer than " +
                     std::to_string(bound_conflict_ / 1ms) + " ms");

    // 3. The same for what is really held (rule 13): a node whose executor still holds resources
    // keeps its peer off. Both executors holding while they talk means the peer activated on top
    // of a holder; only the meeting of two Actives (F12) and a release being verified may last.
    const bool held_twice = both_running && connected && nodes_[0].exec_holding && nodes_[1].exec_holding;
    if (held_twice && !held_twice_since_) held_twice_since_ = now_;
    if (!held_twice) held_twice_since_.reset();
    if (held_twice_since_ && now_ - *held_twice_since_ > bound_conflict_)
      return violate("both executors hold the resources while the nodes talk for longer than " +
                     std::to_string(bound_conflict_ / 1ms) + " ms");

    // 4. Rule 13 itself: a running node whose executor holds resources says so — it is in a
    // holding role, which keeps its peer from taking over on top of it — once its executor's
    // report (every period) has reached it.
    for (int i = 0; i < 2; ++i) {
      auto& n = nodes_[i];
      const bool hides = running(i) && n.exec_holding && !cluster::holds_resources(n.s.current);
      if (hides && !n.hides_since) n.hides_since = now_;
      if (!hides) n.hides_since.reset();
      if (n.hides_since && now_ - *n.hides_since > o_.period + max_flow)
        return violate(n.p.self_name + " is " + std::string(to_string(n.s.current)) +
                       " while its executor still holds resources");
    }

    // 2. A connected pair has exactly one Active within the bound — also when one or both
    // nodes' applications fail (F11: the service is not abandoned) — and the Active is not less
    // healthy than the Standby (issue 9: an unhealthy Active hands over to a healthy Standby).
    // Connected here means a link without loss: on lossy links alone, period x count is the
    // configured risk.
    const bool clean = (link_works(0) && loss_[0] == 0) || (link_works(1) && loss_[1] == 0);
    bool healthy_pair = both_running && clean && !nodes_[0].stalled && !nodes_[1].stalled;
    for (int i = 0; i < 2 && healthy_pair; ++i) {
      const auto& s = nodes_[i].s;
      healthy_pair = gateway_reachable(i) && s.mode == cluster::failover_mode::automatic &&
                     s.current != role::failed;
    }
    healthy_pair = healthy_pair && !(nodes_[0].s.held && nodes_[1].s.held);
    if (healthy_pair && now_ - last_command_ > bound_settle_) {
      if (!settled_since_) settled_since_ = now_;
    } else {
      settled_since_.reset();
    }
    if (settled_since_ && now_ - *settled_since_ > bound_settle_) {
      int actives = (nodes_[0].s.current == role::active) + (nodes_[1].s.current == role::active);
      if (actives != 1)
        return violate("a connected pair has " + std::to_string(actives) + " Active nodes after " +
                       std::to_string(bound_settle_ / 1ms) + " ms");
      const int a = nodes_[0].s.current == role::active ? 0 : 1;
      if (!nodes_[a].healthy && nodes_[1 - a].healthy && !nodes_[1 - a].s.held)
        return violate(nodes_[a].p.self_name + " stays Active unhealthy while " +
                       nodes_[1 - a].p.self_name + " is healthy, after " +
                       std::to_string(bound_settle_ / 1ms) + " ms");
    }
  }

  sim_options o_;
  std::mt19937_64 rng_;
  time_point now_{};
  std::uint64_t order_ = 0;
  std::uint64_t boot_counter_ = 0;
  std::priority_queue<event, std::vector<event>, std::greater<>> queue_;
  std::array<sim_node, 2> nodes_;
  std::array<double, cluster::link_count> loss_{0, 0};
  std::array<duration, cluster::link_count> delay_{1ms, 1ms};
  bool gateway_up_ = true;
  std::array<time_point, 2> last_reachable_{};
  time_point last_command_{};
  std::optional<time_point> conflict_since_, settled_since_, held_twice_since_;

  duration bound_conflict_{}, bound_settle_{};
  std::deque<std::string> trace_;
  sim_report report_;
};

}  // namespace

sim_report run_simulation(const sim_options& o) { return world(o).run(); }

}  // namespace hasys::sim
