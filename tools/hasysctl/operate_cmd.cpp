// hasysctl failover / partition / force / mode / maintenance / cmd: operator commands (R2-R6)
// sent to the node's heartbeat daemon over the local bus.
#include "commands.hpp"
#include "node_session.hpp"

#include <array>
#include <iostream>

namespace asio = boost::asio;

namespace hasys::ctl {

namespace {

using namespace std::chrono_literals;

// Sends one verb to the groups named (or all) and prints each answer; 0 when all accepted.
int send_verb(std::string_view prefix, std::string_view verb, arguments rest) {
  static constexpr std::array<option_spec, 2> specs{{{"--group", "-g", true}, {"--json", "", false}}};
  std::string error;
  auto opts = parse_options(rest, specs, error);
  if (!error.empty() || !opts.positional.empty())
    return usage_error(prefix, error.empty() ? "unexpected \"" + std::string(opts.positional[0]) + "\"" : error);
  const auto only = opts.value("--group");
  const bool json = opts.has("--json");
  return with_node_session(
      [&](node_session& s) -> asio::awaitable<int> {
        int rc = exit_ok;
        auto names = s.groups(only);
        if (names.empty()) {
          std::cerr << prefix << ": no group " << *only << " on this node\n";
          co_return exit_failure;
        }
        for (const auto& g : names) {
          auto reply = co_await s.request(g, verb, 3s);
          if (!reply) {
            std::cerr << prefix << ": group " << g << ": hasys-heartbeat does not answer ("
                      << reply.error().message() << ")\n";
            rc = exit_failure;
            continue;
          }
          auto r = proto::from_json<proto::command_reply>(reply->data);
          if (!r) {
            std::cerr << prefix << ": group " << g << ": bad reply\n";
            rc = exit_failure;
            continue;
          }
          if (json) std::cout << reply->data << std::endl;
          else std::cout << g << ": " << (r->accepted ? "accepted: " : "refused: ") << r->text << '\n';
          if (!r->accepted) rc = exit_failure;
        }
        co_return rc;
      },
      15s);
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
int cmd_command(arguments args) {
  if (args.empty()) return usage_error("hasysctl cmd", "give the VERB");
  if (args[0] != "status" && !cluster::command_from_string(args[0]))
    return usage_error("hasysctl cmd", "unknown verb \"" + std::string(args[0]) + "\"");
  return send_verb("hasysctl cmd", args[0], args.subspan(1));
}

}  // namespace hasys::ctl
