// Deterministic simulation of a pair's start (R3, F8; issue 18): two role machines booting at
// random offsets, with the first packets of each direction and link lost until the network has
// settled (neighbour resolution after the links came up), random loss, and each gateway
// answering its probes only from a random moment on — the flagged node must win every start in
// which it can serve.
#pragma once

#include <hasys/cluster/role_machine.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace hasys::sim {

struct start_options {
  std::uint64_t seed = 1;
  cluster::duration period = std::chrono::milliseconds(10);
  int count = 3;
  cluster::duration start_window = std::chrono::seconds(5);
  // Boots, each direction's first packets and each gateway's first answer come within this of
  // the start (zero: a third of the start window, so the nodes start within it of each other).
  cluster::duration settle_within{};
  bool heartbeat_net = true;
  // The flagged node (node-a) can serve: its gateway answers within a third of the start window.
  // False: its gateway never answers (F13) and node-b must take the role.
  bool priority_gateway = true;
  bool priority_healthy = true;  // false: node-a's monitor fails (F11): node-b must take the role
};

struct start_report {
  std::string winner;            // the node Active at the end ("" for none)
  bool loser_activated = false;  // the node that should not serve ran a flow up
  std::uint64_t steps = 0;
  cluster::duration decided_after{};     // from the later boot to the winner's activation
  std::optional<std::string> violation;  // what went wrong, with the seed and a trace
};

start_report run_start_simulation(const start_options& o);

}  // namespace hasys::sim
