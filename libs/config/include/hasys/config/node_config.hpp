// The node configuration file (TOML): one node, one or more HA groups (SPEC R9), validated whole.
#pragma once

#include <hasys/config/names.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hasys::config {

// Every duration of the file, at the file's resolution.
using duration = std::chrono::milliseconds;

enum class failover_mode : std::uint8_t { automatic, manual };

// One peer network of a group (D1): this node's address, the peer's, and the UDP port both use.
struct link_config {
  std::string self_address;  // IPv4 or IPv6 literal
  std::string peer_address;  // same family as self_address, a different address
  std::uint16_t port = 0;    // 1..65535
  bool operator==(const link_config&) const = default;
};

// ---- resource flow nodes (W1); every node has a name, stop_on_error and a timeout ----

inline constexpr duration default_node_timeout = std::chrono::seconds(30);

// W2: one server's interface when it is not the node's default ("node-b=ens192").
struct interface_override {
  std::string server;  // a server name (node_name rules): this node or the group's peer
  std::string interface;
  bool operator==(const interface_override&) const = default;
};

struct vip_node {
  std::string name;  // <= 10 bytes
  bool stop_on_error = true;
  duration timeout = default_node_timeout;  // 1 s .. 3600 s
  std::string ip;                           // IPv4 or IPv6 literal
  int prefix_length = 0;  // 1..32 (IPv4) or 1..128 (IPv6); the file may say netmask instead
  std::string interface;  // default interface; the file's default is the group's public_interface
  std::vector<interface_override> overrides;  // written "srv=if,srv=if", <= 211 bytes
  // The address is added with this lifetime and refreshed while held, so the kernel drops it
  // by itself when its holder freezes (a self-fencing lease); 0 s: no lease. 0..3600 s.
  std::chrono::seconds lease{1};
  bool operator==(const vip_node&) const = default;
};

enum class script_kind : std::uint8_t { application, database };  // W6, W5

struct script_node {
  std::string name;  // <= 10 bytes
  bool stop_on_error = true;
  duration timeout = default_node_timeout;
  script_kind kind = script_kind::application;
  std::filesystem::path start;  // absolute, <= 128 bytes, executable
  std::filesystem::path stop;   // absolute, <= 128 bytes, executable
  std::string user;             // run-as user; empty: the executor's own user
  bool operator==(const script_node&) const = default;
};

struct wait_node {  // W7
  std::string name;
  bool stop_on_error = true;
  duration timeout = default_node_timeout;  // must not be shorter than the wait
  std::chrono::seconds wait{1};             // file key "seconds", 1..3600
  bool operator==(const wait_node&) const = default;
};

struct shared_disk_node {  // W4
  std::string name;
  bool stop_on_error = true;
  duration timeout = default_node_timeout;
  std::string device;                 // <= 128 bytes
  std::filesystem::path mount_point;  // absolute, <= 128 bytes
  std::string fs_type;                // empty: mount detects it
  bool operator==(const shared_disk_node&) const = default;
};

struct drbd_node {  // W3
  std::string name;
  bool stop_on_error = true;
  duration timeout = default_node_timeout;
  std::string resource;               // drbdadm resource name
  std::uint32_t minor = 0;            // /dev/drbd<minor>, 0..1048575
  std::filesystem::path mount_point;  // optional, absolute
  bool operator==(const drbd_node&) const = default;
};

using flow_node = std::variant<vip_node, script_node, wait_node, shared_disk_node, drbd_node>;

// The file's "type" of a node: "vip", "application", "database", "wait", "shared_disk", "drbd".
std::string_view type_name(const flow_node& n);
const std::string& name_of(const flow_node& n);
bool stop_on_error_of(const flow_node& n);
duration timeout_of(const flow_node& n);
// The interface a vip_node uses on the given server.
const std::string& interface_for(const vip_node& n, std::string_view server) noexcept;

// ---- monitors (D4-D9, issue 9): what hasys-monitor watches for a group on this node ----

enum class monitor_policy : std::uint8_t { all, one };  // D7: failover when all / any one is down
enum class process_match : std::uint8_t { name, cmdline };  // D4: "프로세스명" / "명령줄 패턴"
// Where a monitored process is expected to run: only while this node is Active (the flow starts
// it), or on both roles (an agent, a listener that runs everywhere).
enum class expected_on : std::uint8_t { active, both };

// D4 single-process monitor (multi = false: exactly one process is expected; more than one match
// is warned about and counts as running, as the seed does) and D5 multi-process monitor
// (multi = true: healthy while the count of matches is within min..max).
struct process_monitor {
  std::string name;  // label, <= 10 bytes, unique among the group's monitors
  process_match match = process_match::name;
  // name: the process name (/proc/<pid>/comm, or the executable's or a script's file name);
  // cmdline: a substring of the command line (arguments joined by spaces). 1..80 bytes.
  std::string pattern;
  bool multi = false;
  int min = 1;  // multi only: 0..9999
  int max = 1;  // multi only: 1..9999, >= min
  bool managed = false;  // D7: its being down counts toward failover (process_policy)
  expected_on on = expected_on::active;
  // D6 auto-recovery: when down, the executor runs `start` (a command line for /bin/sh -c, its
  // first word an absolute path to an executable; <= 256 bytes) as `user`, the monitor waits
  // start_time (1..3600 s) for the process to appear, up to `retries` times (1..99); then it is
  // declared down.
  bool recovery = false;
  std::string start;
  std::string user;  // empty: the executor's own user
  duration start_time = std::chrono::seconds(60);
  int retries = 3;
  bool reboot_after_failover = false;  // D13: reboot this server once it handed the group over
  bool operator==(const process_monitor&) const = default;
};

enum class load_kind : std::uint8_t { cpu, memory };

// D9: CPU or memory use at or over limit_percent for `repeat` samples in a row, counted from
// start_delay after the monitor started.
struct load_monitor {
  load_kind kind = load_kind::cpu;
  int limit_percent = 90;                               // 1..100
  int repeat = 3;                                       // 1..99
  duration start_delay = std::chrono::seconds(60);      // 1..3600 s
  bool managed = false;
  bool operator==(const load_monitor&) const = default;
};

// D8: an interface (operationally up, with carrier) and, when given, an address on it.
struct network_monitor {
  std::string name;       // label, <= 10 bytes, unique among the group's monitors
  std::string interface;  // valid interface name
  std::string ip;         // optional IPv4/IPv6 literal that must be configured on the interface
  bool managed = false;   // D7: its being down counts toward failover (network_policy)
  bool operator==(const network_monitor&) const = default;
};

// D10: a shared-disk mount point of the group's flow (a shared_disk or drbd node mounts it).
// managed: its disappearing while this node is Active (the flow mounted it) counts toward
// failover. unmount_confirm (the seed's "언마운트 확인"): on the way down, an unmount that fails
// (the file system is busy) is tried again until the group's shared_disk_wait has passed, and the
// peer is handed the service only once the mount point is confirmed gone. Without it one attempt
// is made; a failed unmount still keeps the service from the peer (fail closed).
struct disk_monitor {
  std::string name;                   // label, <= 10 bytes, unique among the group's monitors
  std::filesystem::path mount_point;  // absolute, <= 128 bytes, mounted by the group's flow
  bool managed = false;
  bool unmount_confirm = true;
  bool operator==(const disk_monitor&) const = default;
};

struct monitor_config {
  duration period = std::chrono::seconds(1);  // /proc rescans and load samples: 100 ms..60 s
  monitor_policy process_policy = monitor_policy::one;
  monitor_policy network_policy = monitor_policy::one;
  std::vector<process_monitor> processes;
  std::vector<load_monitor> loads;  // at most one per kind
  std::vector<network_monitor> networks;
  std::vector<disk_monitor> disks;
  bool operator==(const monitor_config&) const = default;
};

// ---- groups and the node ----

struct group_config {
  std::string name;                // HB_GRPN, group_name rules; unique in the file
  std::string peer_name;           // the other server of the group, node_name rules, != node name
  std::filesystem::path key_file;  // group key for HMAC-SHA256 (B1), hex, >= 32 bytes
  failover_mode mode = failover_mode::automatic;
  bool active_priority = false;                       // R3
  duration polling_period = std::chrono::seconds(1);  // D3: 0 < p < 100 s
  int polling_count = 3;                              // D3: 0 < n < 100
  // R3 (issue 18): at start, a node without the Active priority that has not heard its peer waits
  // this long before it takes the role alone, and the priority node waits within it for its own
  // gateway; 0 s: the boot wait alone (polling_period x (polling_count + 2)). 0..600 s.
  duration start_window = std::chrono::seconds(5);
  std::optional<std::string> gateway;                 // D2 HB_GATEWAYIP; absent: no gateway check
  std::optional<link_config> heartbeat;  // HB_TCPH/HB_TCPH1, HB_SCKH (optional network)
  link_config public_net;                // HB_TCPG/HB_TCPG1, HB_SCKG
  std::string public_interface;          // holds public_net.self_address, 1..15 bytes
  // An unanswered flow run fails after this; when the file has none, parse() puts
  // default_flow_timeout(g). Never shorter than flow_time_needed(g).
  duration flow_timeout = std::chrono::seconds(60);
  // W2: while Active, announce the virtual IPs again this often (keepalived's
  // garp_master_refresh), for clients that missed the takeover; 0 s: off. 0 or 1..3600 s.
  duration announce_interval{0};
  // Issue 9: while not Active, check this often that a takeover would work (scripts, devices, the
  // virtual IP answered by nobody but the peer); 0 s: only on request (hasysctl ready).
  // 0, or 60 s..24 h.
  duration readiness_interval = std::chrono::minutes(10);
  // Seed tunables (M11).
  duration shared_disk_wait = std::chrono::seconds(60);  // SHARED_DISK_MANAGEMENT_WAIT_TIME
  bool failover_condition = false;                       // FAILOVER_CONDITION_MANAGEMENT
  std::filesystem::path failover_condition_script;       // HA_APP_FCONDITION; needed if above
  duration failover_condition_wait = std::chrono::seconds(60);  // FCONDITION_WTIME
  int drbd_reconnect_count = 6;                                 // DSYNC_RECONNECT_RCNT
  duration drbd_reconnect_interval = std::chrono::seconds(30);  // DSYNC_RECONNECT_WTIME
  std::filesystem::path common_start;                           // W8 HA_APP_COMSRT; optional
  std::filesystem::path common_stop;  // W8 HA_APP_COMSHT: never run by itself, only on request
  duration common_start_wait = std::chrono::seconds(60);        // HA_APP_COMSRT_WT
  std::vector<flow_node> flow;  // W1: top-down on activation, bottom-up on deactivation
  monitor_config monitor;       // D4-D9: the [group.monitor] table and its arrays
  bool operator==(const group_config&) const = default;
};

// The sum of the flow's node timeouts plus 10 s, at least 60 s.
duration default_flow_timeout(const group_config& g);
// The longest a flow of the group may run: its nodes' timeouts, and shared_disk_wait more for each
// unmount that waits for its confirmation (D10).
duration flow_time_needed(const group_config& g);
// How long the unmount of a mount point may be retried on the way down: the group's
// shared_disk_wait when a disk monitor asks for unmount confirmation of it, else 0 (one attempt).
duration unmount_wait(const group_config& g, const std::filesystem::path& mount_point);
// The same directory: "/srv/data", "/srv/data/" and "/srv/./data" are one mount point.
bool same_mount_point(const std::filesystem::path& a, const std::filesystem::path& b);

struct manager_config {
  bool enabled = false;       // HB_WEB_SERVER_USE
  std::string address;        // HB_WEB_SERVER_IP; required when enabled
  std::uint16_t port = 7422;  // leaf-node port on the manager hub
  bool operator==(const manager_config&) const = default;
};

struct log_config {
  bool enabled = false;        // HB_LOG_MANAGEMENT
  std::uint32_t size_mb = 10;  // HB_LOG_SIZE, 1..1024
  bool operator==(const log_config&) const = default;
};

struct node_config {
  std::string name;  // HB_SYSN, node_name rules
  std::filesystem::path state_dir{"/var/lib/hasys"};
  std::filesystem::path command_dir{"/var/lib/hasys/cmd"};  // R7 .DAT files
  std::string bus_url{"nats://127.0.0.1:4222"};
  std::filesystem::path bus_credentials;  // file with "user:password" for the local bus; optional
  std::filesystem::path control_socket_dir{"/run/hasys"};  // heartbeat <-> executor sockets
  // D13: what hasys-executor runs to reboot the server after a failover a process monitor with
  // reboot_after_failover caused. Absolute, executable when such a monitor exists.
  std::filesystem::path reboot_command{"/usr/sbin/reboot"};
  // W3/D11: DRBD's admin tool, for the flow's drbd nodes (executor) and their status (monitor).
  std::filesystem::path drbdadm{"/usr/sbin/drbdadm"};
  manager_config manager;
  log_config log;
  std::vector<group_config> groups;  // at least one
  bool operator==(const node_config&) const = default;
};

// One problem: the key path (e.g. "group[1].polling_period") and what is wrong, naming the value
// and the rule.
struct config_error {
  std::string key;
  std::string message;
  std::string to_string() const { return key + ": " + message; }
  bool operator==(const config_error&) const = default;
};

struct load_result {
  std::optional<node_config> config;  // set only when errors is empty
  std::vector<config_error> errors;
};

// Whether the checks look at this machine's file system and users (scripts exist and run, key
// files read, run-as users known). `off` is for a copy this product wrote itself of what it runs
// (the executor's running.toml): a script deleted since must not make the copy unreadable, or
// the flow that started the running resources would be lost; running it fails then, visibly.
enum class file_checks { on, off };

// Parse and validate; nothing is returned unless every check passed. Relative key_file and
// bus_credentials paths are made relative to base_dir (the config file's folder).
load_result parse(std::string_view toml_text, const std::filesystem::path& base_dir = {},
                  file_checks files = file_checks::on);
load_result load_file(const std::filesystem::path& file, file_checks files = file_checks::on);
// Every check of a config in memory: names, limits, addresses, ports, duplicates, and the file
// system (key files, scripts, run-as users) unless files is off.
std::vector<config_error> validate(const node_config& c, file_checks files = file_checks::on);
// Advice on a valid configuration (issue 8): settings that are allowed but that this product is not
// measured to hold, each naming the key and why. Printed as warnings by `hasysctl config check`
// and logged by the heartbeat daemon at start; never a reason to refuse.
inline constexpr duration steady_period_floor = std::chrono::milliseconds(10);  // docs/benchmarks.md
std::vector<config_error> advise(const node_config& c);
// Serialise to the TOML format `parse` reads; parse(to_toml(c)) gives c back.
std::string to_toml(const node_config& c);

// SPEC M11: read the seed's hasys_variable_opt.sh ("export NAME=value" lines) into a node_config
// with one group using key_file. The failover condition script, when the seed enables it, is
// expected as script_dir/HA_APP_FCONDITION.
struct import_result {
  std::optional<node_config> config;  // set only when errors is empty (and it validated)
  std::vector<config_error> errors;   // key = the seed variable, or "line N"
  std::vector<std::string> notes;     // variables ignored and values defaulted, said plainly
};
inline constexpr std::string_view default_script_dir = "/etc/hasys/scripts";
import_result import_seed_variables(std::string_view sh_text, const std::filesystem::path& key_file,
                                    const std::filesystem::path& script_dir = default_script_dir);

// Group key (B1): hex text, whitespace ignored, at least 64 hex digits (32 bytes).
inline constexpr std::size_t min_key_bytes = 32;
struct key_result {
  std::vector<std::uint8_t> key;  // empty when error is set
  std::string error;              // names the file and the rule
};
key_result read_key_file(const std::filesystem::path& file);

}  // namespace hasys::config
