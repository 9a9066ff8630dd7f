// Every rule of the executor's flow machine: runs, adoption after a restart, verification, the
// fence that fails closed, the watchdog, orderly stop, announces, W8 and D12.
#include <hasys/flow/flow_machine.hpp>

#include <gtest/gtest.h>

#include <algorithm>

using namespace hasys::flow;
using namespace std::chrono_literals;

namespace {

// vip (lease 1 s), app1, app2: the lab's flow.
params three_nodes() {
  params p;
  p.group = "g";
  p.nodes = {{"vip", resource_kind::vip, true, true, 1s, true},
             {"app1", resource_kind::application, true, false, {}, false},
             {"app2", resource_kind::application, true, false, {}, false}};
  return p;
}

desired up(std::uint64_t epoch, std::uint64_t announce = 0) { return desired{epoch, true, false, announce, 3s}; }
desired down(std::uint64_t epoch) { return desired{epoch, false, false, 0, 3s}; }

// One group's machine driven by hand.
struct machine {
  params p;
  state s;
  time_point now{};
  std::vector<action> out;

  explicit machine(params pp = three_nodes(), journal j = {}, std::string boot = "boot-1") : p(std::move(pp)) {
    auto t = initial_state(p, std::move(j), boot, now);
    s = std::move(t.next);
    out = std::move(t.actions);
  }
  void feed(const input& in) {
    auto t = step(p, s, in, now);
    s = std::move(t.next);
    out.insert(out.end(), t.actions.begin(), t.actions.end());
  }
  // Moves the clock, ticking at every deadline the machine asks for (as the executor does).
  void advance(duration d) {
    const auto end = now + d;
    for (;;) {
      const auto next = next_deadline(p, s);
      if (next > end) break;
      now = std::max(now, next);
      feed(tick{});
    }
    now = end;
    feed(tick{});
  }

  template <class A>
  std::vector<A> all() const {
    std::vector<A> v;
    for (const auto& a : out)
      if (auto* x = std::get_if<A>(&a)) v.push_back(*x);
    return v;
  }
  std::optional<io_request> io(std::size_t node, io_op op) const {
    for (const auto& r : all<io_request>())
      if (r.node == node && r.op == op) return r;
    return std::nullopt;
  }
  std::optional<run_step> pending_step() const {
    auto v = all<run_step>();
    if (v.empty()) return std::nullopt;
    return v.back();
  }
  bool has_event(std::string_view code) const {
    for (const auto& e : all<raise_event>())
      if (e.code == code) return true;
    return false;
  }
  // Answers the step that is out.
  void finish_step(bool ok = true, std::string detail = {}) {
    ASSERT_TRUE(s.step) << "no step out";
    const auto st = *s.step;
    out.clear();
    feed(step_done{st.node, st.up, st.epoch, ok, std::move(detail)});
  }
  // Answers every step until none is out (all succeed).
  void run_all() {
    for (int guard = 0; s.step && guard < 50; ++guard) finish_step();
  }
  void answer(std::size_t node, io_op op, presence seen, std::string error = {}) {
    feed(io_done{node, op, seen, std::move(error)});
  }
  observed said() const { return observe(s); }
};

// A node whose flow is up for epoch 1: the address checked absent at start, then every node run.
machine serving(params p = three_nodes()) {
  machine m(std::move(p));
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.run_all();
  m.out.clear();
  return m;
}

journal was_up(std::uint64_t epoch, std::size_t up_count = 3) {
  journal j;
  j.up_count = up_count;
  j.acting_epoch = epoch;
  j.machine_boot = "boot-1";
  j.watchdog_ms = 3000;
  return j;
}

}  // namespace

// ---- runs (W1) ----

TEST(flow_machine, looks_at_every_observable_resource_before_deciding_anything) {
  machine m;
  EXPECT_EQ(m.s.at, stage::settling);
  EXPECT_TRUE(m.io(0, io_op::check)) << "the VIP is checked at start";
  m.feed(desired_received{up(1)});
  EXPECT_FALSE(m.pending_step()) << "nothing runs before the first look";
  m.answer(0, io_op::check, presence::absent);
  EXPECT_EQ(m.s.at, stage::running);
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 0u);
}

TEST(flow_machine, brings_the_flow_up_top_down_and_reports_done_once_all_are_up) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  std::vector<std::size_t> order;
  while (m.s.step) {
    order.push_back(m.s.step->node);
    EXPECT_TRUE(m.s.step->up);
    EXPECT_EQ(m.said().ph, phase::running);
    m.finish_step();
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(m.said().ph, phase::done);
  EXPECT_TRUE(m.said().up);
  EXPECT_EQ(m.said().epoch, 1u);
  EXPECT_TRUE(m.has_event("flow_up"));
  EXPECT_EQ(m.s.j.up_count, 3u);
}

TEST(flow_machine, takes_the_flow_down_bottom_up_and_reports_done_when_the_address_is_gone) {
  auto m = serving();
  m.feed(desired_received{down(1)});
  std::vector<std::size_t> order;
  while (m.s.step) {
    order.push_back(m.s.step->node);
    EXPECT_FALSE(m.s.step->up);
    m.finish_step();
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{2, 1, 0}));
  EXPECT_EQ(m.said().ph, phase::done);
  EXPECT_FALSE(m.said().up);
  EXPECT_FALSE(m.said().holding);
  EXPECT_TRUE(m.has_event("flow_down"));
}

TEST(flow_machine, journals_a_node_before_it_runs) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.out.clear();
  m.feed(desired_received{up(1)});
  // save_journal with in_progress = 0 comes before run_step(0)
  auto save_at = std::find_if(m.out.begin(), m.out.end(), [](const action& a) {
    auto* j = std::get_if<save_journal>(&a);
    return j && j->j.in_progress == 0 && j->j.in_progress_up;
  });
  auto run_at = std::find_if(m.out.begin(), m.out.end(), [](const action& a) { return std::holds_alternative<run_step>(a); });
  ASSERT_NE(save_at, m.out.end());
  ASSERT_NE(run_at, m.out.end());
  EXPECT_LT(save_at - m.out.begin(), run_at - m.out.begin());
}

TEST(flow_machine, a_failure_with_stop_on_error_stops_the_flow_and_the_epoch_is_not_retried) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.finish_step();                    // vip
  m.finish_step(false, "exit 3");     // app1
  EXPECT_FALSE(m.s.step) << "app2 does not run";
  EXPECT_EQ(m.said().ph, phase::failed);
  EXPECT_NE(m.said().detail.find("app1: exit 3"), std::string::npos);
  EXPECT_TRUE(m.has_event("flow_stopped"));
  m.out.clear();
  m.feed(desired_received{up(1)});
  EXPECT_FALSE(m.pending_step()) << "the failed epoch is not retried";
  m.feed(desired_received{down(1)});
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 1u) << "the failed node's stop runs: it may hold something";
}

TEST(flow_machine, a_failure_without_stop_on_error_lets_the_flow_go_on) {
  auto p = three_nodes();
  p.nodes[1].stop_on_error = false;
  machine m(p);
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.finish_step();
  m.finish_step(false, "exit 3");
  ASSERT_TRUE(m.s.step);
  EXPECT_EQ(m.s.step->node, 2u);
  EXPECT_TRUE(m.has_event("flow_node_failed"));
}

// ---- restarts: the journal, adoption ----

TEST(flow_machine, a_restart_keeps_the_address_alive_at_once_before_the_heartbeat_speaks) {
  machine m(three_nodes(), was_up(5));
  EXPECT_TRUE(m.io(0, io_op::refresh)) << "refreshed, not merely checked: the lease must not run out";
  EXPECT_FALSE(m.io(0, io_op::check));
  m.answer(0, io_op::refresh, presence::present);
  EXPECT_FALSE(m.pending_step());
  EXPECT_TRUE(m.said().holding);
  EXPECT_TRUE(m.all<io_request>().size() == 1) << "no announce before the heartbeat confirms the epoch";
  // and it keeps the lease while it waits
  m.out.clear();
  m.advance(300ms);
  EXPECT_TRUE(m.io(0, io_op::refresh));
}

TEST(flow_machine, a_restart_adopts_the_address_and_announces_it_when_the_heartbeat_confirms) {
  machine m(three_nodes(), was_up(5));
  m.answer(0, io_op::refresh, presence::present);
  m.out.clear();
  m.feed(desired_received{up(5)});
  EXPECT_FALSE(m.pending_step()) << "scripts are never run twice, the address is there";
  EXPECT_TRUE(m.io(0, io_op::announce));
  EXPECT_TRUE(m.has_event("resource_adopted"));
  EXPECT_EQ(m.said().ph, phase::done);
  EXPECT_EQ(m.said().epoch, 5u);
  EXPECT_TRUE(m.said().up);
  m.out.clear();
  m.feed(desired_received{up(5)});
  EXPECT_FALSE(m.io(0, io_op::announce)) << "adopted once";
}

TEST(flow_machine, a_restart_finds_the_address_gone_and_adds_it_again_but_runs_no_script_twice) {
  machine m(three_nodes(), was_up(5));
  m.answer(0, io_op::refresh, presence::absent);
  m.feed(desired_received{up(5)});
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 0u);
  m.finish_step();
  EXPECT_FALSE(m.s.step);
  EXPECT_EQ(m.said().ph, phase::done);
}

TEST(flow_machine, a_restart_told_down_takes_the_adopted_flow_down) {
  machine m(three_nodes(), was_up(5));
  m.answer(0, io_op::refresh, presence::present);
  m.feed(desired_received{down(5)});
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 2u);
  EXPECT_FALSE(m.has_event("resource_adopted"));
  EXPECT_FALSE(m.io(0, io_op::announce));
}

TEST(flow_machine, a_start_cut_short_by_a_restart_counts_as_started_and_a_stop_as_stopped) {
  auto j = was_up(5, 1);
  j.in_progress = 1;
  j.in_progress_up = true;
  machine m(three_nodes(), j);
  EXPECT_EQ(m.s.j.up_count, 2u);
  EXPECT_TRUE(m.has_event("flow_interrupted"));
  auto k = was_up(5, 2);
  k.in_progress = 1;
  k.in_progress_up = false;
  machine n(three_nodes(), k);
  EXPECT_EQ(n.s.j.up_count, 1u);
}

// Found by the executor simulation (seed 20260301, step 145939): a kill -9 during the VIP's stop
// left the address on the node, but the restart counted the stop as done and said "not holding".
TEST(flow_machine, a_stop_of_an_address_cut_short_by_a_restart_holds_it_until_verified) {
  auto j = was_up(5, 1);
  j.in_progress = 0;
  j.in_progress_up = false;
  machine m(three_nodes(), j);
  EXPECT_TRUE(m.said().holding) << "the removal may not have gone through";
  EXPECT_TRUE(m.io(0, io_op::check)) << "looked at, not kept alive";
  EXPECT_FALSE(m.io(0, io_op::refresh));
  m.answer(0, io_op::check, presence::present);
  m.feed(desired_received{down(5)});
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 0u);
  EXPECT_FALSE(m.pending_step()->up);
  m.finish_step();
  EXPECT_EQ(m.said().ph, phase::done);
  EXPECT_FALSE(m.said().holding);

  machine n(three_nodes(), j);
  n.answer(0, io_op::check, presence::absent);
  EXPECT_FALSE(n.said().holding) << "verified gone";
}

// What the executor asks at a start before it lets a changed flow replace the one it ran
// (issue 11): the same rule as the journal's adoption.
TEST(flow_machine, a_journal_may_hold_resources_until_the_machine_reboots) {
  journal j;
  j.machine_boot = "boot-1";
  EXPECT_FALSE(journal_may_hold(j, "boot-1")) << "nothing started";
  j.in_progress = 0;
  j.in_progress_up = true;
  EXPECT_TRUE(journal_may_hold(j, "boot-1")) << "a start cut short counts";
  j.in_progress = -1;
  j.up_count = 2;
  EXPECT_TRUE(journal_may_hold(j, "boot-1"));
  EXPECT_FALSE(journal_may_hold(j, "boot-2")) << "a reboot let go of everything";
  j.machine_boot.clear();
  EXPECT_TRUE(journal_may_hold(j, "boot-2")) << "no boot written: adopted, so held";
}

TEST(flow_machine, a_reboot_of_the_machine_starts_from_an_empty_journal) {
  machine m(three_nodes(), was_up(5), "boot-2");
  EXPECT_EQ(m.s.j.up_count, 0u);
  EXPECT_EQ(m.s.j.machine_boot, "boot-2");
  EXPECT_TRUE(m.io(0, io_op::check)) << "nothing to keep alive after a reboot";
}

TEST(flow_machine, an_address_found_on_the_node_joins_the_flow_to_bring_down) {
  machine m;
  m.answer(0, io_op::check, presence::present);
  EXPECT_EQ(m.s.j.up_count, 1u);
  EXPECT_TRUE(m.said().holding);
  m.feed(desired_received{down(3)});
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 0u);
  EXPECT_FALSE(m.pending_step()->up);
}

// ---- upkeep: the lease, verification ----

TEST(flow_machine, refreshes_the_lease_every_eighth_of_a_lease_while_held) {
  auto m = serving();
  ASSERT_EQ(m.p.refresh_every(m.p.nodes[0]), 125ms);
  int refreshes = 0;
  for (int i = 0; i < 8; ++i) {
    m.out.clear();
    m.advance(125ms);
    if (auto r = m.io(0, io_op::refresh)) {
      ++refreshes;
      m.answer(0, io_op::refresh, presence::present);
    }
    m.feed(desired_received{up(1)});
  }
  EXPECT_EQ(refreshes, 8);
}

// Found by the executor simulation (seed 20260301, step 2832): a VIP run that outlasts the
// address's next check left next_deadline in the past while upkeep skipped it: the shell spun.
TEST(flow_machine, asks_no_wake_up_for_the_resource_a_run_is_changing) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  ASSERT_TRUE(m.s.step && m.s.step->node == 0u);
  m.now += 1500ms;  // the add is slow; the address's periodic check came due meanwhile
  m.out.clear();
  m.feed(tick{});
  EXPECT_TRUE(m.all<io_request>().empty()) << "nothing is verified while its run is out";
  EXPECT_GT(next_deadline(m.p, m.s), m.now) << "a deadline in the past that a tick does not move spins";
  m.finish_step();
  // The add may have set the lease as early as the step began, 1.5 s ago: refreshed at once.
  EXPECT_TRUE(m.io(0, io_op::refresh)) << "its lease is kept once it is up";
}

TEST(flow_machine, an_address_removed_underneath_is_not_reported_done_and_is_added_again) {
  auto m = serving();
  m.advance(250ms);
  ASSERT_TRUE(m.s.res[0].io_pending);
  m.out.clear();
  m.answer(0, io_op::refresh, presence::absent);  // someone ran "ip addr del"
  EXPECT_TRUE(m.has_event("resource_missing"));
  EXPECT_FALSE(m.has_event("fenced")) << "within the lease: removed, not expired";
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 0u);
  EXPECT_TRUE(m.pending_step()->up);
  EXPECT_EQ(m.said().ph, phase::running) << "not done while the address is missing";
  m.finish_step();
  EXPECT_EQ(m.said().ph, phase::done);
}

TEST(flow_machine, an_address_gone_after_half_a_lease_without_refresh_fences_the_group) {
  auto m = serving();
  // The executor stalled: the next refresh result comes 900 ms after the last good one.
  m.now += 900ms;
  m.feed(desired_received{up(1)});
  ASSERT_TRUE(m.s.res[0].io_pending);
  m.out.clear();
  m.answer(0, io_op::refresh, presence::absent);
  EXPECT_TRUE(m.has_event("fenced"));
  EXPECT_EQ(m.s.j.fenced_epoch, 1u);
  EXPECT_FALSE(m.pending_step() && m.pending_step()->up) << "never put back under a stale epoch";
}

TEST(flow_machine, a_verification_that_fails_is_unknown_and_counted) {
  machine m;
  m.answer(0, io_op::check, presence::unknown, "netlink: no reply within 1000 ms");
  EXPECT_EQ(m.s.res[0].seen, presence::unknown);
  EXPECT_EQ(m.s.res[0].errors, 1u);
  EXPECT_EQ(m.s.res[0].error, "netlink: no reply within 1000 ms");
  EXPECT_FALSE(m.said().holding) << "not in the flow: an unknown outside it holds nothing";
}

// ---- the fence: fail closed ----

TEST(flow_machine, losing_the_heartbeat_releases_the_address_first_then_the_rest_bottom_up) {
  auto m = serving();
  m.out.clear();
  m.feed(heartbeat_lost{"hasys-heartbeat closed its connection"});
  EXPECT_TRUE(m.has_event("fenced"));
  EXPECT_TRUE(m.io(0, io_op::release)) << "the address goes at once";
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->node, 2u);
  EXPECT_EQ(m.said().ph, phase::releasing);
  EXPECT_TRUE(m.said().holding);
  m.finish_step();
  ASSERT_TRUE(m.s.step);
  EXPECT_EQ(m.s.step->node, 1u);
  m.finish_step();
  EXPECT_FALSE(m.s.step) << "the VIP's own removal is the release";
  EXPECT_EQ(m.said().ph, phase::releasing) << "not released before the address is verified absent";
  m.answer(0, io_op::release, presence::absent);
  EXPECT_EQ(m.said().ph, phase::released);
  EXPECT_FALSE(m.said().holding);
  EXPECT_EQ(m.s.j.up_count, 0u);
}

TEST(flow_machine, a_removal_that_fails_never_reports_released_raises_a_critical_event_and_retries) {
  auto m = serving();
  m.feed(heartbeat_lost{"closed"});
  m.run_all();
  m.out.clear();
  m.answer(0, io_op::release, presence::unknown, "RTM_DELADDR: Operation not permitted");
  EXPECT_EQ(m.said().ph, phase::releasing);
  EXPECT_TRUE(m.said().holding);
  EXPECT_TRUE(m.has_event("release_failed"));
  EXPECT_NE(m.said().detail.find("Operation not permitted"), std::string::npos) << m.said().detail;
  m.out.clear();
  m.advance(300ms);
  EXPECT_TRUE(m.io(0, io_op::release)) << "tried again";
  m.answer(0, io_op::release, presence::present);
  EXPECT_EQ(m.said().ph, phase::releasing);
  m.advance(300ms);
  m.answer(0, io_op::release, presence::absent);  // the lease ran out, or the removal worked
  EXPECT_EQ(m.said().ph, phase::released);
  EXPECT_FALSE(m.said().holding);
}

TEST(flow_machine, a_fence_stops_an_up_run_that_is_out_but_lets_a_stop_finish) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.finish_step();  // vip
  ASSERT_TRUE(m.s.step && m.s.step->node == 1u);
  m.out.clear();
  m.feed(heartbeat_lost{"closed"});
  EXPECT_EQ(m.all<cancel_step>().size(), 1u);
  m.finish_step(false, "cancelled");
  ASSERT_TRUE(m.s.step);
  EXPECT_EQ(m.s.step->node, 1u);
  EXPECT_FALSE(m.s.step->up) << "what the cut start may hold is stopped";

  machine n;
  n.answer(0, io_op::check, presence::absent);
  n.feed(desired_received{up(1)});
  n.run_all();
  n.feed(desired_received{down(1)});
  ASSERT_TRUE(n.s.step && !n.s.step->up);
  n.out.clear();
  n.feed(heartbeat_lost{"closed"});
  EXPECT_TRUE(n.all<cancel_step>().empty());
}

// Found by the executor simulation (seeds 20260301 and 20260307): an address being added may
// land any moment (a cancel can come after the add went through), so it is held from the start.
TEST(flow_machine, an_address_being_added_counts_as_held) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  EXPECT_FALSE(m.said().holding);
  m.feed(desired_received{up(1)});
  ASSERT_TRUE(m.s.step && m.s.step->node == 0u && m.s.step->up);
  EXPECT_TRUE(m.said().holding);
  m.out.clear();
  m.feed(heartbeat_lost{"closed"});
  EXPECT_EQ(m.all<cancel_step>().size(), 1u) << "a first run is let go of too: it may have added it";
  EXPECT_TRUE(m.said().holding);
}

// Found by the executor simulation (seed 20260302, step 66420): the fence took an address whose
// add it had cancelled (state unknown) out of its span and said "released" with the release out.
TEST(flow_machine, a_fence_that_cuts_an_add_short_is_released_only_once_the_address_is_gone) {
  auto m = serving();
  m.advance(250ms);
  m.answer(0, io_op::refresh, presence::absent);  // removed underneath: added again
  ASSERT_TRUE(m.s.step && m.s.step->node == 0u && m.s.step->up);
  m.feed(heartbeat_lost{"closed"});
  m.finish_step(false, "cancelled");  // the add may have gone through
  ASSERT_TRUE(m.io(0, io_op::release));
  m.run_all();  // app2, app1
  EXPECT_EQ(m.said().ph, phase::releasing) << "the release is still out";
  EXPECT_TRUE(m.said().holding);
  EXPECT_EQ(m.s.j.up_count, 1u) << "kept in the journal until verified absent: a restart must know";
  m.answer(0, io_op::release, presence::absent);
  EXPECT_EQ(m.said().ph, phase::released);
  EXPECT_FALSE(m.said().holding);
  EXPECT_EQ(m.s.j.up_count, 0u);
}

TEST(flow_machine, a_restart_during_a_release_that_failed_goes_on_with_the_fence) {
  auto m = serving();
  m.feed(heartbeat_lost{"closed"});
  m.run_all();
  m.answer(0, io_op::release, presence::present, "RTM_DELADDR: Operation not permitted");
  ASSERT_EQ(m.said().ph, phase::releasing);
  machine again(three_nodes(), m.s.j);
  EXPECT_EQ(again.said().ph, phase::releasing) << "the fence goes on";
  EXPECT_TRUE(again.said().holding) << "before its first look, too";
  EXPECT_TRUE(again.io(0, io_op::check));
}

TEST(flow_machine, an_address_above_a_node_the_fence_stops_stays_held_until_verified_absent) {
  params p;
  p.group = "g";
  p.nodes = {{"app0", resource_kind::application, true, false, {}, false},
             {"vip", resource_kind::vip, true, true, 1s, true},
             {"app2", resource_kind::application, true, false, {}, false}};
  machine m(p);
  m.answer(1, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.run_all();
  m.advance(250ms);
  m.answer(1, io_op::refresh, presence::absent);  // removed underneath: added again
  ASSERT_TRUE(m.s.step && m.s.step->node == 1u && m.s.step->up);
  m.feed(heartbeat_lost{"closed"});
  m.finish_step(false, "cancelled");
  ASSERT_TRUE(m.io(1, io_op::release));
  m.run_all();  // app2, then app0 below the address: the span goes past it
  EXPECT_EQ(m.s.j.up_count, 0u);
  EXPECT_EQ(m.said().ph, phase::releasing) << "the release is still out";
  EXPECT_TRUE(m.said().holding);
  m.answer(1, io_op::release, presence::absent);
  EXPECT_EQ(m.said().ph, phase::released);
  EXPECT_FALSE(m.said().holding);
}

TEST(flow_machine, a_fenced_epoch_is_never_brought_up_again_but_a_new_one_is) {
  auto m = serving();
  m.feed(heartbeat_lost{"closed"});
  m.run_all();
  m.answer(0, io_op::release, presence::absent);
  m.out.clear();
  m.feed(desired_received{up(1)});
  EXPECT_FALSE(m.pending_step());
  EXPECT_EQ(m.said().ph, phase::released);
  m.feed(desired_received{up(2)});
  ASSERT_TRUE(m.pending_step());
  EXPECT_EQ(m.pending_step()->epoch, 2u);
}

TEST(flow_machine, a_release_cut_short_by_a_restart_goes_on_after_it) {
  auto j = was_up(4, 3);
  j.fenced_epoch = 4;
  machine m(three_nodes(), j);
  EXPECT_TRUE(m.io(0, io_op::check)) << "a fenced epoch's address is not kept alive";
  m.answer(0, io_op::check, presence::present);
  EXPECT_EQ(m.said().ph, phase::releasing);
  EXPECT_TRUE(m.io(0, io_op::release));
}

TEST(flow_machine, the_watchdog_fences_when_the_heartbeat_falls_silent) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{desired{1, true, false, 0, 300ms}});
  m.run_all();
  m.out.clear();
  m.advance(250ms);
  if (m.io(0, io_op::refresh)) m.answer(0, io_op::refresh, presence::present);
  EXPECT_FALSE(m.has_event("fenced"));
  m.advance(100ms);
  EXPECT_TRUE(m.has_event("fenced"));
  EXPECT_NE(m.said().detail.find("no word from hasys-heartbeat"), std::string::npos);
}

TEST(flow_machine, the_watchdog_counts_from_the_start_until_the_heartbeat_speaks) {
  machine m(three_nodes(), was_up(5));
  m.answer(0, io_op::refresh, presence::present);
  m.advance(2900ms);
  for (int i = 0; i < 20 && m.s.res[0].io_pending; ++i) m.answer(0, io_op::refresh, presence::present);
  EXPECT_FALSE(m.has_event("fenced"));
  m.advance(200ms);
  EXPECT_TRUE(m.has_event("fenced")) << "journal watchdog 3 s";
}

TEST(flow_machine, a_down_run_whose_removal_fails_never_reports_done) {
  auto p = three_nodes();
  p.nodes[0].stop_on_error = false;
  machine m(p);
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.run_all();
  m.feed(desired_received{down(1)});
  m.finish_step();
  m.finish_step();
  m.finish_step(false, "RTM_DELADDR: Operation not permitted");  // vip, no stop on error
  EXPECT_NE(m.said().ph, phase::done);
  EXPECT_TRUE(m.said().holding);
  m.answer(0, io_op::check, presence::absent);
  EXPECT_EQ(m.said().ph, phase::done);
  EXPECT_FALSE(m.said().holding);
}

// ---- announces ----

TEST(flow_machine, the_holder_announces_again_once_per_request_from_the_heartbeat) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1, 7)});
  m.run_all();
  m.out.clear();
  m.feed(desired_received{up(1, 7)});
  EXPECT_FALSE(m.io(0, io_op::announce));
  m.feed(desired_received{up(1, 8)});
  EXPECT_TRUE(m.io(0, io_op::announce));
  m.out.clear();
  m.feed(desired_received{up(1, 8)});
  EXPECT_FALSE(m.io(0, io_op::announce));
}

TEST(flow_machine, announces_periodically_only_when_configured) {
  auto p = three_nodes();
  machine off(p);
  off.answer(0, io_op::check, presence::absent);
  off.feed(desired_received{up(1)});
  off.run_all();
  off.out.clear();
  off.advance(5s);
  EXPECT_FALSE(off.io(0, io_op::announce));

  p.announce_every = 2s;
  machine on(p);
  on.answer(0, io_op::check, presence::absent);
  on.feed(desired_received{desired{1, true, false, 0, 60s}});
  on.run_all();
  on.out.clear();
  for (int i = 0; i < 20; ++i) {
    on.advance(250ms);
    if (on.s.res[0].io_pending) on.answer(0, io_op::refresh, presence::present);
  }
  std::size_t announces = 0;
  for (const auto& r : on.all<io_request>()) announces += r.op == io_op::announce;
  EXPECT_EQ(announces, 2u) << "every 2 s over 5 s";
}

// ---- orderly stop ----

TEST(flow_machine, an_orderly_stop_waits_for_the_step_out_and_keeps_what_is_up) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.finish_step();
  m.out.clear();
  m.feed(stop_requested{});
  EXPECT_TRUE(m.all<exit_ready>().empty());
  m.finish_step();
  EXPECT_EQ(m.all<exit_ready>().size(), 1u);
  EXPECT_FALSE(m.pending_step()) << "app2 is not started: nothing new after the stop";
  EXPECT_TRUE(m.all<io_request>().empty()) << "nothing released";
}

TEST(flow_machine, an_orderly_stop_finishes_a_release_first) {
  auto m = serving();
  m.feed(heartbeat_lost{"closed"});
  m.feed(stop_requested{});
  m.run_all();
  EXPECT_TRUE(m.all<exit_ready>().empty());
  m.answer(0, io_op::release, presence::absent);
  EXPECT_EQ(m.all<exit_ready>().size(), 1u);
}

TEST(flow_machine, a_second_signal_exits_at_once) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.feed(stop_requested{});
  m.feed(stop_requested{true});
  EXPECT_EQ(m.all<exit_ready>().size(), 1u);
}

// ---- group programs ----

TEST(flow_machine, the_common_start_runs_before_the_first_up_run_once_per_boot) {
  auto p = three_nodes();
  p.common_start = true;
  machine m(p);
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  ASSERT_EQ(m.all<run_program>().size(), 1u);
  EXPECT_FALSE(m.pending_step());
  m.feed(program_done{program::common_start, true, ""});
  EXPECT_TRUE(m.pending_step());
  EXPECT_EQ(m.s.j.common_start_boot, "boot-1");
  machine again(p, m.s.j);
  again.answer(0, io_op::check, presence::absent);
  again.feed(desired_received{up(2)});
  EXPECT_TRUE(again.all<run_program>().empty()) << "not again in the same machine boot";
}

TEST(flow_machine, the_failover_condition_ends_an_orderly_deactivation_and_its_failure_fails_it) {
  auto p = three_nodes();
  p.failover_condition = true;
  machine m(p);
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{up(1)});
  m.run_all();
  m.feed(desired_received{desired{1, false, true, 0, 3s}});
  m.run_all();
  ASSERT_EQ(m.all<run_program>().size(), 1u);
  EXPECT_EQ(m.all<run_program>().back().which, program::failover_condition);
  EXPECT_NE(m.said().ph, phase::done);
  m.feed(program_done{program::failover_condition, false, "exit 1"});
  EXPECT_EQ(m.said().ph, phase::failed);
  EXPECT_NE(m.said().detail.find("failover condition"), std::string::npos);
}

// ---- issue 8: the watchdog judges the heartbeat's silence on its own send clock ----

TEST(flow_machine, a_desired_state_read_late_because_this_process_stalled_is_not_silence) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  auto d = desired{1, true, false, 0, 25ms, m.now};
  m.feed(desired_received{d});
  m.run_all();
  // The executor was not scheduled for 40 ms; the heartbeat sent on time meanwhile, and those
  // messages are read (drained) before the watchdog is judged.
  const auto sent = m.now + 10ms;
  m.now += 40ms;
  d.sent = sent + 20ms;
  m.feed(desired_received{d});
  m.feed(tick{});
  EXPECT_FALSE(m.has_event("fenced")) << "the heartbeat spoke 10 ms ago by its own clock";
}

TEST(flow_machine, a_desired_state_sent_long_ago_does_not_renew_the_watchdog) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  auto d = desired{1, true, false, 0, 25ms, m.now};
  m.feed(desired_received{d});
  m.run_all();
  // The heartbeat froze right after sending; its last message arrives 30 ms later.
  m.now += 30ms;
  m.feed(desired_received{d});  // still stamped with its send time
  m.feed(tick{});
  m.advance(5ms);  // read 5 ms after the watchdog was due: it looks once more first (below)
  EXPECT_TRUE(m.has_event("fenced")) << "no word sent for 30 ms > 25 ms";
}

// ---- issue 18: the watchdog judges only time this process was there to look ----

TEST(flow_machine, a_watchdog_found_expired_late_looks_once_more_before_it_lets_go) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{desired{1, true, false, 0, 28ms, m.now}});
  m.run_all();
  m.out.clear();
  // The whole machine stalled: this process wakes 12 ms after its watchdog was due, and the
  // heartbeat has not run yet either.
  m.now += 40ms;
  m.feed(tick{});
  EXPECT_FALSE(m.has_event("fenced")) << "judged the heartbeat on time it could not look";
  ASSERT_TRUE(m.s.watchdog_relook);
  EXPECT_GE(*m.s.watchdog_relook - m.now, 2ms) << "the heartbeat's thread may resume a moment later";
  EXPECT_LE(*m.s.watchdog_relook - m.now, 3ms) << "at most 1 ms beyond the release budget (2 ms)";
  EXPECT_EQ(next_deadline(m.p, m.s), *m.s.watchdog_relook);
  m.advance(5ms);  // still silent when it looks again: the heartbeat is gone (F9)
  EXPECT_TRUE(m.has_event("fenced"));
}

TEST(flow_machine, a_word_from_the_heartbeat_after_a_stall_keeps_the_resources) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{desired{1, true, false, 0, 28ms, m.now}});
  m.run_all();
  m.out.clear();
  m.now += 40ms;
  m.feed(tick{});  // late: looks again shortly
  m.now += 1ms;    // the heartbeat runs again and speaks
  m.feed(desired_received{desired{1, true, false, 0, 28ms, m.now}});
  m.advance(20ms);
  EXPECT_FALSE(m.has_event("fenced"));
  EXPECT_FALSE(m.s.watchdog_relook);
}

TEST(flow_machine, a_watchdog_looked_at_on_time_lets_go_at_once) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{desired{1, true, false, 0, 28ms, m.now}});
  m.run_all();
  m.out.clear();
  const auto due = m.now + 28ms;
  m.now = due + 500us;  // within the tolerance of a timer's wake-up
  m.feed(tick{});
  EXPECT_TRUE(m.has_event("fenced")) << "no relook when this process looked on time";
}

TEST(flow_machine, a_send_stamp_from_the_future_counts_as_now) {
  machine m;
  m.answer(0, io_op::check, presence::absent);
  m.feed(desired_received{desired{1, true, false, 0, 25ms, m.now + 5s}});
  EXPECT_LE(m.s.want_at, m.now);
}
