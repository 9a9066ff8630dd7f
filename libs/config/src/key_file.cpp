// The group key file (B1): hex digits, whitespace ignored, at least 32 bytes.
#include "rules.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace hasys::config {

namespace {

constexpr std::uintmax_t max_key_file_bytes = std::uintmax_t{64} * 1024;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

key_result fail(const std::filesystem::path& file, const std::string& why) {
  return {{}, rules::quoted(file.string()) + " " + why};
}

}  // namespace

key_result read_key_file(const std::filesystem::path& file) {
  std::error_code ec;
  auto st = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(st)) return fail(file, "does not exist");
  if (!std::filesystem::is_regular_file(st)) return fail(file, "is not a regular file");
  if (std::filesystem::file_size(file, ec) > max_key_file_bytes)
    return fail(file, "is larger than 64 KiB; a key file holds hex digits only");
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(file, std::string("cannot be read: ") + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(file, std::string("cannot be read: ") + std::strerror(errno));

  std::vector<std::uint8_t> key;
  int high = -1;
  std::size_t digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_space(c)) continue;
    int v = hex_value(c);
    if (v < 0) {
      std::string shown = static_cast<unsigned char>(c) >= 0x20 && c != 0x7f
                              ? rules::quoted(std::string_view(&c, 1))
                              : "byte " + std::to_string(static_cast<unsigned char>(c));
      return fail(file, "has " + shown + " at offset " + std::to_string(i) +
                            ", which is not a hex digit (0-9 a-f A-F) or whitespace");
    }
    ++digits;
    if (high < 0) {
      high = v;
    } else {
      key.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0)
    return fail(file, "has an odd number of hex digits (" + std::to_string(digits) + ")");
  if (key.size() < min_key_bytes)
    return fail(file, "holds " + std::to_string(key.size()) + " bytes (" + std::to_string(digits) +
                          " hex digits); a group key needs at least " +
                          std::to_string(min_key_bytes) + " bytes (" +
                          std::to_string(2 * min_key_bytes) + " hex digits)");
  return {std::move(key), {}};
}

}  // namespace hasys::config
