// hasys: the seed's command for the node menu; `hasys [--config FILE]` is `hasysctl menu`.
#include <exception>
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "node_session.hpp"

int main(int argc, char** argv) {
  namespace ctl = hasys::ctl;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  ctl::take_global_options(args);
  if (!args.empty() && (args[0] == "help" || args[0] == "-h" || args[0] == "--help")) {
    std::cout << "usage: hasys [--config FILE]\n"
                 "    the node's numbered menu, answers read line by line from stdin (same as "
                 "hasysctl menu)\n\n"
                 "options:\n"
                 "  --config FILE   the node configuration (default $HASYS_CONFIG, else "
                 "/etc/hasys/node.toml)\n";
    return ctl::exit_ok;
  }
  try {
    return ctl::menu_command(args);
  } catch (const std::exception& e) {
    std::cerr << "hasys: " << e.what() << '\n';
    return ctl::exit_failure;
  }
}
