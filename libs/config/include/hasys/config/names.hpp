// Group and server names (SPEC M11): a value of these types has passed the seed's limits once.
#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace hasys::config {

// True when every character of s is one of A-Z a-z 0-9 _ . - (the seed's name alphabet).
constexpr bool is_name_alphabet(std::string_view s) noexcept {
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A name of 1..Rule::max_size characters of the name alphabet. Default-constructed means "not set"
// (empty); every other value went through make().
template <class Rule>
class checked_name {
 public:
  static constexpr std::size_t max_size = Rule::max_size;

  checked_name() = default;

  static constexpr bool valid(std::string_view s) noexcept {
    return !s.empty() && s.size() <= max_size && is_name_alphabet(s);
  }
  // The rule s breaks, said with the value, or nullopt when s is a valid name.
  static std::optional<std::string> problem(std::string_view s) {
    if (valid(s)) return std::nullopt;
    return "\"" + std::string(s) + "\" is not a valid " + std::string(Rule::label) + ": 1.." +
           std::to_string(max_size) + " characters of A-Z a-z 0-9 _ . -";
  }
  static std::optional<checked_name> make(std::string_view s) {
    if (!valid(s)) return std::nullopt;
    return checked_name(std::string(s));
  }

  const std::string& str() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

  friend bool operator==(const checked_name&, const checked_name&) = default;
  friend auto operator<=>(const checked_name&, const checked_name&) = default;
  friend bool operator==(const checked_name& a, std::string_view b) noexcept {
    return a.value_ == b;
  }
  friend std::ostream& operator<<(std::ostream& os, const checked_name& n) {
    return os << n.value_;
  }

 private:
  explicit checked_name(std::string s) : value_(std::move(s)) {}
  std::string value_;
};

struct group_name_rule {
  static constexpr std::size_t max_size = 20;  // HB_GRPN
  static constexpr std::string_view label = "group name";
};
struct node_name_rule {
  static constexpr std::size_t max_size = 15;  // HB_SYSN
  static constexpr std::string_view label = "server name";
};

using group_name = checked_name<group_name_rule>;  // HB_GRPN: 1..20 characters
using node_name = checked_name<node_name_rule>;    // HB_SYSN: 1..15 characters

}  // namespace hasys::config
