// The VIP's duplicate-address guard (W2): what a background probe may record, and for how long.
#include "vip_resource.hpp"

#include <gtest/gtest.h>

using hasys::executor::duplicate_guard;
using namespace std::chrono_literals;

namespace {
const auto t0 = duplicate_guard::clock::time_point{} + 1000s;
}

TEST(duplicate_guard, a_probe_that_ran_and_found_nobody_is_clean_for_a_while) {
  duplicate_guard g;
  g.record(g.generation, true, true, false, t0);
  EXPECT_TRUE(g.fresh(t0 + 11s));
  EXPECT_FALSE(g.fresh(t0 + 13s)) << "too old to skip the probe at takeover";
}

TEST(duplicate_guard, a_probe_that_could_not_run_is_unknown_never_clean) {
  duplicate_guard g;
  g.record(g.generation, true, true, false, t0);
  g.record(g.generation, true, false, false, t0 + 5s);  // the next one fails
  EXPECT_FALSE(g.fresh(t0 + 5s)) << "the earlier clean result does not stand in for a failed one";
}

TEST(duplicate_guard, a_stranger_is_never_clean) {
  duplicate_guard g;
  g.record(g.generation, true, true, true, t0);
  EXPECT_FALSE(g.fresh(t0));
}

TEST(duplicate_guard, taking_the_address_discards_what_was_seen_and_what_is_in_flight) {
  duplicate_guard g;
  g.record(g.generation, true, true, false, t0);
  const auto started = g.generation;  // a probe starts...
  g.taken();                          // ...the node adds the address meanwhile
  EXPECT_FALSE(g.fresh(t0));
  g.record(started, true, true, false, t0 + 1s);
  EXPECT_FALSE(g.fresh(t0 + 1s)) << "a probe begun before the address was taken proves nothing";
  g.record(g.generation, false, true, false, t0 + 2s);
  EXPECT_FALSE(g.fresh(t0 + 2s)) << "nor one that ends while this node holds it";
}
