// Command tables, usage text, option parsing and file reading shared by the hasysctl commands.
#include "cli.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace hasys::ctl {

void print_usage(std::ostream& os, std::string_view prefix, std::span<const command> table) {
  os << "usage: " << prefix << " <command> [arguments]\n\ncommands:\n";
  for (const auto& c : table)
    os << "  " << prefix << ' ' << c.name << ' ' << c.synopsis << "\n      " << c.summary << '\n';
}

int usage_error(std::string_view prefix, std::string_view message) {
  std::cerr << prefix << ": " << message << "\n(run \"" << prefix << " --help\" for usage)\n";
  return exit_usage;
}

int dispatch(std::span<const command> table, std::string_view prefix, arguments args) {
  if (args.empty()) {
    print_usage(std::cerr, prefix, table);
    return exit_usage;
  }
  if (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
    print_usage(std::cout, prefix, table);
    return exit_ok;
  }
  for (const auto& c : table)
    if (c.name == args[0]) return c.run(args.subspan(1));
  return usage_error(prefix, "unknown command \"" + std::string(args[0]) + "\"");
}

std::optional<std::string_view> parsed_options::value(std::string_view name) const {
  for (const auto& [n, v] : given)
    if (n == name) return v;
  return std::nullopt;
}

bool parsed_options::has(std::string_view name) const { return value(name).has_value(); }

parsed_options parse_options(arguments args, std::span<const option_spec> specs,
                             std::string& error) {
  parsed_options out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    const option_spec* spec = nullptr;
    for (const auto& s : specs)
      if (a == s.name || (!s.alias.empty() && a == s.alias)) spec = &s;
    if (!spec) {
      error = "unknown option \"" + std::string(a) + "\"";
      return out;
    }
    if (!spec->takes_value) {
      out.given.emplace_back(spec->name, "");
    } else if (i + 1 < args.size()) {
      out.given.emplace_back(spec->name, args[++i]);
    } else {
      error = "option " + std::string(spec->name) + " needs a value";
      return out;
    }
  }
  return out;
}

std::optional<std::string> read_text_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    error = "\"" + path + "\" cannot be read: " + std::strerror(errno);
    return std::nullopt;
  }
  return text.str();
}

}  // namespace hasys::ctl
