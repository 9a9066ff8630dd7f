// The client's view while a fault happens: hasys-labprobe in the gateway namespace pings a virtual
// IP every millisecond (and connects to its name service) for a bounded time, then reports the
// longest gap without an answer.
#pragma once

#include "lab.hpp"

#include <chrono>
#include <string>

namespace hasys::lab {

class client_probe {
 public:
  client_probe(const lab& l, std::chrono::seconds run_for,
               const std::string& address = "198.51.100.100");
  // The longest ICMP gap in ms once the probe has finished; -1 when it printed nothing usable.
  double longest_gap_ms();
  const std::string& transcript() const { return reader_.transcript(); }

 private:
  line_reader reader_;
  std::chrono::seconds run_for_;
};

}  // namespace hasys::lab
