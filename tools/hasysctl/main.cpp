// hasysctl: the node's command-line tool. Dispatches the first word to a command group.
#include "commands.hpp"
#include "node_session.hpp"

#include <array>
#include <exception>
#include <iostream>
#include <vector>

namespace {

namespace ctl = hasys::ctl;

constexpr std::array<ctl::command, 16> groups{{
    {"status", "[--json] [--group G]", "both nodes of each group: roles, epochs, links, gateway, flow",
     ctl::status_command},
    {"watch", "[--group G] [--for T]", "print every status the heartbeat daemon publishes (JSON lines)",
     ctl::watch_command},
    {"wait", "[--role R] [--peer-role R] [--peer-alive yes|no] [--mode M] [--heartbeat-link up|down]"
             " [--public-link up|down] [--flow P] [--holding yes|no] [--healthy yes|no]"
             " [--peer-healthy yes|no] --group G [--timeout T]",
     "wait until the group's status meets every condition (exit 1 on timeout)", ctl::wait_command},
    {"events", "--follow [--for T] | --last N | --since T [--json] [--group G]",
     "print the node's events as they happen, or those it keeps (its EVENTS stream)",
     ctl::events_command},
    {"failover", "[--group G]", "manual failover: hand the Active role over to the peer (R4)",
     ctl::failover_command},
    {"partition", "active|standby [--group G]",
     "partition resolution: force this node Active or Standby (R5)", ctl::partition_command},
    {"force", "active|standby [--group G]",
     "forced failover: change this node's role without checking conditions (R6)", ctl::force_command},
    {"mode", "auto|manual [--group G]", "failover mode (R2)", ctl::mode_command},
    {"maintenance", "stop [--group G]", "leave maintenance: back to AUTO", ctl::maintenance_command},
    {"cmd", "VERB [--group G]", "send a raw command verb to the heartbeat daemon", ctl::cmd_command},
    {"ready", "[--group G] [--json]",
     "check now that this node could take the service over (scripts, devices, the virtual IP); exit 1 if not",
     ctl::ready_command},
    {"drbd", "reconnect [--group G]", "connect the group's DRBD resources again through the executor (D11)",
     ctl::drbd_command},
    {"common", "start|stop [--group G]",
     "run the group's common start / stop program through the executor (W8)", ctl::common_command},
    {"menu", "", "the seed's numbered menu, read line by line from stdin (also: hasys)",
     ctl::menu_command},
    {"config", "<check|import> ...", "check node configuration files, import the seed's settings",
     ctl::config_command},
    {"key", "generate FILE", "make a group key file for heartbeat authentication",
     ctl::key_command},
}};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  ctl::take_global_options(args);  // before the command: the node configuration to use
  try {
    const int rc = ctl::dispatch(groups, "hasysctl", args);
    if (args.empty() || args[0] == "help" || args[0] == "-h" || args[0] == "--help")
      (rc == 0 ? std::cout : std::cerr)
          << "\noptions (before the command):\n  --config FILE   the node configuration "
             "(default $HASYS_CONFIG, else /etc/hasys/node.toml)\n";
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "hasysctl: " << e.what() << '\n';
    return ctl::exit_failure;
  }
}
