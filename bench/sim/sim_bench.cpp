// Measures how many simulation steps per second the role protocol simulation runs (SPEC B3).
// Usage: hasys-bench-sim [steps-per-run] [runs]
#include "pair_sim.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const std::uint64_t steps = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 5'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  double best = 0;
  std::uint64_t total_steps = 0;
  for (int r = 0; r < runs; ++r) {
    hasys::sim::sim_options o;
    o.seed = 1000 + r;
    o.steps = steps;
    auto t0 = std::chrono::steady_clock::now();
    auto rep = hasys::sim::run_simulation(o);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep.violation) {
      std::printf("violation: %s\n", rep.violation->c_str());
      return 1;
    }
    double rate = rep.steps / s;
    best = rate > best ? rate : best;
    total_steps += rep.steps;
    std::printf("run %d: %llu steps in %.3f s = %.2f M steps/s (%.0f simulated s, %llu activations)\n",
                r, static_cast<unsigned long long>(rep.steps), s, rate / 1e6, rep.simulated_seconds,
                static_cast<unsigned long long>(rep.activations));
  }
  std::printf("best: %.2f M steps/s over %d runs\n", best / 1e6, runs);
}
