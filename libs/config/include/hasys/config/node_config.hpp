// The node configuration file (TOML): one node, one or more HA groups (SPEC R9), validated whole.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::config {

enum class failover_mode : std::uint8_t { automatic, manual };

// One peer network of a group (D1): this node's address, the peer's, and the UDP port both use.
struct link_config {
  std::string self_address;  // IPv4 or IPv6 literal
  std::string peer_address;
  std::uint16_t port = 0;
};

struct group_config {
  std::string name;       // HB_GRPN, 1..20 chars [A-Za-z0-9_.-]
  std::string peer_name;  // the other server of the group, 1..15 chars
  std::filesystem::path key_file;  // group key for HMAC-SHA256 (B1), hex, >= 32 bytes
  failover_mode mode = failover_mode::automatic;
  bool active_priority = false;
  std::chrono::milliseconds polling_period{1000};  // D3: 0 < s < 100 s, ms resolution
  int polling_count = 3;                           // D3: 0 < n < 100
  std::optional<std::string> gateway;              // D2 HB_GATEWAYIP; empty: no gateway check
  std::optional<link_config> heartbeat;            // HB_TCPH/HB_TCPH1, HB_SCKH (optional network)
  link_config public_net;                          // HB_TCPG/HB_TCPG1, HB_SCKG
  std::string public_interface;                    // interface that holds public_net.self_address
  // Seed tunables kept per group (M11), used by later services.
  std::chrono::seconds shared_disk_wait{60};        // SHARED_DISK_MANAGEMENT_WAIT_TIME
  bool failover_condition = false;                  // FAILOVER_CONDITION_MANAGEMENT
  std::chrono::seconds failover_condition_wait{60}; // FCONDITION_WTIME
  int drbd_reconnect_count = 6;                     // DSYNC_RECONNECT_RCNT
  std::chrono::seconds drbd_reconnect_interval{30}; // DSYNC_RECONNECT_WTIME
  std::chrono::seconds common_start_wait{60};       // HA_APP_COMSRT_WT
};

struct manager_config {
  bool enabled = false;         // HB_WEB_SERVER_USE
  std::string address;          // HB_WEB_SERVER_IP
  std::uint16_t port = 7422;    // leaf-node port on the manager hub
};

struct log_config {
  bool enabled = false;         // HB_LOG_MANAGEMENT
  std::uint32_t size_mb = 10;   // HB_LOG_SIZE
};

struct node_config {
  std::string name;  // HB_SYSN, 1..15 chars [A-Za-z0-9_.-]
  std::filesystem::path state_dir{"/var/lib/hasys"};
  std::filesystem::path command_dir{"/var/lib/hasys/cmd"};  // R7 .DAT files
  std::string bus_url{"nats://127.0.0.1:4222"};
  std::filesystem::path bus_credentials;  // file with "user:password" for the local bus; optional
  manager_config manager;
  log_config log;
  std::vector<group_config> groups;  // at least one
};

// One problem found in a file: the key path (e.g. "group[1].polling_period"), and what is wrong,
// naming the value and the rule.
struct config_error {
  std::string key;
  std::string message;
  std::string to_string() const { return key + ": " + message; }
};

struct load_result {
  std::optional<node_config> config;  // set only when errors is empty
  std::vector<config_error> errors;
};

// Parse and validate; nothing is returned unless every check passed.
load_result parse(std::string_view toml_text, const std::filesystem::path& base_dir = {});
load_result load_file(const std::filesystem::path& file);
// Checks of a config already in memory (names, limits, addresses, ports, key files, duplicates).
std::vector<config_error> validate(const node_config& c);
// Serialise to the TOML format `parse` reads.
std::string to_toml(const node_config& c);

// SPEC M11: read the seed's hasys_variable_opt.sh ("export NAME=value" lines) into a node_config.
struct import_result {
  std::optional<node_config> config;
  std::vector<config_error> errors;    // unreadable or invalid values (key = variable name)
  std::vector<std::string> notes;      // variables ignored or defaulted, said plainly
};
import_result import_seed_variables(std::string_view sh_text, const std::filesystem::path& key_file);

// Group key (B1): read the hex key file; error text if missing, unreadable, too short or not hex.
struct key_result {
  std::vector<std::uint8_t> key;
  std::string error;
};
key_result read_key_file(const std::filesystem::path& file);

}  // namespace hasys::config
