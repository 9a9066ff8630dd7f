// What every hasysctl command shares: the command table, exit codes, usage and option parsing.
#pragma once

#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::ctl {

enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

using arguments = std::span<const std::string_view>;

// One word of the command line and what it runs with the words after it.
struct command {
  std::string_view name;
  std::string_view synopsis;  // the arguments, for usage: "FILE..."
  std::string_view summary;   // one line: what it does
  int (*run)(arguments args);
};

// Runs the command named by args[0]. prefix is the words before it ("hasysctl config"), for
// messages. No word, "help", "-h" or "--help" print the usage.
int dispatch(std::span<const command> table, std::string_view prefix, arguments args);
void print_usage(std::ostream& os, std::string_view prefix, std::span<const command> table);
// Prints "prefix: message" and a hint to stderr; returns exit_usage.
int usage_error(std::string_view prefix, std::string_view message);

// The options a command accepts: "--key" with a value, "--force" without; short aliases allowed.
struct option_spec {
  std::string_view name;   // "--key"
  std::string_view alias;  // "-o" or empty
  bool takes_value = false;
};

struct parsed_options {
  std::vector<std::string_view> positional;
  std::vector<std::pair<std::string_view, std::string_view>> given;  // name, value ("" for flags)
  std::optional<std::string_view> value(std::string_view name) const;
  bool has(std::string_view name) const;
};

// Splits args into options and positional words; an unknown option or a missing value is an
// error (its text returned in error).
parsed_options parse_options(arguments args, std::span<const option_spec> specs,
                             std::string& error);

// The whole content of a file; nullopt with error set when it cannot be read.
std::optional<std::string> read_text_file(const std::string& path, std::string& error);

}  // namespace hasys::ctl
