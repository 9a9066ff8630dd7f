// Deterministic simulation (SPEC B3) of two role machines over a simulated clock, two links and a
// gateway, under a seeded random schedule of faults and operator commands, with invariants.
#pragma once

#include <hasys/cluster/role_machine.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace hasys::sim {

struct sim_options {
  std::uint64_t seed = 1;
  std::uint64_t steps = 1'000'000;
  cluster::duration period = std::chrono::milliseconds(100);
  int count = 3;
  bool heartbeat_net = true;  // false: the public network is the only link (F13)
  double max_loss = 0.2;      // per link, when a loss fault is active
  bool commands = true;       // random operator commands
  cluster::duration start_window = std::chrono::seconds(1);  // R3
};

struct sim_report {
  std::uint64_t steps = 0;
  double simulated_seconds = 0;
  std::uint64_t activations = 0;
  std::uint64_t faults = 0;
  std::uint64_t conflicts_resolved = 0;  // both-Active periods that ended within the bound
  std::optional<std::string> violation;  // first invariant broken, with time and trace
};

sim_report run_simulation(const sim_options& o);

}  // namespace hasys::sim
