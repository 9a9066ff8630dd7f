// hasysctl failover / partition / force / mode / maintenance / cmd: operator commands (R2-R6)
// sent to the node's heartbeat daemon over the local bus; common: the executor's common
// start/stop program (W8).
#include "commands.hpp"
#include "node_session.hpp"

#include <array>
#include <iostream>

namespace asio = boost::asio;

namespace hasys::ctl {

namespace {

using namespace std::chrono_literals;

// What one request addresses: hasys.<group>.<node>.<tail>, answered by daemon; a common
// program's request waits for the program (common_program_timeout).
struct request_kind {
  std::string tail;
  std::string_view daemon;
  bool program = false;
};

// Sends one request to the groups named (or all) and prints each answer; 0 when all accepted.
int send_request(std::string_view prefix, const request_kind& kind, arguments rest) {
  static constexpr std::array<option_spec, 2> specs{{{"--group", "-g", true}, {"--json", "", false}}};
  std::string error;
  auto opts = parse_options(rest, specs, error);
  if (!error.empty() || !opts.positional.empty())
    return usage_error(prefix, error.empty() ? "unexpected \"" + std::string(opts.positional[0]) + "\"" : error);
  const auto only = opts.value("--group");
  const bool json = opts.has("--json");
  const bool program = kind.program;
  return with_node_session(
      [&](node_session& s) -> asio::awaitable<int> {
        int rc = exit_ok;
        auto names = s.groups(only);
        if (names.empty()) {
          std::cerr << prefix << ": no group " << *only << " on this node\n";
          co_return exit_failure;
        }
        for (const auto& g : names) {
          auto timeout = program ? common_program_timeout(s.cfg, g) : command_timeout;
          auto o = co_await s.ask(g, kind.tail, kind.daemon, timeout);
          if (!o.accepted) rc = exit_failure;
          if (!o.answered) std::cerr << prefix << ": group " << g << ": " << o.text << '\n';
          else if (json) std::cout << o.json << std::endl;
          else std::cout << g << ": " << o.text << '\n';
        }
        co_return rc;
      },
      program ? 0ms : std::chrono::milliseconds(15s));  // a program's wait is bounded per request
}

int send_verb(std::string_view prefix, std::string_view verb, arguments rest) {
  return send_request(prefix, {"cmd." + std::string(verb), heartbeat_daemon}, rest);
}

// "<word> a|b" commands: the second word picks the verb.
int two_way(std::string_view prefix, arguments args, std::string_view a, std::string_view verb_a,
            std::string_view b, std::string_view verb_b) {
  if (args.empty() || (args[0] != a && args[0] != b))
    return usage_error(prefix, "say " + std::string(a) + " or " + std::string(b));
  return send_verb(prefix, args[0] == a ? verb_a : verb_b, args.subspan(1));
}

}  // namespace

int failover_command(arguments args) {
  return send_verb("hasysctl failover", cluster::to_string(cluster::command_kind::manual_failover), args);
}
int partition_command(arguments args) {
  return two_way("hasysctl partition", args, "active", "partition_active", "standby", "partition_standby");
}
int force_command(arguments args) {
  return two_way("hasysctl force", args, "active", "forced_active", "standby", "forced_standby");
}
int mode_command(arguments args) {
  return two_way("hasysctl mode", args, "auto", "set_mode_auto", "manual", "set_mode_manual");
}
int maintenance_command(arguments args) {
  if (args.empty() || args[0] != "stop") return usage_error("hasysctl maintenance", "say stop");
  return send_verb("hasysctl maintenance", "stop_maintenance", args.subspan(1));
}
int common_command(arguments args) {
  if (args.empty() || (args[0] != "start" && args[0] != "stop"))
    return usage_error("hasysctl common", "say start or stop");
  return send_request("hasysctl common", {common_program_tail(args[0] == "start"), executor_daemon, true},
                      args.subspan(1));
}
// D11: `drbdadm connect` for every DRBD resource of the group's flow, through the executor.
int drbd_command(arguments args) {
  if (args.empty() || args[0] != "reconnect") return usage_error("hasysctl drbd", "say reconnect");
  return send_request("hasysctl drbd", {"exec.drbd_reconnect", executor_daemon, true}, args.subspan(1));
}
// Issue 9: the executor checks, without touching the Active, that a takeover would work.
int ready_command(arguments args) {
  return send_request("hasysctl ready", {"exec.ready", executor_daemon, false}, args);
}
int cmd_command(arguments args) {
  if (args.empty()) return usage_error("hasysctl cmd", "give the VERB");
  if (args[0] != "status" && !cluster::command_from_string(args[0]))
    return usage_error("hasysctl cmd", "unknown verb \"" + std::string(args[0]) + "\"");
  return send_verb("hasysctl cmd", args[0], args.subspan(1));
}

}  // namespace hasys::ctl
