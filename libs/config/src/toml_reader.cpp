// Field readers over toml++ tables: each wrong type, missing key or unknown key becomes an error.
#include "toml_reader.hpp"

#include <algorithm>
#include <sstream>

namespace hasys::config {

void read_errors::add(std::string key, std::string message) {
  list_.push_back({std::move(key), std::move(message)});
}

void read_errors::silence_under(std::string prefix) { prefixes_.push_back(std::move(prefix)); }

bool read_errors::covers(const std::string& key) const {
  for (const auto& e : list_)
    if (e.key == key) return true;
  for (const auto& p : prefixes_)
    if (key.compare(0, p.size(), p) == 0) return true;
  return false;
}

namespace {

std::string_view type_phrase(toml::node_type t) {
  switch (t) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// "group[0].flow" -> "group.flow": the header of an array of tables has no indexes.
std::string header_of(std::string_view key) {
  std::string out;
  bool in_index = false;
  for (char c : key) {
    if (c == '[')
      in_index = true;
    else if (c == ']')
      in_index = false;
    else if (!in_index)
      out.push_back(c);
  }
  return out;
}

}  // namespace

std::string toml_reader::key(std::string_view k) const {
  return path_.empty() ? std::string(k) : path_ + "." + std::string(k);
}

const toml::node* toml_reader::take(std::string_view k) {
  known_.emplace_back(k);
  return table_.get(k);
}

void toml_reader::error(std::string_view k, std::string message) {
  errors_.add(key(k), std::move(message));
}

void toml_reader::type_error(std::string_view k, const toml::node& n, std::string_view expected) {
  std::string found;
  if (n.is_string()) {
    found = rules::quoted(n.as_string()->get()) + " is a string";
  } else if (n.is_table() || n.is_array()) {
    found = "found " + std::string(type_phrase(n.type()));
  } else {
    std::ostringstream os;
    n.visit([&os](const auto& v) { os << v; });
    found = os.str() + " is " + std::string(type_phrase(n.type()));
  }
  error(k, found + ", expected " + std::string(expected));
}

bool toml_reader::read_string(std::string_view k, std::string& out, bool required) {
  const toml::node* n = take(k);
  if (!n) {
    if (required) error(k, "missing (required)");
    return false;
  }
  if (!n->is_string()) {
    type_error(k, *n, "a string");
    return false;
  }
  out = n->as_string()->get();
  return true;
}

void toml_reader::string(std::string_view k, std::string& out, bool required) {
  read_string(k, out, required);
}

void toml_reader::boolean(std::string_view k, bool& out) {
  const toml::node* n = take(k);
  if (!n) return;
  if (!n->is_boolean()) return type_error(k, *n, "true or false");
  out = n->as_boolean()->get();
}

void toml_reader::integer(std::string_view k, std::int64_t& out, rules::int_range range,
                          bool required) {
  const toml::node* n = take(k);
  if (!n) {
    if (required) error(k, "missing (required)");
    return;
  }
  if (!n->is_integer()) return type_error(k, *n, "an integer in " + range.text());
  std::int64_t v = n->as_integer()->get();
  if (!range.contains(v)) return error(k, std::to_string(v) + " is out of range " + range.text());
  out = v;
}

void toml_reader::span(std::string_view k, duration& out, duration bare_unit) {
  std::optional<duration> d;
  span(k, d, bare_unit);
  if (d) out = *d;
}

void toml_reader::span(std::string_view k, std::optional<duration>& out, duration bare_unit) {
  const toml::node* n = take(k);
  if (!n) return;
  std::string unit = bare_unit == std::chrono::milliseconds(1) ? "milliseconds" : "seconds";
  if (n->is_integer()) {
    std::int64_t v = n->as_integer()->get();
    if (v < 0 || v > 1'000'000'000) return error(k, std::to_string(v) + " is not a duration");
    out = v * bare_unit;
    return;
  }
  if (!n->is_string())
    return type_error(k, *n, "a duration like \"1.5s\" or an integer of " + unit);
  auto parsed = rules::parse_duration(n->as_string()->get());
  if (auto* msg = std::get_if<std::string>(&parsed)) return error(k, *msg);
  out = std::get<duration>(parsed);
}

void toml_reader::path(std::string_view k, std::filesystem::path& out,
                       const std::filesystem::path& base, bool required) {
  std::string text;
  if (!read_string(k, text, required)) return;
  std::filesystem::path p(text);
  if (!base.empty() && !text.empty() && p.is_relative()) p = (base / p).lexically_normal();
  out = p;
}

std::optional<toml_reader> toml_reader::table(std::string_view k) {
  const toml::node* n = take(k);
  if (!n) return std::nullopt;
  if (!n->is_table()) {
    type_error(k, *n, "a table");
    return std::nullopt;
  }
  return toml_reader(*n->as_table(), key(k), errors_);
}

const toml::array* toml_reader::array_of_tables(std::string_view k) {
  const toml::node* n = take(k);
  if (!n) return nullptr;
  if (n->is_array() && n->as_array()->empty()) return n->as_array();
  if (!n->is_array_of_tables()) {
    type_error(k, *n, "an array of tables, written [[" + header_of(key(k)) + "]]");
    return nullptr;
  }
  return n->as_array();
}

void toml_reader::finish() {
  for (const auto& [k, v] : table_) {
    if (std::find(known_.begin(), known_.end(), k.str()) == known_.end())
      errors_.add(key(k.str()), "unknown key");
  }
}

}  // namespace hasys::config
