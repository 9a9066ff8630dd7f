// A pair's start under random boot offsets, late networks and late gateways (issue 18).
#include "start_sim.hpp"

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

enum class kind { boot, tick, send, deliver, answer, flow_done };

struct event {
  time_point at;
  std::uint64_t order;
  kind what;
  int node;
  peer_link via = peer_link::heartbeat;
  cluster::peer_report report{};
  cluster::run_flow flow{};
  bool operator>(const event& o) const { return at != o.at ? at > o.at : order > o.order; }
};

struct start_node {
  cluster::params p;
  cluster::state s;
  bool booted = false;
  time_point boot_at{};
  time_point gateway_from = time_point::max();  // its probes are answered from here on
  std::array<time_point, cluster::link_count>
      reaches_peer_from{};  // its packets get through from here on
  // The gateway probe as services/heartbeat/gateway_probe.cpp runs it: one probe per period, the
  // verdict "unreachable" after `count` unanswered ones, "reachable" at the first answer.
  bool probe_answered = true;
  int misses = 0;
  bool verdict = true;
  bool activated = false;
  time_point activated_at{};
  bool said_priority_not_taken = false;
};

class start_world {
 public:
  explicit start_world(const start_options& o) : o_(o), rng_(o.seed) {
    const duration third =
        o.settle_within > duration::zero() ? o.settle_within : o.start_window / 3;
    for (int i = 0; i < 2; ++i) {
      auto& n = nodes_[i];
      n.p.self_name = i == 0 ? "node-a" : "node-b";
      n.p.peer_name = i == 0 ? "node-b" : "node-a";
      n.p.period = o.period;
      n.p.count = o.count;
      n.p.active_priority = i == 0;
      n.p.start_window = o.start_window;
      n.p.flow_timeout = 5s;
      // Both power on within a third of the window of each other ...
      n.boot_at = time_point{} + uniform(0ms, third);
      // ... and each one's packets, on each network, get through only after its links settled.
      for (auto& t : n.reaches_peer_from) t = n.boot_at + (chance(0.3) ? 0ms : uniform(0ms, third));
      if (!o.heartbeat_net) n.reaches_peer_from[0] = time_point::max();
      n.gateway_from = n.boot_at + (chance(0.3) ? 0ms : uniform(0ms, third));
      schedule(n.boot_at, kind::boot, i);
    }
    if (!o.priority_gateway) nodes_[0].gateway_from = time_point::max();
    // The healthy peer of an unhealthy priority node can serve from its start: the role is its.
    if (!o.priority_healthy) nodes_[1].gateway_from = nodes_[1].boot_at;
    end_ = std::max(nodes_[0].boot_at, nodes_[1].boot_at) + nodes_[0].p.start_limit() + 1s;
    trace("node-a boots at " + ms(nodes_[0].boot_at) + ", reaches b from " +
          ms(nodes_[0].reaches_peer_from[0]) + "/" + ms(nodes_[0].reaches_peer_from[1]) +
          ", gateway from " + ms(nodes_[0].gateway_from));
    trace("node-b boots at " + ms(nodes_[1].boot_at) + ", reaches a from " +
          ms(nodes_[1].reaches_peer_from[0]) + "/" + ms(nodes_[1].reaches_peer_from[1]) +
          ", gateway from " + ms(nodes_[1].gateway_from));
  }

  start_report run() {
    while (!queue_.empty() && queue_.top().at <= end_) {
      event e = queue_.top();
      queue_.pop();
      now_ = e.at;
      handle(e);
      ++report_.steps;
    }
    judge();
    return report_;
  }

 private:
  void schedule(time_point at, kind k, int node, event extra = {}) {
    extra.at = at;
    extra.order = order_++;
    extra.what = k;
    extra.node = node;
    queue_.push(extra);
  }
  duration uniform(duration lo, duration hi) {
    return duration(std::uniform_int_distribution<std::int64_t>(lo.count(), hi.count())(rng_));
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  static std::string ms(time_point t) {
    if (t == time_point::max()) return "never";
    return std::to_string(
               std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch())
                   .count()) +
           " ms";
  }
  void trace(const std::string& line) {
    trace_.push_back(ms(now_) + " " + line);
    if (trace_.size() > 60) trace_.erase(trace_.begin() + 2);  // the set-up lines stay
  }

  void feed(int i, const cluster::input& in) {
    auto& n = nodes_[i];
    auto t = cluster::step(n.p, n.s, in, now_);
    if (t.next.current != n.s.current)
      trace(n.p.self_name + " " + std::string(to_string(n.s.current)) + " -> " +
            std::string(to_string(t.next.current)));
    n.s = std::move(t.next);
    for (auto& a : t.actions) {
      if (auto* ev = std::get_if<cluster::raise_event>(&a)) {
        if (ev->code == "priority_not_taken") n.said_priority_not_taken = true;
        if (ev->code == "activating" || ev->code == "priority_not_taken" ||
            ev->code == "both_active")
          trace(n.p.self_name + " " + ev->code + ": " + ev->text);
      }
      if (auto* f = std::get_if<cluster::run_flow>(&a)) {
        if (f->up && !n.activated) {
          n.activated = true;
          n.activated_at = now_;
        }
        event e;
        e.flow = *f;
        schedule(now_ + uniform(1ms, 50ms), kind::flow_done, i, e);
      }
    }
  }

  void handle(const event& e) {
    auto& n = nodes_[e.node];
    switch (e.what) {
      case kind::boot:
        n.booted = true;
        n.s = cluster::initial_state(n.p, now_);
        feed(e.node, cluster::health_changed{e.node != 0 || o_.priority_healthy, 1, "sim"});
        schedule(now_ + uniform(0ms, o_.period), kind::tick, e.node);
        schedule(now_ + uniform(0ms, o_.period), kind::send, e.node);
        return;
      case kind::tick:
        if (!n.probe_answered && ++n.misses >= n.p.count && n.verdict) {
          n.verdict = false;
          feed(e.node, cluster::gateway_changed{false});
        }
        n.probe_answered = false;
        if (now_ >= n.gateway_from) schedule(now_ + uniform(100us, 1ms), kind::answer, e.node);
        feed(e.node, cluster::tick{});
        schedule(now_ + o_.period, kind::tick, e.node);
        return;
      case kind::answer:
        n.probe_answered = true;
        n.misses = 0;
        feed(e.node, cluster::gateway_heard{});
        if (!n.verdict) {
          n.verdict = true;
          feed(e.node, cluster::gateway_changed{true});
        }
        return;
      case kind::send: {
        auto& peer = nodes_[1 - e.node];
        for (std::size_t l = 0; l < cluster::link_count; ++l) {
          if (now_ < n.reaches_peer_from[l]) continue;
          event d;
          d.via = static_cast<peer_link>(l);
          d.report = cluster::advertise(n.p, n.s);
          schedule(now_ + uniform(100us, 2ms), kind::deliver, 1 - e.node, d);
        }
        (void)peer;
        schedule(now_ + o_.period, kind::send, e.node);
        return;
      }
      case kind::deliver:
        if (!n.booted) return;  // a node not yet powered on hears nothing
        feed(e.node, cluster::heartbeat_received{e.via, e.report});
        return;
      case kind::flow_done:
        if (e.flow.up) feed(e.node, cluster::resources_held{true});
        feed(e.node, cluster::flow_finished{e.flow.epoch, e.flow.up, true, ""});
        if (!e.flow.up) feed(e.node, cluster::resources_held{false});
        return;
    }
  }

  void judge() {
    const int should = o_.priority_gateway && o_.priority_healthy ? 0 : 1;
    const auto& w = nodes_[should];
    const auto& l = nodes_[1 - should];
    report_.winner = w.s.current == role::active   ? w.p.self_name
                     : l.s.current == role::active ? l.p.self_name
                                                   : "";
    report_.loser_activated = l.activated;
    if (w.activated)
      report_.decided_after = w.activated_at - std::max(nodes_[0].boot_at, nodes_[1].boot_at);
    std::string what;
    if (report_.winner != w.p.self_name)
      what = w.p.self_name + " is not Active at the end (" + std::string(to_string(w.s.current)) +
             "; " + l.p.self_name + " " + std::string(to_string(l.s.current)) + ")";
    else if (l.activated)
      what = l.p.self_name + " took the role on the way";
    else if (!o_.priority_gateway && !nodes_[0].said_priority_not_taken)
      what = "node-a did not say why it did not take the role (priority_not_taken)";
    if (what.empty()) return;
    std::ostringstream os;
    os << "seed " << o_.seed << ": " << what << "\n";
    for (const auto& t : trace_) os << "  " << t << "\n";
    report_.violation = os.str();
  }

  start_options o_;
  std::mt19937_64 rng_;
  time_point now_{}, end_{};
  std::uint64_t order_ = 0;
  std::array<start_node, 2> nodes_;
  std::priority_queue<event, std::vector<event>, std::greater<>> queue_;
  std::vector<std::string> trace_;
  start_report report_;
};

}  // namespace

start_report run_start_simulation(const start_options& o) { return start_world(o).run(); }

}  // namespace hasys::sim
