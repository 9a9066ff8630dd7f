// One check per kind of value (range, address, path, script, user, key file), each error collected.
#pragma once

#include "rules.hpp"

#include <hasys/config/node_config.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::config {

class checker {
 public:
  explicit checker(file_checks files = file_checks::on) : files_(files) {}
  file_checks files() const noexcept { return files_; }
  void add(std::string key, std::string message) {
    errors_.push_back({std::move(key), std::move(message)});
  }
  std::vector<config_error> take() { return std::move(errors_); }

  // A group or server name under the rules of Name (group_name, node_name).
  template <class Name>
  void name(const std::string& key, std::string_view n) {
    if (n.empty())
      add(key, "missing (required)");
    else if (auto why = Name::problem(n))
      add(key, *why);
  }
  void range(const std::string& key, std::int64_t v, rules::int_range r);
  void range(const std::string& key, duration d, rules::duration_range r);
  // At most max bytes; empty allowed unless required.
  void bytes(const std::string& key, std::string_view s, std::size_t max, bool required);
  // An IPv4 or IPv6 literal.
  bool address(const std::string& key, std::string_view s);
  void interface(const std::string& key, std::string_view s);
  void absolute_path(const std::string& key, const std::filesystem::path& p, bool required,
                     std::size_t max_bytes = 4096);
  // An absolute path to an executable regular file, within the seed's 128 bytes. With file
  // checks off, the last four (script, readable_file, key_file, user) check only the path's form.
  void script(const std::string& key, const std::filesystem::path& p);
  void readable_file(const std::string& key, const std::filesystem::path& p);
  void key_file(const std::string& key, const std::filesystem::path& p);
  void user(const std::string& key, std::string_view name);

 private:
  file_checks files_;
  std::vector<config_error> errors_;
};

// The flow of one group: names, limits, files and addresses of every node (validate_flow.cpp).
void check_flow(checker& c, const node_config& node, const group_config& g, const std::string& key);
// The monitors of one group: limits, recovery commands, unique names (validate_monitor.cpp).
void check_monitor(checker& c, const group_config& g, const std::string& key);

}  // namespace hasys::config
