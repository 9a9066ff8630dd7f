// Reads the "export NAME=value" lines of the seed's hasys_variable_opt.sh, as the shell would.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::config {

struct seed_assignment {
  std::string name;
  std::string value;
  std::size_t line = 0;
  bool expands = false;  // holds $ or ` that the shell would expand
};

// An assignment the import cannot read (an unclosed quote, text after the value).
struct seed_broken_line {
  std::size_t line = 0;
  std::string name;
  std::string message;
};

struct seed_lines {
  std::vector<seed_assignment> assignments;  // in file order; later ones win
  std::vector<seed_broken_line> broken;
  std::vector<std::pair<std::size_t, std::string>> skipped;  // line, text: not an assignment
};

// Blank lines, comments, the manual's "....." elisions and "..... (1)" call-outs are skipped;
// spaces around '=' and quotes are accepted.
seed_lines read_seed_lines(std::string_view sh_text);

}  // namespace hasys::config
