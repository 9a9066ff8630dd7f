// What the node commands share: the node's configuration, a bus connection to its local
// nats-server, and running one coroutine to its end with a deadline.
#pragma once

#include <hasys/bus/bus.hpp>
#include <hasys/config/node_config.hpp>
#include <hasys/proto/messages.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hasys::ctl {

// The node configuration file: --config FILE before the command, else $HASYS_CONFIG, else
// /etc/hasys/node.toml.
void set_config_path(std::string path);
const std::string& config_path();
// Takes the global options (--config FILE, -c FILE) off the front of args.
void take_global_options(std::vector<std::string_view>& args);
// The node configuration at config_path(); its errors printed for people when it is not valid.
std::optional<config::node_config> load_node_config();

inline constexpr std::string_view heartbeat_daemon = "hasys-heartbeat";
inline constexpr std::string_view executor_daemon = "hasys-executor";
// How long the heartbeat daemon may take to answer an operator command.
inline constexpr std::chrono::milliseconds command_timeout{3000};

// The subject tail of the executor's common start / stop program request (W8).
inline std::string common_program_tail(bool start) {
  return start ? "exec.common_start" : "exec.common_stop";
}
// How long the executor may take to answer it: the group's common_start_wait plus 5 s.
std::chrono::milliseconds common_program_timeout(const config::node_config& cfg,
                                                 std::string_view group);

// A daemon's answer to one operator request, for people: text is "accepted: …", "refused: …" or
// "<daemon> does not answer (…)"; json is the reply as received (empty without one).
struct command_outcome {
  bool answered = false;
  bool accepted = false;
  std::string text;
  std::string json;
};

// A group's status as its heartbeat daemon reports it, or why there is none (error, for people).
struct group_status {
  std::optional<proto::status_msg> status;
  std::string json;
  std::string error;
};

struct node_session {
  config::node_config cfg;
  bus::connection bus;
  std::string origin = "hasysctl";  // command_request.origin: who asks (hasysctl, menu)
  // The groups a command addresses: the one named, or all of them.
  std::vector<std::string> groups(std::optional<std::string_view> only) const;
  std::string subject(std::string_view group, std::string_view tail) const;
  // Requests hasys.<group>.<node>.<tail> with a command_request body.
  boost::asio::awaitable<boost::system::result<bus::message>> exchange(
      std::string_view group, std::string_view tail, std::chrono::milliseconds timeout);
  // Requests hasys.<group>.<node>.cmd.<verb>.
  boost::asio::awaitable<boost::system::result<bus::message>> request(
      std::string_view group, std::string_view verb, std::chrono::milliseconds timeout);
  // exchange() whose reply is a command_reply; daemon names who should answer, for the text.
  boost::asio::awaitable<command_outcome> ask(std::string_view group, std::string_view tail,
                                              std::string_view daemon,
                                              std::chrono::milliseconds timeout);
  // request(group, "status") parsed.
  boost::asio::awaitable<group_status> status(std::string_view group,
                                              std::chrono::milliseconds timeout);
};

// Loads the config, connects, runs body(session) until it returns; an overall deadline of
// `limit` (none when zero). Problems are printed for people; returns the body's exit code, or
// exit_failure.
int with_node_session(std::function<boost::asio::awaitable<int>(node_session&)> body,
                      std::chrono::milliseconds limit);

// "250ms", "2s", "1.5s", "3m", or a bare number of seconds; nullopt when not understood.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace hasys::ctl
