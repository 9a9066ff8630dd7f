// Names of the protocol's enumerations, as they appear in events, status and commands.
#include <hasys/cluster/types.hpp>

#include <array>
#include <utility>

namespace hasys::cluster {

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::init: return "init";
    case role::standby: return "standby";
    case role::activating: return "activating";
    case role::active: return "active";
    case role::deactivating: return "deactivating";
    case role::failed: return "failed";
  }
  return "unknown";
}

std::optional<role> role_from_string(std::string_view s) noexcept {
  for (auto r : {role::init, role::standby, role::activating, role::active, role::deactivating,
                 role::failed})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::string_view to_string(failover_mode m) noexcept {
  return m == failover_mode::automatic ? "auto" : "manual";
}

std::string_view to_string(peer_link l) noexcept {
  return l == peer_link::heartbeat ? "heartbeat" : "public";
}

std::string_view to_string(severity s) noexcept {
  switch (s) {
    case severity::information: return "information";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "unknown";
}

namespace {
constexpr std::array<std::pair<command_kind, std::string_view>, 8> command_names{{
    {command_kind::set_mode_auto, "set_mode_auto"},
    {command_kind::set_mode_manual, "set_mode_manual"},
    {command_kind::manual_failover, "manual_failover"},
    {command_kind::partition_active, "partition_active"},
    {command_kind::partition_standby, "partition_standby"},
    {command_kind::forced_active, "forced_active"},
    {command_kind::forced_standby, "forced_standby"},
    {command_kind::stop_maintenance, "stop_maintenance"},
}};
}  // namespace

std::string_view to_string(command_kind k) noexcept {
  for (const auto& [kind, name] : command_names)
    if (kind == k) return name;
  return "unknown";
}

std::optional<command_kind> command_from_string(std::string_view s) noexcept {
  for (const auto& [kind, name] : command_names)
    if (name == s) return kind;
  return std::nullopt;
}

}  // namespace hasys::cluster
