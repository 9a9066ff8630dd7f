// Remote configuration (SPEC M8, M9; issue 11): the part of a group's settings the manager may
// read and change, as JSON, and a change checked against the whole file before anything is
// written. Pure: no I/O but validate()'s file-system checks (scripts, users) on this machine.
#pragma once

#include <hasys/config/node_config.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::config {

// The group keys the manager may change (TOML names): the M8 tabs (failover, shared disk,
// processes, network, CPU/MEM) and the M9 flow. Everything else — names, peer, key, addresses,
// ports, public interface, gateway — is read-only from the manager and set in the file.
std::span<const std::string_view> editable_keys();

// A duration as the file spells it: "100ms", "2s", "5m".
std::string duration_text(duration d);

// {"settings": {...editable keys...}, "fixed": {...read-only facts...}} of one group, in the
// file's own spelling (durations as "1s" strings; TOML arrays of tables as JSON arrays of
// objects). Empty when the configuration has no such group.
std::string group_settings_json(const node_config& cfg, std::string_view group);

struct edit_outcome {
  std::optional<node_config> config;  // the whole new configuration, valid (set when no errors)
  std::string text;                   // its file text (to_toml)
  bool changed = false;               // text differs from the current configuration's
  // Every rejected field, keys relative to the group ("flow[1].timeout", "polling_count"); a
  // problem elsewhere in the file keeps its full key ("node.name").
  std::vector<config_error> errors;
};

// Applies `changes_json` — a JSON object of editable keys; each key present replaces that key
// whole ("flow" the whole flow, "monitor" all monitors), null resets it to its default, absent
// keys are kept — to group `group` of `current`, then parses and validates the whole file.
edit_outcome edit_group(const node_config& current, std::string_view group,
                        std::string_view changes_json);

}  // namespace hasys::config
