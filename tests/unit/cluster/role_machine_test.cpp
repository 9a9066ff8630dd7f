// Every rule of the role protocol (SPEC R1–R8, F1–F13 where they concern one node's decision).
#include <hasys/cluster/role_machine.hpp>

#include <gtest/gtest.h>

#include <algorithm>

using namespace hasys::cluster;
using namespace std::chrono_literals;


namespace {

// One node's machine driven by hand: feed inputs, advance time, look at what came out.
struct node {
  params p;
  state s;
  time_point now{};
  std::vector<action> out;  // every action since the last clear
  bool gateway_answers = true;  // the gateway probe is answered at every time step
  std::vector<std::uint64_t> flows_up;  // epochs of every flow run up (kept by start_pair)

  explicit node(std::string self = "node-a", std::string peer = "node-b", bool priority = false) {
    p.self_name = std::move(self);
    p.peer_name = std::move(peer);
    p.period = 100ms;
    p.count = 3;
    p.active_priority = priority;
    p.boot_id = 7;
    p.flow_timeout = 5s;
    s = initial_state(p, now);
  }
  void feed(const input& in) {
    if (auto* g = std::get_if<gateway_changed>(&in)) gateway_answers = g->reachable;
    auto t = step(p, s, in, now);
    s = std::move(t.next);
    out.insert(out.end(), t.actions.begin(), t.actions.end());
  }
  void advance(duration d, duration every = 50ms) {
    for (duration done{}; done < d; done += every) {
      now += every;
      probe();
      feed(tick{});
    }
  }
  void probe() {
    if (gateway_answers) feed(gateway_heard{});
  }
  void hear(const peer_report& r, peer_link via = peer_link::heartbeat) { feed(heartbeat_received{via, r}); }
  // hear the peer on both links every 50 ms for d
  void hear_for(const peer_report& r, duration d) {
    for (duration done{}; done < d; done += 50ms) {
      now += 50ms;
      probe();
      hear(r, peer_link::heartbeat);
      hear(r, peer_link::pub);
    }
  }
  // complete whatever flow is pending
  void finish_flow(bool ok = true) {
    for (auto& a : out)
      if (auto* f = std::get_if<run_flow>(&a)) {
        auto copy = *f;
        out.clear();
        feed(flow_finished{copy.epoch, copy.up, ok, ok ? "" : "test failure"});
        return;
      }
    FAIL() << "no run_flow pending";
  }
  bool has_event(std::string_view code) const {
    return std::any_of(out.begin(), out.end(), [&](const action& a) {
      auto* e = std::get_if<raise_event>(&a);
      return e && e->code == code;
    });
  }
  std::optional<command_reply> reply() const {
    for (auto& a : out)
      if (auto* r = std::get_if<command_reply>(&a)) return *r;
    return std::nullopt;
  }
  std::optional<run_flow> flow() const {
    for (auto& a : out)
      if (auto* f = std::get_if<run_flow>(&a)) return *f;
    return std::nullopt;
  }
  // run the node up to Active, alone
  void make_active() {
    advance(1s);
    ASSERT_EQ(s.current, role::activating);
    finish_flow();
    ASSERT_EQ(s.current, role::active);
    out.clear();
  }
};

peer_report peer(role r, std::uint64_t epoch = 0) {
  peer_report p;
  p.current = r;
  p.epoch = epoch;
  p.boot_id = 99;
  return p;
}

}  // namespace

TEST(role_machine, starts_in_init_and_waits_for_the_peer) {
  node n;
  n.advance(n.p.boot_wait() - 100ms);
  EXPECT_EQ(n.s.current, role::init);
  EXPECT_FALSE(n.flow());
}

TEST(role_machine, alone_at_boot_becomes_active_after_the_boot_wait) {
  node n;
  n.advance(n.p.boot_wait() + 100ms);
  EXPECT_EQ(n.s.current, role::activating);
  ASSERT_TRUE(n.flow());
  EXPECT_TRUE(n.flow()->up);
  EXPECT_EQ(n.flow()->epoch, 1u);
  n.finish_flow();
  EXPECT_EQ(n.s.current, role::active);
  EXPECT_TRUE(n.has_event("active"));
}

TEST(role_machine, alone_at_boot_in_manual_mode_stays_standby) {
  node n;
  n.p.initial_mode = failover_mode::manual;
  n.s = initial_state(n.p, n.now);
  n.advance(2s);
  EXPECT_EQ(n.s.current, role::standby);
}

TEST(role_machine, standby_with_unreachable_gateway_never_activates) {  // F13
  node n;
  n.feed(gateway_changed{false});
  n.advance(5s);
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_FALSE(n.flow());
  n.feed(gateway_changed{true});
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, booting_next_to_an_active_peer_becomes_standby) {
  node n("node-a", "node-b", true);
  n.hear_for(peer(role::active, 4), 1s);
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_FALSE(n.flow());
}

TEST(role_machine, simultaneous_boot_gives_the_priority_node_active) {  // F8
  node a("node-a", "node-b", false), b("node-b", "node-a", true);
  a.probe();  // each gateway answered its first probe
  b.probe();
  auto ra = advertise(a.p, a.s), rb = advertise(b.p, b.s);
  a.hear(rb);
  b.hear(ra);
  EXPECT_EQ(a.s.current, role::standby);
  EXPECT_EQ(b.s.current, role::activating);
}

TEST(role_machine, simultaneous_boot_without_priority_is_decided_by_name) {
  node a("node-a", "node-b"), b("node-b", "node-a");
  a.probe();  // each gateway answered its first probe
  b.probe();
  auto ra = advertise(a.p, a.s), rb = advertise(b.p, b.s);
  a.hear(rb);
  b.hear(ra);
  EXPECT_EQ(a.s.current, role::activating);
  EXPECT_EQ(b.s.current, role::standby);
}

// ---- R3 (F8): the start honours the Active priority (issue 18) ----

namespace {

// Two machines starting together, 10 ms x 3 with a 2 s start window, stepped every millisecond:
// each sends its report every period, which reaches the peer only from `a_heard_from` /
// `b_heard_from` on (neighbour resolution after its links came up); each node's gateway answers
// every period from `*_gateway_from` on (never: time_point::max()).
struct start_pair {
  node a{"node-a", "node-b", true}, b{"node-b", "node-a", false};
  time_point a_heard_from{}, b_heard_from{};  // when the peer starts receiving a's / b's reports
  time_point a_gateway_from{}, b_gateway_from{};
  start_pair() {
    for (node* n : {&a, &b}) {
      n->p.period = 10ms;
      n->p.count = 3;
      n->p.start_window = 2s;
      n->p.flow_timeout = 5s;
      n->s = initial_state(n->p, n->now);
      n->gateway_answers = false;  // answers are fed by run() from the node's gateway time on
    }
  }
  void run(duration d) {
    for (duration t{}; t < d; t += 1ms) {
      for (node* n : {&a, &b}) {
        n->now += 1ms;
        const bool period_tick = (n->now.time_since_epoch() % n->p.period) == duration::zero();
        const auto gw_from = n == &a ? a_gateway_from : b_gateway_from;
        // The probe: an answer every period from gw_from on; `count` unanswered: the verdict.
        if (period_tick && n->now >= gw_from) {
          if (!n->s.gateway_ok) n->feed(gateway_changed{true});
          n->feed(gateway_heard{});
        } else if (period_tick && n->s.gateway_ok && n->now - std::max(n->s.gateway_heard_at, time_point{}) >= n->p.period * n->p.count &&
                   !n->s.gateway_answered) {
          n->feed(gateway_changed{false});
        }
        n->feed(tick{});
        // Finish flows at once: the executor's side is not what this tests.
        for (auto& act : n->out)
          if (auto* f = std::get_if<run_flow>(&act); f && f->up) n->flows_up.push_back(f->epoch);
        if (auto f = n->flow()) {
          n->out.clear();
          n->feed(flow_finished{f->epoch, f->up, true, ""});
        }
      }
      if ((a.now.time_since_epoch() % a.p.period) == duration::zero()) {
        if (a.now >= a_heard_from) b.hear(advertise(a.p, a.s));
        if (b.now >= b_heard_from) a.hear(advertise(b.p, b.s));
      }
    }
  }
};

}  // namespace

TEST(role_machine, without_the_priority_a_node_alone_waits_the_start_window) {  // R3
  node n("node-b", "node-a", false);
  n.p.start_window = 2s;
  n.s = initial_state(n.p, n.now);
  n.advance(1900ms);
  EXPECT_EQ(n.s.current, role::init) << "it waits for a peer starting with the priority";
  n.advance(200ms);
  EXPECT_EQ(n.s.current, role::activating);
  EXPECT_TRUE(n.has_event("activating"));
}

TEST(role_machine, with_the_priority_a_node_alone_decides_after_the_boot_wait) {  // R3
  node n("node-a", "node-b", true);
  n.p.start_window = 2s;
  n.s = initial_state(n.p, n.now);
  n.advance(n.p.boot_wait() + 100ms);
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, the_priority_node_wins_a_start_where_its_packets_and_its_gateway_come_late) {  // R3, F8
  // The case from the lab (issue 18): a hears b at once, but its own packets reach b only after
  // 300 ms and its gateway answers first after 430 ms.
  start_pair p;
  p.a_heard_from = time_point{} + 300ms;
  p.a_gateway_from = time_point{} + 430ms;
  p.run(1s);
  EXPECT_EQ(p.a.s.current, role::active);
  EXPECT_EQ(p.b.s.current, role::standby);
  EXPECT_TRUE(p.b.flows_up.empty()) << "b took the role at start";
}

TEST(role_machine, the_priority_node_wins_a_start_where_the_peer_hears_it_first_without_a_gateway) {  // R3
  // b hears a (init, no gateway answer yet) long before a's gateway answers: b waits for it.
  start_pair p;
  p.b_heard_from = time_point{} + 200ms;
  p.a_gateway_from = time_point{} + 1500ms;
  p.run(2500ms);
  EXPECT_EQ(p.a.s.current, role::active);
  EXPECT_TRUE(p.b.flows_up.empty()) << "b took the role at start";
}

TEST(role_machine, a_priority_node_whose_gateway_never_answers_leaves_the_role_to_its_peer_and_says_why) {  // R3, F13
  start_pair p;
  p.a_gateway_from = time_point::max();
  p.run(1900ms);
  EXPECT_EQ(p.a.s.current, role::init);
  EXPECT_EQ(p.b.s.current, role::standby) << "b waits for the priority node within the start window";
  p.run(300ms);
  EXPECT_EQ(p.a.s.current, role::standby);
  EXPECT_EQ(p.b.s.current, role::active);
  EXPECT_TRUE(p.a.flows_up.empty());
  bool said = false;
  for (auto& act : p.a.out)
    if (auto* e = std::get_if<raise_event>(&act); e && e->code == "priority_not_taken") {
      said = true;
      EXPECT_NE(e->text.find("gateway not reachable: no answer since the start"), std::string::npos) << e->text;
    }
  EXPECT_TRUE(said) << "the priority node says why it does not take the role";
}

TEST(role_machine, a_peer_starting_with_the_priority_is_waited_for_at_most_the_start_window) {  // R3
  node b("node-b", "node-a", false);
  b.p.start_window = 2s;
  b.s = initial_state(b.p, b.now);
  auto a = peer(role::init);
  a.active_priority = true;
  a.gateway_ok = false;  // it waits for its gateway, which does not come back
  b.hear_for(a, 1900ms);
  EXPECT_EQ(b.s.current, role::standby);
  EXPECT_FALSE(b.has_event("activating"));
  b.hear_for(a, b.p.peer_timeout() + 200ms);
  EXPECT_EQ(b.s.current, role::activating) << "a peer stuck in its start is not waited for forever";
}

TEST(role_machine, an_unhealthy_priority_node_at_start_leaves_the_role_to_a_healthy_peer) {  // R3, F11
  start_pair p;
  p.a.feed(health_changed{false, 1, "process web down"});
  p.run(500ms);
  EXPECT_EQ(p.b.s.current, role::active);
  EXPECT_EQ(p.a.s.current, role::standby);
}

TEST(role_machine, a_node_that_found_resources_at_start_still_waits_the_start_window_for_its_peer) {  // R3
  // Its heartbeat restarted while it served; after a link flap its peer, with the priority, may be
  // restarting with it (issue 18): it releases, then waits as any node without the priority.
  node n("node-b", "node-a", false);
  n.p.start_window = 2s;
  n.s = initial_state(n.p, n.now);
  n.feed(resources_held{true});
  n.now += 20ms;
  n.feed(resources_held{false});
  ASSERT_EQ(n.s.current, role::init);
  n.advance(1500ms);
  EXPECT_EQ(n.s.current, role::init) << "it did not wait for a peer starting with the priority";
  n.advance(600ms);
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, standby_takes_over_after_period_times_count_of_silence) {  // F1
  node n;
  n.hear_for(peer(role::active, 3), 1s);
  ASSERT_EQ(n.s.current, role::standby);
  n.advance(250ms, 10ms);
  EXPECT_EQ(n.s.current, role::standby) << "peer lost too early";
  n.advance(100ms, 10ms);
  EXPECT_EQ(n.s.current, role::activating);
  EXPECT_TRUE(n.has_event("peer_lost"));
  EXPECT_EQ(n.flow()->epoch, 4u) << "the epoch goes beyond the peer's";
}

TEST(role_machine, a_takeover_says_how_long_each_network_was_silent_and_when_the_gateway_answered) {  // issue 9
  node n;
  n.hear_for(peer(role::active, 1), 300ms);
  n.out.clear();
  n.advance(500ms);
  ASSERT_EQ(n.s.current, role::activating);
  std::string text;
  for (auto& a : n.out)
    if (auto* e = std::get_if<raise_event>(&a); e && e->code == "activating") text = e->text;
  EXPECT_NE(text.find("peer lost: 350 ms silent on the heartbeat network, 350 ms silent on the public network"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(limit 300 ms)"), std::string::npos) << text;
  EXPECT_NE(text.find("gateway answered 0 ms ago"), std::string::npos) << text;
}

TEST(role_machine, one_link_keeps_the_peer_alive_and_the_other_raises_an_event) {  // F3
  node n;
  n.hear_for(peer(role::active, 1), 1s);
  n.out.clear();
  for (int i = 0; i < 40; ++i) {
    n.now += 50ms;
    n.hear(peer(role::active, 1), peer_link::pub);
  }
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_TRUE(n.s.peer_alive);
  EXPECT_FALSE(n.s.links[0].up);
  EXPECT_TRUE(n.s.links[1].up);
  EXPECT_TRUE(n.has_event("link_down"));
  EXPECT_FALSE(n.has_event("peer_lost"));
}

TEST(role_machine, active_without_gateway_demotes_when_the_peer_has_it) {  // F5
  node n;
  n.make_active();
  n.hear_for(peer(role::standby, 1), 300ms);
  n.feed(gateway_changed{false});
  EXPECT_EQ(n.s.current, role::active) << "waits the grace for the peer's own verdict";
  n.hear_for(peer(role::standby, 1), n.p.gateway_grace());
  EXPECT_EQ(n.s.current, role::deactivating);
  ASSERT_TRUE(n.flow());
  EXPECT_FALSE(n.flow()->up);
  n.finish_flow();
  EXPECT_EQ(n.s.current, role::standby);
}

TEST(role_machine, standby_takes_over_from_an_active_that_lost_its_gateway) {  // F5, other side
  node n;
  n.hear_for(peer(role::active, 2), 300ms);
  auto p = peer(role::deactivating, 2);
  p.gateway_ok = false;
  n.hear_for(p, 200ms);
  EXPECT_EQ(n.s.current, role::standby) << "waits for the peer to finish stepping down";
  p.current = role::standby;
  n.hear_for(p, 100ms);
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, active_keeps_its_role_when_every_gateway_is_down) {  // F4
  node n;
  n.make_active();
  auto p = peer(role::standby, 1);
  p.gateway_ok = false;
  n.hear_for(p, 300ms);
  n.feed(gateway_changed{false});
  n.hear_for(p, 2s);
  EXPECT_EQ(n.s.current, role::active);
}

TEST(role_machine, active_keeps_its_role_when_the_peer_loses_the_gateway_a_moment_later) {  // F4
  node n;
  n.make_active();
  n.hear_for(peer(role::standby, 1), 300ms);
  n.feed(gateway_changed{false});  // this node's verdict comes first...
  n.hear_for(peer(role::standby, 1), 100ms);
  auto p = peer(role::standby, 1);
  p.gateway_ok = false;            // ...the peer's within a period
  n.hear_for(p, 2s);
  EXPECT_EQ(n.s.current, role::active);
}

TEST(role_machine, active_alone_without_gateway_steps_down) {  // F13, isolated Active
  node n;
  n.make_active();
  n.feed(gateway_changed{false});
  EXPECT_EQ(n.s.current, role::deactivating);
}

TEST(role_machine, standby_without_gateway_leaves_the_active_alone) {  // F6
  node n;
  n.hear_for(peer(role::active, 1), 300ms);
  n.feed(gateway_changed{false});
  n.hear_for(peer(role::active, 1), 2s);
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_FALSE(n.flow());
}

TEST(role_machine, two_actives_meeting_keep_the_most_recent_epoch) {  // F12
  node n;
  n.make_active();  // epoch 1
  n.hear(peer(role::active, 5));
  EXPECT_EQ(n.s.current, role::deactivating);
  EXPECT_TRUE(n.has_event("both_active"));
  node m;
  m.make_active();
  m.hear(peer(role::active, 0));
  EXPECT_EQ(m.s.current, role::active);
}

TEST(role_machine, two_actives_with_equal_epochs_keep_the_priority_node) {  // F12
  node n("node-a", "node-b", false);
  n.make_active();
  auto p = peer(role::active, 1);
  p.active_priority = true;
  n.hear(p);
  EXPECT_EQ(n.s.current, role::deactivating);
}

TEST(role_machine, active_with_a_reachable_gateway_beats_one_without) {  // F12 + F13
  node n;
  n.make_active();
  auto p = peer(role::active, 9);
  p.gateway_ok = false;
  n.hear(p);
  EXPECT_EQ(n.s.current, role::active);
}

TEST(role_machine, manual_failover_on_the_active_hands_over) {  // R4
  node a("node-a", "node-b"), b("node-b", "node-a");
  a.make_active();
  b.hear_for(advertise(a.p, a.s), 300ms);
  a.hear_for(advertise(b.p, b.s), 300ms);
  a.feed(operator_command{command_kind::manual_failover});
  ASSERT_TRUE(a.reply());
  EXPECT_TRUE(a.reply()->accepted) << a.reply()->text;
  EXPECT_EQ(a.s.current, role::deactivating);
  b.hear(advertise(a.p, a.s));
  EXPECT_EQ(b.s.current, role::standby) << "the peer waits until the Active is down";
  a.finish_flow();
  EXPECT_EQ(a.s.current, role::standby);
  EXPECT_TRUE(advertise(a.p, a.s).handover);
  b.hear(advertise(a.p, a.s));
  EXPECT_EQ(b.s.current, role::activating);
  b.finish_flow();
  a.hear(advertise(b.p, b.s));
  EXPECT_EQ(a.s.current, role::standby);
  EXPECT_FALSE(a.s.handover) << "the hand-over flag clears once the peer is Active";
}

TEST(role_machine, manual_failover_on_the_standby_asks_the_active_to_hand_over) {  // R4
  node a("node-a", "node-b"), b("node-b", "node-a");
  a.make_active();
  b.hear_for(advertise(a.p, a.s), 300ms);
  b.feed(operator_command{command_kind::manual_failover});
  ASSERT_TRUE(b.reply()->accepted) << b.reply()->text;
  a.hear(advertise(b.p, b.s));
  EXPECT_EQ(a.s.current, role::deactivating);
}

TEST(role_machine, manual_failover_is_refused_without_a_responding_peer) {
  node n;
  n.make_active();
  n.feed(operator_command{command_kind::manual_failover});
  ASSERT_TRUE(n.reply());
  EXPECT_FALSE(n.reply()->accepted);
  EXPECT_EQ(n.s.current, role::active);
}

TEST(role_machine, forced_active_skips_the_conditions) {  // R6
  node n;
  n.feed(gateway_changed{false});
  n.advance(1s);
  ASSERT_EQ(n.s.current, role::standby);
  n.feed(operator_command{command_kind::forced_active});
  EXPECT_TRUE(n.reply()->accepted);
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, forced_standby_holds_the_node_out_of_the_election) {  // R5/R6
  node n;
  n.make_active();
  n.feed(operator_command{command_kind::forced_standby});
  EXPECT_EQ(n.s.current, role::deactivating);
  n.finish_flow();
  EXPECT_EQ(n.s.current, role::standby);
  n.advance(3s);
  EXPECT_EQ(n.s.current, role::standby) << "held: not re-activated on its own";
  EXPECT_TRUE(advertise(n.p, n.s).held);
  n.feed(operator_command{command_kind::partition_active});
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, standby_elects_itself_when_the_peer_is_held) {
  node n;
  auto p = peer(role::standby, 1);
  p.held = true;
  n.hear_for(p, 300ms);
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, manual_mode_never_takes_over_a_silent_peer) {  // R2
  node n;
  n.hear_for(peer(role::active, 1), 300ms);
  n.feed(operator_command{command_kind::set_mode_manual});
  EXPECT_TRUE(n.reply()->accepted);
  n.advance(3s);
  EXPECT_EQ(n.s.current, role::standby);
  n.feed(operator_command{command_kind::stop_maintenance});
  EXPECT_EQ(n.s.mode, failover_mode::automatic);
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, manual_mode_does_not_demote_an_active_without_gateway) {  // R2
  node n;
  n.make_active();
  n.feed(operator_command{command_kind::set_mode_manual});
  n.feed(gateway_changed{false});
  EXPECT_EQ(n.s.current, role::active);
}

TEST(role_machine, unhealthy_active_hands_the_role_to_a_healthy_standby) {  // F7
  node n;
  n.make_active();
  n.hear_for(peer(role::standby, 1), 300ms);
  n.feed(health_changed{false});
  EXPECT_EQ(n.s.current, role::deactivating);
}

// A resource the health check watches only while the node holds it (a shared disk's mount, D10)
// reads healthy again as soon as the flow is down: the node stepped down for its peer, and may
// not take the service straight back from it, even with the priority (seen in the lab under
// load: the monitor's verdict came in before the flow finished, and node a was elected again).
TEST(role_machine, an_active_that_stepped_down_for_its_health_leaves_the_role_to_the_peer) {  // F7, D10
  node a("node-a", "node-b", /*priority=*/true);
  a.make_active();
  a.hear_for(peer(role::standby, 1), 300ms);
  a.feed(health_changed{false, 1, "disk data: /srv is not mounted"});
  ASSERT_EQ(a.s.current, role::deactivating);
  EXPECT_TRUE(advertise(a.p, a.s).handover) << "it tells the peer to take over";
  a.feed(health_changed{true});  // the mount is no longer expected: healthy again
  a.finish_flow();
  EXPECT_EQ(a.s.current, role::standby);
  a.hear_for(peer(role::standby, 1), 300ms);
  EXPECT_EQ(a.s.current, role::standby) << "it does not take the service straight back";
  EXPECT_FALSE(a.flow());
  // The peer, hearing the hand-over, is elected although node a has the priority.
  node b("node-b", "node-a");
  b.hear_for(advertise(a.p, a.s), 300ms);
  EXPECT_EQ(b.s.current, role::activating);
  // ... even in MANUAL mode: the service is not left with nobody.
  auto manual_standby = [] {
    node n("node-b", "node-a");
    n.p.initial_mode = failover_mode::manual;
    n.s = initial_state(n.p, n.now);
    n.hear_for(peer(role::active, 1), 300ms);  // past its boot: a Standby next to an Active
    EXPECT_EQ(n.s.current, role::standby);
    return n;
  };
  node manual_b = manual_standby();
  manual_b.hear_for(advertise(a.p, a.s), 300ms);
  EXPECT_EQ(manual_b.s.current, role::activating);
  node control = manual_standby();  // a peer merely Standby: MANUAL takes nothing
  control.hear_for(peer(role::standby, 1), 300ms);
  EXPECT_EQ(control.s.current, role::standby);
  // Once the peer is Active, node a forgets the hand-over and is a normal Standby again.
  a.hear_for(peer(role::active, 2), 300ms);
  EXPECT_FALSE(advertise(a.p, a.s).handover);
  EXPECT_EQ(a.s.current, role::standby);
}

TEST(role_machine, unhealthy_active_alone_keeps_serving) {  // F11
  node n;
  n.make_active();
  n.feed(health_changed{false, 1, "process web: 0 running"});
  n.advance(1s);
  EXPECT_EQ(n.s.current, role::active);
  EXPECT_TRUE(n.has_event("unhealthy_kept"));
}

TEST(role_machine, the_unhealthy_event_and_the_hand_over_say_why) {  // issue 9: every failover says why
  node n;
  n.make_active();
  n.hear_for(peer(role::standby, 1), 300ms);
  n.out.clear();
  n.feed(health_changed{false, 1, "process web: 3 restarts did not bring it back"});
  bool said = false, why = false;
  for (auto& a : n.out)
    if (auto* e = std::get_if<raise_event>(&a)) {
      if (e->code == "unhealthy") said = e->text.find("3 restarts did not bring it back") != std::string::npos;
      if (e->code == "deactivating") why = e->text.find("3 restarts did not bring it back") != std::string::npos;
    }
  EXPECT_TRUE(said);
  EXPECT_TRUE(why);
  EXPECT_EQ(advertise(n.p, n.s).health_failing, 1);
}

TEST(role_machine, an_unhealthy_active_keeps_the_role_when_the_standby_fails_as_much) {  // F11
  node n;
  n.make_active();
  auto sick = peer(role::standby, 1);
  sick.healthy = false;
  sick.health_failing = 1;
  n.hear_for(sick, 300ms);
  n.feed(health_changed{false, 1, "process web down"});
  n.hear_for(sick, 1s);
  EXPECT_EQ(n.s.current, role::active) << "moving the service to a node no better is an outage for nothing";
  EXPECT_TRUE(n.has_event("unhealthy_kept"));
  n.out.clear();
  n.feed(health_changed{false, 2, "process web down; process db down"});
  n.hear(sick);
  EXPECT_EQ(n.s.current, role::deactivating) << "the standby is now better off (1 failing against 2)";
}

TEST(role_machine, an_unhealthy_standby_still_takes_over_a_lost_peer) {  // F11: not abandoned
  node n;
  n.hear_for(peer(role::active, 1), 300ms);
  ASSERT_EQ(n.s.current, role::standby);
  n.feed(health_changed{false, 1, "process web down"});
  n.advance(500ms);
  EXPECT_EQ(n.s.current, role::activating) << "the peer is gone: a node with a failing application "
                                              "still serves better than none";
  n.finish_flow();
  n.advance(100ms);
  EXPECT_TRUE(n.has_event("unhealthy_kept"));
}

TEST(role_machine, at_boot_the_healthier_node_wins_over_priority) {  // F8 + issue 9
  node a("node-a", "node-b", true);
  a.feed(health_changed{false, 1, "process web down"});
  auto b = peer(role::init);
  a.hear_for(b, 300ms);
  EXPECT_EQ(a.s.current, role::standby) << "the priority node is unhealthy: the healthy peer is elected";
  node c("node-a", "node-b", true);
  c.feed(health_changed{false, 1, "x"});
  auto worse = peer(role::init);
  worse.healthy = false;
  worse.health_failing = 2;
  c.hear_for(worse, 300ms);
  EXPECT_EQ(c.s.current, role::activating) << "both unhealthy: the one with fewer failures";
}

TEST(role_machine, a_monitor_asking_for_it_reboots_the_server_once_the_service_is_handed_over) {  // D13
  node n;
  n.make_active();
  n.hear_for(peer(role::standby, 1), 300ms);
  n.out.clear();
  n.feed(health_changed{false, 1, "process db: 0 running", true});
  ASSERT_EQ(n.s.current, role::deactivating);
  auto reboots = [&] {
    int k = 0;
    for (auto& a : n.out) k += std::holds_alternative<reboot_node>(a) ? 1 : 0;
    return k;
  };
  EXPECT_EQ(reboots(), 0) << "not before the flow is down";
  n.finish_flow();
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_EQ(reboots(), 1);
  EXPECT_TRUE(n.has_event("reboot_after_failover"));
  n.out.clear();
  n.hear_for(peer(role::active, 2), 300ms);
  EXPECT_EQ(reboots(), 0) << "once";
}

TEST(role_machine, no_reboot_without_the_monitors_asking_or_without_a_hand_over) {  // D13
  node n;
  n.make_active();
  n.hear_for(peer(role::standby, 1), 300ms);
  n.feed(health_changed{false, 1, "process web: 0 running", false});
  n.finish_flow();
  for (auto& a : n.out) EXPECT_FALSE(std::holds_alternative<reboot_node>(a));
  node alone;
  alone.make_active();
  alone.feed(health_changed{false, 1, "process db: 0 running", true});
  alone.advance(1s);
  EXPECT_EQ(alone.s.current, role::active) << "nobody to hand over to: it keeps serving (F11)";
  for (auto& a : alone.out) EXPECT_FALSE(std::holds_alternative<reboot_node>(a));
}

TEST(role_machine, manual_failover_to_an_unhealthy_standby_is_refused) {
  node n;
  n.make_active();
  auto sick = peer(role::standby, 1);
  sick.healthy = false;
  n.hear_for(sick, 300ms);
  n.feed(operator_command{command_kind::manual_failover});
  ASSERT_TRUE(n.reply());
  EXPECT_FALSE(n.reply()->accepted);
  EXPECT_NE(n.reply()->text.find("health"), std::string::npos) << n.reply()->text;
  EXPECT_EQ(n.s.current, role::active);
}

TEST(role_machine, a_failed_activation_stops_the_flow_and_fails) {  // W1 stop on error
  node n;
  n.advance(1s);
  n.finish_flow(false);
  EXPECT_TRUE(n.has_event("activation_failed"));
  EXPECT_EQ(n.s.current, role::deactivating);
  n.finish_flow(true);
  EXPECT_EQ(n.s.current, role::failed);
  EXPECT_FALSE(advertise(n.p, n.s).current != role::failed);
}

TEST(role_machine, an_unanswered_flow_fails_after_the_flow_timeout) {  // DESIGN §2.4
  node n;
  n.advance(1s);
  ASSERT_EQ(n.s.current, role::activating);
  n.advance(n.p.flow_timeout + 100ms);
  EXPECT_TRUE(n.has_event("activation_failed"));
}

TEST(role_machine, a_stale_flow_answer_is_ignored) {
  node n;
  n.advance(1s);
  n.feed(flow_finished{n.s.epoch + 1, true, true, ""});
  EXPECT_EQ(n.s.current, role::activating);
  n.feed(flow_finished{n.s.epoch, false, true, ""});
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, a_restarted_peer_is_reported) {
  node n;
  n.hear_for(peer(role::active, 1), 200ms);
  auto p = peer(role::active, 1);
  p.boot_id = 100;
  n.hear(p);
  EXPECT_TRUE(n.has_event("peer_restarted"));
}

TEST(role_machine, commands_have_names) {
  for (auto k : {command_kind::set_mode_auto, command_kind::set_mode_manual,
                 command_kind::manual_failover, command_kind::partition_active,
                 command_kind::partition_standby, command_kind::forced_active,
                 command_kind::forced_standby, command_kind::stop_maintenance})
    EXPECT_EQ(command_from_string(to_string(k)), k);
  EXPECT_FALSE(command_from_string("reboot"));
  EXPECT_EQ(role_from_string("active"), role::active);
}

TEST(role_machine, resources_released_by_the_executor_while_alone_are_taken_again) {  // F9
  node n;
  n.make_active();
  const auto epoch = n.s.epoch;
  n.feed(resources_released{epoch, "heartbeat silent"});
  EXPECT_TRUE(n.has_event("resources_released"));
  ASSERT_EQ(n.s.current, role::activating) << "alone and eligible: it activates again";
  EXPECT_EQ(n.flow()->epoch, epoch + 1) << "a new epoch, so the executor takes it";
}

TEST(role_machine, resources_released_while_deactivating_ends_the_flow) {
  node n;
  n.make_active();
  n.feed(operator_command{command_kind::forced_standby});
  ASSERT_EQ(n.s.current, role::deactivating);
  n.feed(resources_released{n.s.epoch, "watchdog"});
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_FALSE(n.s.flow_pending);
}

TEST(role_machine, resources_released_for_another_epoch_is_ignored) {
  node n;
  n.make_active();
  n.feed(resources_released{n.s.epoch + 5, "stale"});
  EXPECT_EQ(n.s.current, role::active);
  EXPECT_FALSE(n.has_event("resources_released"));
}

TEST(role_machine, standby_does_not_take_over_on_a_gateway_verdict_that_is_not_yet_in) {  // F13
  node n;
  n.hear_for(peer(role::active, 1), 300ms);
  // One cut silences both the peer and the gateway; the peer's silence is noticed first,
  // before `count` probes went unanswered: no verdict yet, but no fresh answer either.
  n.gateway_answers = false;
  n.advance(400ms, 10ms);
  EXPECT_TRUE(n.has_event("peer_lost"));
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_FALSE(n.flow());
  n.feed(gateway_changed{false});  // the verdict arrives
  n.advance(2s);
  EXPECT_EQ(n.s.current, role::standby) << "never activates without its gateway";
}

TEST(role_machine, standby_takes_over_once_the_gateway_answers_again) {
  node n;
  n.hear_for(peer(role::active, 1), 300ms);
  n.gateway_answers = false;
  n.advance(400ms, 10ms);
  ASSERT_EQ(n.s.current, role::standby);
  n.gateway_answers = true;  // the next probe is answered: it was the peer, not the network
  n.advance(60ms, 10ms);
  EXPECT_EQ(n.s.current, role::activating);
}

namespace {
std::vector<announce_addresses> announcements(const node& n) {
  std::vector<announce_addresses> out;
  for (auto& a : n.out)
    if (auto* x = std::get_if<announce_addresses>(&a)) out.push_back(*x);
  return out;
}
}  // namespace

TEST(role_machine, active_announces_its_addresses_again_when_the_peer_is_heard_again) {  // R5
  node n;
  n.make_active();
  n.hear_for(peer(role::standby), 200ms);
  ASSERT_EQ(announcements(n).size(), 1u) << "the peer appeared: once, not at every heartbeat";
  EXPECT_EQ(announcements(n)[0].reason, "the peer is heard again");
  n.out.clear();
  n.advance(500ms, 10ms);  // a partition: the peer falls silent...
  ASSERT_FALSE(n.s.peer_alive);
  EXPECT_TRUE(announcements(n).empty());
  n.hear_for(peer(role::standby), 200ms);  // ...and heals
  EXPECT_EQ(n.s.current, role::active);
  EXPECT_EQ(announcements(n).size(), 1u);
}

TEST(role_machine, active_announces_its_addresses_again_when_the_other_active_yields) {  // F12
  node n;
  n.make_active();
  n.hear(peer(role::active, 0));  // two Actives meet; this one (epoch 1) keeps the role
  ASSERT_EQ(n.s.current, role::active);
  n.out.clear();
  n.hear(peer(role::deactivating, 0));
  EXPECT_TRUE(announcements(n).empty()) << "the peer still releases the addresses";
  n.hear(peer(role::standby, 0));
  ASSERT_EQ(announcements(n).size(), 1u);
  EXPECT_EQ(announcements(n)[0].reason, "the peer left the Active role");
  n.out.clear();
  n.hear_for(peer(role::standby, 0), 300ms);
  EXPECT_TRUE(announcements(n).empty());
}

TEST(role_machine, standby_never_announces_addresses) {
  node n;
  n.hear_for(peer(role::active, 3), 1s);
  ASSERT_EQ(n.s.current, role::standby);
  n.hear(peer(role::standby, 3));
  EXPECT_TRUE(announcements(n).empty());
}

// ---- rule 13: a release is confirmed, not assumed (issue 7) ----

TEST(role_machine, the_executor_releasing_on_its_own_takes_the_active_to_deactivating_at_once) {  // F9
  node n;
  n.make_active();
  n.feed(resources_held{true});
  n.feed(resources_releasing{n.s.epoch, "no word from hasys-heartbeat for 260 ms"});
  EXPECT_TRUE(n.has_event("resources_releasing"));
  EXPECT_EQ(n.s.current, role::deactivating);
  EXPECT_EQ(advertise(n.p, n.s).current, role::deactivating) << "the peer learns it at once";
  n.feed(resources_held{false});
  n.feed(resources_released{n.s.epoch, "verified"});
  EXPECT_NE(n.s.current, role::deactivating);
}

TEST(role_machine, a_release_the_executor_cannot_verify_keeps_the_node_deactivating_past_the_flow_timeout) {
  node n;
  n.make_active();
  n.feed(resources_held{true});
  n.feed(resources_releasing{n.s.epoch, "closed"});
  n.advance(n.p.flow_timeout + 1s);
  EXPECT_TRUE(n.has_event("release_unverified"));
  EXPECT_EQ(n.s.current, role::deactivating) << "fail closed: never Failed or Standby while something may be held";
  n.advance(10 * n.p.flow_timeout);
  EXPECT_EQ(n.s.current, role::deactivating);
  n.out.clear();
  n.feed(resources_held{false});
  n.feed(resources_released{n.s.epoch, "the lease ran out"});
  EXPECT_FALSE(holds_resources(n.s.current));
}

TEST(role_machine, a_flow_down_that_leaves_a_resource_held_waits_for_it_before_the_next_role) {  // W1
  node n;
  n.make_active();
  n.feed(operator_command{command_kind::forced_standby});
  ASSERT_EQ(n.s.current, role::deactivating);
  n.feed(resources_held{true});
  n.finish_flow(false);  // the VIP's removal failed
  EXPECT_EQ(n.s.current, role::deactivating);
  EXPECT_TRUE(n.s.release_unverified);
  EXPECT_TRUE(n.has_event("release_unverified"));
  n.feed(resources_held{false});  // verified gone (the lease ran out, or a retry worked)
  EXPECT_EQ(n.s.current, role::failed) << "the flow failed going down: rule 8 still applies";
}

TEST(role_machine, a_flow_down_that_ends_cleanly_while_the_executor_still_holds_waits) {
  node n;
  n.make_active();
  n.feed(operator_command{command_kind::forced_standby});
  n.feed(resources_held{true});
  n.finish_flow(true);
  EXPECT_EQ(n.s.current, role::deactivating);
  n.feed(resources_held{false});
  EXPECT_EQ(n.s.current, role::standby);
}

TEST(role_machine, a_restarted_heartbeat_whose_executor_holds_resources_releases_them_first) {  // F9
  node n;
  n.feed(resources_held{true});  // the executor's first answer after the heartbeat's restart
  EXPECT_TRUE(n.has_event("resources_found"));
  EXPECT_EQ(n.s.current, role::deactivating);
  n.hear_for(peer(role::standby, 3), 2s);
  EXPECT_EQ(n.s.current, role::deactivating) << "no election while something may be held";
  EXPECT_FALSE(n.flow() && n.flow()->up);
  n.feed(resources_held{false});
  EXPECT_NE(n.s.current, role::deactivating);
}

TEST(role_machine, a_standby_never_activates_on_top_of_a_heard_peer_that_is_releasing) {
  node n;  // node-a: wins an election against node-b by name
  n.hear_for(peer(role::active, 4), 300ms);
  ASSERT_EQ(n.s.current, role::standby);
  n.hear_for(peer(role::deactivating, 4), 30s);  // the peer's release cannot be verified
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_FALSE(n.flow());
  n.hear_for(peer(role::standby, 4), 300ms);  // verified gone: the normal rules again
  EXPECT_EQ(n.s.current, role::activating);
}

TEST(role_machine, an_active_whose_flow_fails_after_it_was_up_steps_down_and_fails) {
  node n;
  n.make_active();
  n.feed(flow_finished{n.s.epoch, true, false, "vip: no interface eth0"});
  EXPECT_TRUE(n.has_event("activation_failed"));
  EXPECT_EQ(n.s.current, role::deactivating);
  n.finish_flow(true);
  EXPECT_EQ(n.s.current, role::failed);
}

TEST(role_machine, a_booting_node_that_releases_what_it_found_still_waits_for_its_peer) {  // rule 13, F8
  node n;
  n.feed(resources_held{true});  // the executor's first answer: something from before
  ASSERT_EQ(n.s.current, role::deactivating);
  n.now += 50ms;
  n.feed(resources_held{false});  // released and verified, long before the boot wait is over
  EXPECT_EQ(n.s.current, role::init) << "back to booting, not Standby: it has not heard its peer yet";
  EXPECT_FALSE(n.flow() && n.flow()->up);
  n.hear_for(peer(role::active, 12), 300ms);  // the peer serves: this node stands by it
  EXPECT_EQ(n.s.current, role::standby);
  EXPECT_FALSE(n.has_event("activating"));
}

// ---- issue 8: the self-stall guard and the executor's watchdog ----

TEST(role_machine, a_stall_of_this_node_is_not_counted_as_the_peers_silence) {
  node n("node-b", "node-a");
  n.hear_for(peer(role::active, 3), 300ms);
  ASSERT_EQ(n.s.current, role::standby);
  // This daemon's loop was not scheduled for 250 ms of the 300 ms the peer has been unheard.
  const auto from = n.now + 40ms;
  n.now += 300ms;
  n.feed(stalled{from, from + 250ms});
  n.feed(tick{});
  EXPECT_TRUE(n.s.peer_alive) << "50 ms seen silent is not 300 ms";
  EXPECT_FALSE(n.has_event("peer_lost"));
  EXPECT_TRUE(n.has_event("self_stall"));
  EXPECT_EQ(n.s.stalls, 1u);
  // A real silence is still detected: 300 ms of it that this node saw.
  n.now += 260ms;
  n.feed(tick{});
  EXPECT_TRUE(n.has_event("peer_lost"));
}

TEST(role_machine, overlapping_stall_reports_count_once) {
  node n("node-b", "node-a");
  n.hear_for(peer(role::active, 3), 300ms);
  const auto t = n.now;
  n.now += 200ms;
  n.feed(stalled{t, t + 150ms});        // the period loop saw it
  n.feed(stalled{t + 50ms, t + 150ms});  // the expiry loop saw the same stall
  n.now += 150ms;                        // 350 ms since the last heartbeat, 150 of them stalled
  n.feed(tick{});
  EXPECT_TRUE(n.s.peer_alive) << "200 ms seen silent";
  n.now += 101ms;
  n.feed(tick{});
  EXPECT_FALSE(n.s.peer_alive) << "counted once: 301 ms seen silent";
}

TEST(role_machine, short_stalls_raise_no_event_and_one_per_ten_seconds_at_most) {
  node n("node-b", "node-a");
  n.hear_for(peer(role::active, 3), 300ms);
  n.out.clear();
  n.feed(stalled{n.now - 20ms, n.now});  // under a period: counted, not reported
  EXPECT_FALSE(n.has_event("self_stall"));
  n.hear_for(peer(role::active, 3), 100ms);
  n.feed(stalled{n.now - 150ms, n.now});
  EXPECT_TRUE(n.has_event("self_stall"));
  n.out.clear();
  n.hear_for(peer(role::active, 3), 100ms);
  n.feed(stalled{n.now - 150ms, n.now});
  EXPECT_FALSE(n.has_event("self_stall")) << "rate-limited";
}

TEST(role_machine, the_executor_watchdog_ends_before_the_peer_can_take_over) {  // ADR 0005
  params p;
  for (auto [period, count] : {std::pair{10ms, 3}, {20ms, 3}, {100ms, 3}, {1000ms, 3}, {5ms, 3}, {20ms, 5}}) {
    p.period = period;
    p.count = count;
    EXPECT_LE(p.executor_watchdog() + params::release_budget, p.peer_timeout()) << period.count() << " x " << count;
    EXPECT_GE(p.executor_watchdog(), p.period * 3 / 2) << "a desired state comes every period";
  }
  p.period = 10ms;
  p.count = 3;
  EXPECT_EQ(p.executor_watchdog(), 28ms);
  p.period = 100ms;
  EXPECT_EQ(p.executor_watchdog(), 298ms) << "bounded by the detection time, not a fraction of the period";
  p.count = 1;
  EXPECT_EQ(p.executor_watchdog(), 150ms) << "count 1: no watchdog fits before detection; the lease is all";
}

// A new period or count committed on both nodes moments apart (remote configuration, issue 11):
// while it lands, the peer is judged by the longer detection time and the executor's watchdog by
// the shorter, whichever way the change goes.
TEST(role_machine, during_a_change_of_period_detection_is_lenient_and_the_watchdog_strict) {
  params p;
  p.period = 100ms;
  p.count = 3;
  p.grace_timeout = 1000ms * 3;  // from 1 s x 3 down to 100 ms x 3
  EXPECT_EQ(p.peer_timeout(), 3000ms);
  EXPECT_EQ(p.executor_watchdog(), 298ms);
  p.period = 1000ms;  // from 100 ms x 3 up to 1 s x 3
  p.grace_timeout = 300ms;
  EXPECT_EQ(p.peer_timeout(), 3000ms);
  EXPECT_EQ(p.executor_watchdog(), 1500ms) << "never under 1.5 periods: a desired state comes every period";
  p.grace_timeout = {};
  EXPECT_EQ(p.peer_timeout(), 3000ms);
  EXPECT_EQ(p.executor_watchdog(), 2998ms);

  // The role machine itself: a peer silent for longer than the new detection time but not the
  // old one is not lost during the change.
  node n;
  n.p.grace_timeout = 3000ms;
  n.hear_for(peer(role::active, 3), 1s);
  ASSERT_EQ(n.s.current, role::standby);
  n.advance(2900ms, 10ms);
  EXPECT_EQ(n.s.current, role::standby) << "2.9 s of silence < the old 3 s";
  n.advance(200ms, 10ms);
  EXPECT_EQ(n.s.current, role::activating);
  EXPECT_TRUE(n.has_event("peer_lost"));
}
