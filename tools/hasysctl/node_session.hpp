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

struct node_session {
  config::node_config cfg;
  bus::connection bus;
  // The groups a command addresses: the one named, or all of them.
  std::vector<std::string> groups(std::optional<std::string_view> only) const;
  std::string subject(std::string_view group, std::string_view tail) const;
  // Requests hasys.<group>.<node>.cmd.<verb>.
  boost::asio::awaitable<boost::system::result<bus::message>> request(
      std::string_view group, std::string_view verb, std::chrono::milliseconds timeout);
};

// Loads the config, connects, runs body(session) until it returns; an overall deadline of
// `limit` (none when zero). Problems are printed for people; returns the body's exit code, or
// exit_failure.
int with_node_session(std::function<boost::asio::awaitable<int>(node_session&)> body,
                      std::chrono::milliseconds limit);

// "250ms", "2s", "1.5s", "3m", or a bare number of seconds; nullopt when not understood.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace hasys::ctl
