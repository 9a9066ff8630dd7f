// Remote configuration through the manager (M8, M9; issue 11): a node's editable settings read
// over the hub, and a change checked on every target node before any is written — "apply the
// same to the peer server" writes both or neither. The nodes' heartbeat daemons do the checking
// and writing (proto/config_messages.hpp); this side only sequences them.
#pragma once

#include "api.hpp"
#include "http_types.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace hasys::manager {

struct config_target {
  std::string group, node;
  std::string peer;  // "" when the manager knows no peer
};

struct config_change_outcome {
  http_response response;
  std::string action_id;
  std::string audit;  // what the audit entry says of the result
};

// GET: the node's answer to config_get (settings, read-only facts, version, history).
boost::asio::awaitable<http_response> read_node_config(const bus_request_fn& request,
                                                       const config_target& t);

// PATCH: body {"changes": {...}, "apply_to_peer": bool, "expected_version": string}, all but
// changes optional. Prepared on each target, then committed on each; a commit that fails after
// another succeeded brings that one back to its previous version. dry_run: checked, not written.
boost::asio::awaitable<config_change_outcome> change_node_config(
    const bus_request_fn& request, const config_target& t, const std::string& user,
    const std::string& body, bool dry_run, std::string action_id);

}  // namespace hasys::manager
