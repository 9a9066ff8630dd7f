// Remote configuration (M8, M9; issue 11). The manager asks a node's heartbeat daemon, on
// hasys.<group>.<node>.cmd.config_get / config_prepare / config_commit / config_abort /
// config_restore; after a commit the heartbeat asks hasys-monitor and hasys-executor to apply the
// new file, on hasys.local.<node>.config.<daemon>. A change to two nodes ("apply the same to the
// peer server") is prepared on both and committed only when both accepted it.
#pragma once

#include <boost/describe/class.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::proto {

struct config_field_error {
  std::string field;  // relative to the group: "flow[1].timeout", "polling_count"
  std::string message;
  bool operator==(const config_field_error&) const = default;
};
BOOST_DESCRIBE_STRUCT(config_field_error, (), (field, message))

struct config_history_entry {
  std::string version;
  std::int64_t saved_unix_ms = 0;  // when it was replaced
  bool operator==(const config_history_entry&) const = default;
};
BOOST_DESCRIBE_STRUCT(config_history_entry, (), (version, saved_unix_ms))

// How one daemon took a committed change.
struct config_daemon_outcome {
  int v = 1;
  std::string daemon;  // "heartbeat", "monitor", "executor"
  // "applied" (live), "unchanged", "restarting" (it starts itself again with the new file and
  // adopts what runs), "pending" (waits until the group holds nothing here: a flow is never
  // changed under running resources), "no answer", "failed"
  std::string status;
  std::string text;
  bool operator==(const config_daemon_outcome&) const = default;
};
BOOST_DESCRIBE_STRUCT(config_daemon_outcome, (), (v, daemon, status, text))

// Reply of config_get.
struct config_state {
  int v = 1;
  bool ok = false;
  std::string text;  // the problem when not ok
  std::string group, node;
  std::string version;  // of the file on disk: the first 16 hex digits of its SHA-256
  std::string file;
  boost::json::value settings;  // the editable keys (group_settings_json)
  boost::json::value fixed;     // the read-only facts
  std::vector<config_history_entry> history;  // previous versions kept, newest first
};
BOOST_DESCRIBE_STRUCT(config_state, (),
                      (v, ok, text, group, node, version, file, settings, fixed, history))

// config_prepare: check the change whole and hold it for a commit (60 s).
struct config_change_request {
  int v = 1;
  std::string action_id;         // names the change in the commit and in the node's events
  std::string user, origin;
  std::string expected_version;  // "": whatever is on disk; else refused when it differs
  boost::json::value changes;    // {key: value|null}
};
BOOST_DESCRIBE_STRUCT(config_change_request, (),
                      (v, action_id, user, origin, expected_version, changes))

// config_commit / config_abort: the prepared change of action_id. config_restore: bring back
// `version` from the history (the manager's undo when the peer could not commit).
struct config_action {
  int v = 1;
  std::string action_id;
  std::string version;
  std::string user;
};
BOOST_DESCRIBE_STRUCT(config_action, (), (v, action_id, version, user))

struct config_change_reply {
  int v = 1;
  bool ok = false;
  std::string text;
  std::vector<config_field_error> errors;  // every rejected field
  bool changed = false;                    // the file differs from the one on disk
  std::string version;                     // prepare: what it would become; commit: now
  std::string previous_version;
  std::vector<config_daemon_outcome> daemons;  // commit, restore
};
BOOST_DESCRIBE_STRUCT(config_change_reply, (),
                      (v, ok, text, errors, changed, version, previous_version, daemons))

// hasys.local.<node>.config.<daemon>: the heartbeat tells a daemon the file changed.
struct config_apply_request {
  int v = 1;
  std::string version;
  std::string action_id;
};
BOOST_DESCRIBE_STRUCT(config_apply_request, (), (v, version, action_id))

std::string config_apply_subject(std::string_view node, std::string_view daemon);
// The version of a configuration file's text.
std::string config_version_of(std::string_view text);

std::string to_json(const config_state& m);
std::string to_json(const config_change_request& m);
std::string to_json(const config_action& m);
std::string to_json(const config_change_reply& m);
std::string to_json(const config_apply_request& m);
std::string to_json(const config_daemon_outcome& m);

}  // namespace hasys::proto
