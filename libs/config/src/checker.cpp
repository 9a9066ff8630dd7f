// The primitive checks of validate(): limits, addresses, paths, and what they need on this machine.
#include "checker.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace hasys::config {

namespace {
std::string q(const std::filesystem::path& p) { return rules::quoted(p.string()); }
}  // namespace

void checker::range(const std::string& key, std::int64_t v, rules::int_range r) {
  if (!r.contains(v)) add(key, std::to_string(v) + " is out of range " + r.text());
}

void checker::range(const std::string& key, duration d, rules::duration_range r) {
  if (!r.contains(d)) add(key, rules::format_duration(d) + " is out of range: " + r.text());
}

void checker::bytes(const std::string& key, std::string_view s, std::size_t max, bool required) {
  if (s.empty()) {
    if (required) add(key, "missing (required)");
    return;
  }
  if (s.size() > max)
    add(key, rules::quoted(s) + " is " + std::to_string(s.size()) + " bytes; at most " +
                 std::to_string(max));
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return add(key, rules::quoted(s) + " contains a control character");
}

bool checker::address(const std::string& key, std::string_view s) {
  if (s.empty()) {
    add(key, "missing (required)");
    return false;
  }
  if (!rules::family_of(s)) {
    add(key, rules::quoted(s) + " is not an IPv4 or IPv6 address");
    return false;
  }
  return true;
}

void checker::interface(const std::string& key, std::string_view s) {
  if (s.empty()) return add(key, "missing (required)");
  if (!rules::valid_interface(s))
    add(key,
        rules::quoted(s) + " is not an interface name: 1..15 bytes, no spaces, '/', ',' or '='");
}

void checker::absolute_path(const std::string& key, const std::filesystem::path& p, bool required,
                            std::size_t max_bytes) {
  if (p.empty()) {
    if (required) add(key, "missing (required)");
    return;
  }
  if (p.is_relative()) return add(key, q(p) + " is not an absolute path");
  if (p.native().size() > max_bytes)
    add(key, q(p) + " is " + std::to_string(p.native().size()) + " bytes; at most " +
                 std::to_string(max_bytes));
}

void checker::script(const std::string& key, const std::filesystem::path& p) {
  std::size_t before = errors_.size();
  absolute_path(key, p, true, rules::path_bytes);
  if (errors_.size() != before || files_ == file_checks::off) return;
  std::error_code ec;
  auto st = std::filesystem::status(p, ec);
  if (!std::filesystem::exists(st)) return add(key, q(p) + " does not exist");
  if (!std::filesystem::is_regular_file(st)) return add(key, q(p) + " is not a regular file");
  if (::access(p.c_str(), X_OK) != 0)
    add(key, q(p) + " is not executable: " + std::strerror(errno));
}

void checker::readable_file(const std::string& key, const std::filesystem::path& p) {
  if (files_ == file_checks::off) return;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec))
    return add(key, q(p) + (std::filesystem::exists(p, ec) ? " is not a regular file"
                                                           : " does not exist"));
  std::ifstream in(p);
  if (!in) add(key, q(p) + " cannot be read: " + std::strerror(errno));
}

void checker::key_file(const std::string& key, const std::filesystem::path& p) {
  if (p.empty()) return add(key, "missing (required)");
  if (files_ == file_checks::off) return;
  auto k = read_key_file(p);
  if (!k.error.empty()) add(key, k.error);
}

void checker::user(const std::string& key, std::string_view name) {
  if (name.empty() || files_ == file_checks::off) return;
  std::string n(name);
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc = ::getpwnam_r(n.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return add(key, rules::quoted(name) + " cannot be looked up: " + std::strerror(rc));
  if (!found) add(key, rules::quoted(name) + " is not a user on this machine");
}

}  // namespace hasys::config
