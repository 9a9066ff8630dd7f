// The limits of the format and the value checks shared by the parser, the validator and the import.
#pragma once

#include <hasys/config/node_config.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace hasys::config::rules {

using namespace std::chrono_literals;

// An inclusive integer range, said as "lo..hi" in messages.
struct int_range {
  std::int64_t lo;
  std::int64_t hi;
  bool contains(std::int64_t v) const noexcept { return v >= lo && v <= hi; }
  std::string text() const { return std::to_string(lo) + ".." + std::to_string(hi); }
};

// A duration range; an open bound excludes its value (D3: 0 < polling period < 100 s).
struct duration_range {
  duration lo;
  duration hi;
  bool lo_open = false;
  bool hi_open = false;
  bool contains(duration d) const noexcept {
    return (lo_open ? d > lo : d >= lo) && (hi_open ? d < hi : d <= hi);
  }
  std::string text() const;
};

inline constexpr int_range port{1, 65535};
inline constexpr int_range polling_count{1, 99};
inline constexpr int_range drbd_reconnect_count{0, 99};
inline constexpr int_range log_size_mb{1, 1024};
inline constexpr int_range wait_seconds{1, 3600};
inline constexpr int_range drbd_minor{0, 1048575};
inline constexpr int_range prefix_v4{1, 32};
inline constexpr int_range prefix_v6{1, 128};

inline constexpr duration_range polling_period{0ms, 100s, true, true};
inline constexpr duration_range seed_wait{1s, 3600s};  // disk, condition, DRBD interval
inline constexpr duration_range common_start_wait{0s, 3600s};
inline constexpr duration_range announce_interval{0s, 3600s};  // 0: off, else at least 1 s
inline constexpr duration_range readiness_interval{0s, 24h};   // 0: on request only, else >= 60 s
inline constexpr duration_range node_timeout{1s, 3600s};
inline constexpr duration_range vip_lease{0s, 3600s};
inline constexpr duration_range flow_timeout{1s, 24h};
inline constexpr duration_range start_window{0s, 600s};

// Monitors (D4-D9).
inline constexpr duration_range monitor_period{100ms, 60s};
inline constexpr duration_range start_time{1s, 3600s};   // recovery: wait for the process
inline constexpr duration_range start_delay{1s, 3600s};  // load: samples count from then on
inline constexpr int_range monitor_retries{1, 99};
inline constexpr int_range process_min{0, 9999};  // multi-process monitor (D5)
inline constexpr int_range process_max{1, 9999};
inline constexpr int_range load_limit{1, 100};  // percent
inline constexpr int_range load_repeat{1, 99};

inline constexpr std::size_t flow_name_bytes = 10;
inline constexpr std::size_t path_bytes = 128;  // scripts, devices, mount points
inline constexpr std::size_t override_bytes = 211;
inline constexpr std::size_t interface_bytes = 15;  // IFNAMSIZ - 1
inline constexpr std::size_t fs_type_bytes = 15;
inline constexpr std::size_t monitor_name_bytes = 10;
inline constexpr std::size_t pattern_bytes = 80;
inline constexpr std::size_t start_command_bytes = 256;
// Why min or max is refused on a single-process monitor, after the value (parse and validate).
inline constexpr std::string_view single_process_rule =
    "is only for multi = true (multi = false expects exactly one process)";

// "text" with quotes, backslashes and control characters escaped, as in messages and TOML.
std::string quoted(std::string_view s);

// Durations: "250ms", "1s", "1.5s", "2m", "1h"; ms resolution. Returns the rule broken on error.
std::variant<duration, std::string> parse_duration(std::string_view text);
// The shortest exact spelling counting two or more of the unit: "2m", "90s", "60s", "1500ms".
std::string format_duration(duration d);

enum class ip_family : std::uint8_t { v4, v6 };
std::optional<ip_family> family_of(std::string_view address);
// One spelling per address ("0::1" and "::1" are the same), for duplicate checks.
std::string canonical_ip(std::string_view address);
// "255.255.255.0" -> 24; nullopt when not a contiguous IPv4 netmask.
std::optional<int> netmask_to_prefix(std::string_view netmask);

// "srv=if,srv=if" (spaces around tokens allowed); the rule broken on error.
std::variant<std::vector<interface_override>, std::string> parse_overrides(std::string_view text);
std::string format_overrides(const std::vector<interface_override>& overrides);

// Interface names: 1..15 bytes, no whitespace, '/', ',', '=' (the kernel's rules plus ours).
bool valid_interface(std::string_view name) noexcept;

std::string_view to_string(failover_mode m) noexcept;

// The file's words for the monitor enums, in the enums' order: read by parse(), written by
// to_toml(), each spelt here only.
inline constexpr std::array<std::string_view, 2> policy_words{"all", "one"};
inline constexpr std::array<std::string_view, 2> match_words{"name", "cmdline"};
inline constexpr std::array<std::string_view, 2> expected_on_words{"active", "both"};
inline constexpr std::array<std::string_view, 2> load_kind_words{"cpu", "memory"};
std::string_view to_string(monitor_policy p) noexcept;
std::string_view to_string(process_match m) noexcept;
std::string_view to_string(expected_on e) noexcept;
std::string_view to_string(load_kind k) noexcept;

}  // namespace hasys::config::rules
