// Reading the fault rules of a test run (see faults.hpp).
#include "faults.hpp"

#include <fstream>
#include <sstream>

namespace hasys::executor {

fault fault_plan::lookup(std::string_view operation, std::string_view node) const {
  fault general, specific;
  bool have_specific = false;
  if (file_.empty()) return general;
  std::ifstream in(file_);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string target, verb;
    if (!(words >> target >> verb) || target.front() == '#') continue;
    const auto at = target.find('@');
    const std::string op = target.substr(0, at);
    if (op != operation) continue;
    const bool named = at != std::string::npos;
    if (named && target.substr(at + 1) != node) continue;
    fault f;
    if (verb == "delay") {
      long ms = 0;
      words >> ms;
      f.delay = std::chrono::milliseconds(ms);
    } else if (verb == "fail") {
      std::string rest;
      std::getline(words, rest);
      const auto start = rest.find_first_not_of(' ');
      f.fail = "injected fault: " + (start == std::string::npos ? std::string("failed") : rest.substr(start));
    } else {
      continue;
    }
    if (named) {
      specific = f;
      have_specific = true;
    } else {
      general = f;
    }
  }
  return have_specific ? specific : general;
}

}  // namespace hasys::executor
