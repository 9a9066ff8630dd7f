// Value checks shared by parse, validate and import: durations, addresses, netmasks, overrides.
#include "rules.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdio>

namespace hasys::config::rules {

std::string duration_range::text() const {
  std::string low = (lo_open ? "more than " : "at least ") + format_duration(lo);
  std::string high = (hi_open ? "less than " : "at most ") + format_duration(hi);
  return low + " and " + high;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          std::array<char, 8> buf{};
          std::snprintf(buf.data(), buf.size(), "\\u%04X", static_cast<unsigned char>(c));
          out += buf.data();
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

std::optional<std::int64_t> unit_ms(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  return std::nullopt;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::int64_t to_int(std::string_view digits) {
  std::int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

std::variant<duration, std::string> parse_duration(std::string_view text) {
  const std::string rule =
      quoted(text) + " is not a duration like \"250ms\", \"1.5s\", \"2m\", \"1h\"";
  std::size_t unit_at = text.find_first_not_of("0123456789.");
  if (unit_at == std::string_view::npos || unit_at == 0) return rule;
  auto unit = unit_ms(text.substr(unit_at));
  if (!unit) return rule;
  std::string_view number = text.substr(0, unit_at);
  std::string_view whole = number;
  std::string_view fraction;
  if (auto dot = number.find('.'); dot != std::string_view::npos) {
    whole = number.substr(0, dot);
    fraction = number.substr(dot + 1);
    if (fraction.empty()) return rule;
  }
  if (whole.empty() || !all_digits(whole) || !all_digits(fraction)) return rule;
  if (whole.size() > 9 || fraction.size() > 9) return quoted(text) + " is too long";
  std::int64_t scale = 1;
  for (std::size_t i = 0; i < fraction.size(); ++i) scale *= 10;
  std::int64_t frac_ms = to_int(fraction) * *unit;
  if (frac_ms % scale != 0) return quoted(text) + " is finer than the resolution of 1ms";
  return duration(to_int(whole) * *unit + frac_ms / scale);
}

std::string format_duration(duration d) {
  // A unit is used from two of it up, so that the seed's "60" seconds stays "60s".
  auto ms = d.count();
  if (ms >= 7'200'000 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms >= 120'000 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<ip_family> family_of(std::string_view address) {
  std::string s(address);
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1) return ip_family::v4;
  if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) return ip_family::v6;
  return std::nullopt;
}

std::string canonical_ip(std::string_view address) {
  std::string s(address);
  std::array<unsigned char, 16> buf{};
  std::array<char, INET6_ADDRSTRLEN> text{};
  int family = inet_pton(AF_INET, s.c_str(), buf.data()) == 1    ? AF_INET
               : inet_pton(AF_INET6, s.c_str(), buf.data()) == 1 ? AF_INET6
                                                                 : 0;
  if (family == 0 || !inet_ntop(family, buf.data(), text.data(), text.size())) return s;
  return text.data();
}

std::optional<int> netmask_to_prefix(std::string_view netmask) {
  std::string s(netmask);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  std::uint32_t bits = ntohl(a.s_addr);
  int prefix = 0;
  while (prefix < 32 && (bits & (0x8000'0000U >> prefix)) != 0) ++prefix;
  std::uint32_t expected = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  if (bits != expected) return std::nullopt;
  return prefix;
}

namespace {
std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}
}  // namespace

std::variant<std::vector<interface_override>, std::string> parse_overrides(std::string_view text) {
  std::vector<interface_override> out;
  if (trim(text).empty()) return out;
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return quoted(item) + " is not server=interface (list: \"srv1=eth0,srv2=ens192\")";
    std::string_view server = trim(item.substr(0, eq));
    std::string_view iface = trim(item.substr(eq + 1));
    if (auto why = node_name::problem(server)) return *why;
    if (!valid_interface(iface))
      return quoted(iface) + " is not an interface name: 1..15 bytes, no spaces, '/', ',' or '='";
    out.push_back({std::string(server), std::string(iface)});
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return out;
}

std::string format_overrides(const std::vector<interface_override>& overrides) {
  std::string out;
  for (const auto& o : overrides) {
    if (!out.empty()) out += ',';
    out += o.server + "=" + o.interface;
  }
  return out;
}

bool valid_interface(std::string_view name) noexcept {
  if (name.empty() || name.size() > interface_bytes || name == "." || name == "..") return false;
  for (char c : name)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '/' || c == ',' || c == '=')
      return false;
  return true;
}

std::string_view to_string(failover_mode m) noexcept {
  return m == failover_mode::automatic ? "auto" : "manual";
}

std::string_view to_string(monitor_policy p) noexcept {
  return policy_words[static_cast<std::size_t>(p)];
}

std::string_view to_string(process_match m) noexcept {
  return match_words[static_cast<std::size_t>(m)];
}

std::string_view to_string(expected_on e) noexcept {
  return expected_on_words[static_cast<std::size_t>(e)];
}

std::string_view to_string(load_kind k) noexcept {
  return load_kind_words[static_cast<std::size_t>(k)];
}

}  // namespace hasys::config::rules
