// Reads one TOML table into C++ fields: types, required keys, unknown keys, every error collected.
#pragma once

#include "rules.hpp"

#include <hasys/config/node_config.hpp>

#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::config {

// The errors found while reading, and the keys whose validation errors would only repeat them.
class read_errors {
 public:
  void add(std::string key, std::string message);
  // Drop later errors on every key under prefix (a flow node of unknown type, say).
  void silence_under(std::string prefix);
  // True when a validation error on key would repeat a reading error.
  bool covers(const std::string& key) const;
  std::vector<config_error>& list() noexcept { return list_; }

 private:
  std::vector<config_error> list_;
  std::vector<std::string> prefixes_;
};

class toml_reader {
 public:
  toml_reader(const toml::table& t, std::string path, read_errors& errors)
      : table_(t), path_(std::move(path)), errors_(errors) {}

  // The full key path of a key of this table: "group[0].name".
  std::string key(std::string_view k) const;
  // Marks k as a known key and returns its node, if present.
  const toml::node* take(std::string_view k);
  void error(std::string_view k, std::string message);
  bool has(std::string_view k) const { return table_.contains(k); }

  void string(std::string_view k, std::string& out, bool required = false);
  void boolean(std::string_view k, bool& out);
  void integer(std::string_view k, std::int64_t& out, rules::int_range range,
               bool required = false);
  template <class Int>
  void integer(std::string_view k, Int& out, rules::int_range range, bool required = false) {
    std::int64_t v = out;
    integer(k, v, range, required);
    out = static_cast<Int>(v);
  }
  // A duration string, or a bare integer counted in bare_unit.
  void span(std::string_view k, duration& out, duration bare_unit);
  void span(std::string_view k, std::optional<duration>& out, duration bare_unit);
  // A path; a relative one is made relative to base when base is not empty.
  void path(std::string_view k, std::filesystem::path& out, const std::filesystem::path& base = {},
            bool required = false);
  // A group or server name, checked against the rules of Name (group_name, node_name).
  template <class Name>
  void name(std::string_view k, std::string& out, bool required) {
    std::string text;
    if (!read_string(k, text, required)) return;
    if (auto why = Name::problem(text))
      error(k, *why);
    else
      out = std::move(text);
  }
  // A sub-table; nullopt (and an error) when the key holds something else.
  std::optional<toml_reader> table(std::string_view k);
  // An array of tables; nullptr (and an error) when the key holds something else.
  const toml::array* array_of_tables(std::string_view k);
  // Reports every key of the table that no reader asked for.
  void finish();

 private:
  bool read_string(std::string_view k, std::string& out, bool required);
  void type_error(std::string_view k, const toml::node& n, std::string_view expected);

  const toml::table& table_;
  std::string path_;
  read_errors& errors_;
  std::vector<std::string> known_;
};

}  // namespace hasys::config
