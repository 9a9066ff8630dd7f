// The monitor's bus messages (issue 9): its verdict, restart requests to the executor, metrics.
// Each struct is described once (Boost.Describe); Boost.JSON converts it both ways from that,
// so a field name is written once. Parsing is strict: every field must be present.
#pragma once

#include <boost/describe/class.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::proto {

// One failing monitor with its evidence.
struct health_finding {
  std::string monitor;   // "process web", "cpu", "network svc"
  bool managed = false;  // counts toward the verdict
  std::string evidence;
  bool operator==(const health_finding&) const = default;
};
BOOST_DESCRIBE_STRUCT(health_finding, (), (monitor, managed, evidence))

// What one process monitor sees now (for status screens).
struct process_view_msg {
  std::string name;
  std::string phase;  // unseen, idle, starting, up, recovering, down
  int running = 0;    // matching processes
  int attempt = 0;    // recovery attempts in this outage
  bool managed = false;
  bool operator==(const process_view_msg&) const = default;
};
BOOST_DESCRIBE_STRUCT(process_view_msg, (), (name, phase, running, attempt, managed))

// hasys.local.<group>.<node>.health — monitor -> heartbeat, hasysctl: the group's health on
// this node. At once on every change and again every period (level-triggered: a reader that
// missed one, or started late, has it within a period).
struct health_msg {
  int v = 1;
  std::string group;
  std::string node;
  std::uint64_t monitor_boot = 0;  // changes at every start of hasys-monitor
  std::uint64_t seq = 0;           // increases with every message of one monitor boot
  std::int64_t time_unix_ms = 0;
  std::int64_t period_ms = 0;  // the next message comes within this
  bool healthy = true;
  int failing_managed = 0;             // 0 when healthy; fewer is better (F11)
  std::string reason;                  // the managed findings that decided, joined
  bool reboot_after_failover = false;  // D13: a deciding failure asks for a reboot after failover
  std::vector<health_finding> findings;
  std::vector<process_view_msg> processes;
  bool operator==(const health_msg&) const = default;
};
BOOST_DESCRIBE_STRUCT(health_msg, (),
                      (v, group, node, monitor_boot, seq, time_unix_ms, period_ms, healthy,
                       failing_managed, reason, reboot_after_failover, findings, processes))

// hasys.<group>.<node>.exec.reboot — heartbeat -> executor (D13): the service is handed over
// because of a monitor that asks for it; the executor runs the node's reboot_command.
struct reboot_request {
  int v = 1;
  std::string group;
  std::string reason;
  bool operator==(const reboot_request&) const = default;
};
BOOST_DESCRIBE_STRUCT(reboot_request, (), (v, group, reason))

// monitor -> executor (D11): run `drbdadm connect <resource>` for a StandAlone resource of the
// group's flow (the executor checks it is one).
struct drbd_connect_request {
  int v = 1;
  std::string group;
  std::string resource;
  int attempt = 1;
  bool operator==(const drbd_connect_request&) const = default;
};
BOOST_DESCRIBE_STRUCT(drbd_connect_request, (), (v, group, resource, attempt))

// hasys.local.<group>.<node>.restart — monitor -> executor, request/reply (D6): run the start
// command of process monitor `monitor` from the executor's own configuration (the request names
// it, never carries a command).
struct restart_request {
  int v = 1;
  std::string group;
  std::string monitor;
  int attempt = 1;
  bool operator==(const restart_request&) const = default;
};
BOOST_DESCRIBE_STRUCT(restart_request, (), (v, group, monitor, attempt))

struct restart_reply {
  int v = 1;
  bool ok = false;
  std::string detail;  // "ran in 120 ms", "exit 1: disk full", "timed out after 10 s"
  bool operator==(const restart_reply&) const = default;
};
BOOST_DESCRIBE_STRUCT(restart_reply, (), (v, ok, detail))

struct interface_metrics {
  std::string name;
  bool up = false;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  double rx_bytes_per_s = 0;
  double tx_bytes_per_s = 0;
  bool operator==(const interface_metrics&) const = default;
};
BOOST_DESCRIBE_STRUCT(interface_metrics, (),
                      (name, up, rx_bytes, tx_bytes, rx_bytes_per_s, tx_bytes_per_s))

struct filesystem_metrics {
  std::string mount_point;
  std::string device;
  std::uint64_t size_bytes = 0;
  std::uint64_t used_bytes = 0;
  int used_percent = 0;
  bool operator==(const filesystem_metrics&) const = default;
};
BOOST_DESCRIBE_STRUCT(filesystem_metrics, (),
                      (mount_point, device, size_bytes, used_bytes, used_percent))

// What the manager shows about the server (seed: H/W model, CPU, OS and version, memory).
struct node_facts {
  std::string hardware_model;
  std::string os;      // PRETTY_NAME of /etc/os-release
  std::string kernel;  // uname release
  std::string cpu_model;
  int cpu_count = 0;
  std::uint64_t memory_bytes = 0;
  bool operator==(const node_facts&) const = default;
};
BOOST_DESCRIBE_STRUCT(node_facts, (),
                      (hardware_model, os, kernel, cpu_model, cpu_count, memory_bytes))

// hasys.<group>.<node>.metrics — every monitor period.
struct metrics_msg {
  int v = 1;
  std::string group;
  std::string node;
  std::int64_t time_unix_ms = 0;  // the server's clock (the manager shows it, M*)
  std::optional<int> cpu_percent;
  std::optional<int> memory_percent;
  std::uint64_t processes_total = 0;  // every process of the machine
  std::vector<process_view_msg> processes;
  std::vector<interface_metrics> interfaces;
  std::vector<filesystem_metrics> filesystems;
  node_facts facts;
  bool operator==(const metrics_msg&) const = default;
};
BOOST_DESCRIBE_STRUCT(metrics_msg, (),
                      (v, group, node, time_unix_ms, cpu_percent, memory_percent, processes_total,
                       processes, interfaces, filesystems, facts))

// The subjects (docs/asyncapi.yaml).
std::string health_subject(std::string_view group,
                           std::string_view node);  // hasys.local.<g>.<n>.health
std::string restart_subject(std::string_view group,
                            std::string_view node);  // hasys.local.<g>.<n>.restart
std::string metrics_subject(std::string_view group,
                            std::string_view node);  // hasys.<g>.<n>.metrics

std::string to_json(const health_msg& m);
std::string to_json(const restart_request& m);
std::string to_json(const restart_reply& m);
std::string to_json(const metrics_msg& m);
std::string to_json(const reboot_request& m);
std::string to_json(const drbd_connect_request& m);
// hasys.local.<g>.<n>.drbd_connect (D11 auto-reconnect; reply: restart_reply).
std::string drbd_connect_subject(std::string_view group, std::string_view node);

}  // namespace hasys::proto
