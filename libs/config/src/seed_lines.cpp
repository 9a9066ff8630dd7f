// Line reader for hasys_variable_opt.sh: assignments, with quotes, comments and the manual's
// call-outs.
#include "seed_lines.hpp"

#include "rules.hpp"

#include <optional>

namespace hasys::config {

namespace {

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
bool expands(std::string_view v) { return v.find_first_of("$`") != std::string_view::npos; }

// The value at the start of s; rest receives what follows it. nullopt: unterminated quote.
std::optional<std::string> take_value(std::string_view s, std::string_view& rest, bool& expanding) {
  if (!s.empty() && s[0] == '\'') {
    auto end = s.find('\'', 1);
    if (end == std::string_view::npos) return std::nullopt;
    rest = s.substr(end + 1);
    expanding = false;
    return std::string(s.substr(1, end - 1));
  }
  if (!s.empty() && s[0] == '"') {
    std::string value;
    for (std::size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        value += s[++i];
      } else if (s[i] == '"') {
        rest = s.substr(i + 1);
        expanding = expands(value);
        return value;
      } else {
        value += s[i];
      }
    }
    return std::nullopt;
  }
  auto end = s.find_first_of(" \t");
  std::string_view value = s.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  expanding = expands(value);
  return std::string(value);
}

// A call-out of the manual after a value: "..... (1)"; or a comment.
bool allowed_tail(std::string_view tail) {
  return tail.empty() || tail[0] == '#' || tail.rfind("..", 0) == 0;
}

}  // namespace

seed_lines read_seed_lines(std::string_view sh_text) {
  seed_lines out;
  std::size_t number = 0;
  while (!sh_text.empty()) {
    auto eol = sh_text.find('\n');
    std::string_view line = trim(sh_text.substr(0, eol));
    sh_text = eol == std::string_view::npos ? std::string_view{} : sh_text.substr(eol + 1);
    ++number;
    if (line.empty() || line[0] == '#' || line.find_first_not_of('.') == std::string_view::npos)
      continue;
    std::string_view s = line;
    if (s.rfind("export", 0) == 0 && s.size() > 6 && (s[6] == ' ' || s[6] == '\t'))
      s = trim(s.substr(6));
    std::size_t n = 0;
    while (n < s.size() && (n == 0 ? name_start(s[n]) : name_char(s[n]))) ++n;
    std::string_view after = trim(s.substr(n));
    if (n == 0 || after.empty() || after[0] != '=') {
      out.skipped.emplace_back(number, std::string(line));
      continue;
    }
    seed_assignment a{std::string(s.substr(0, n)), {}, number, false};
    std::string_view rest;
    auto value = take_value(trim(after.substr(1)), rest, a.expands);
    if (!value) {
      out.broken.push_back({number, a.name, a.name + ": the value's quote is not closed"});
      continue;
    }
    if (!allowed_tail(trim(rest))) {
      out.broken.push_back(
          {number, a.name,
           a.name + ": unexpected text after the value: " + rules::quoted(trim(rest))});
      continue;
    }
    a.value = std::move(*value);
    out.assignments.push_back(std::move(a));
  }
  return out;
}

}  // namespace hasys::config
