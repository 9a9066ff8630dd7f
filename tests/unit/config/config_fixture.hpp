// Test helpers: a private temporary folder with a key, scripts and a full valid node file.
#pragma once

#include <hasys/config/node_config.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::config::test {

using ::testing::PrintToString;

// "key: message" of every error, for readable assertions.
std::vector<std::string> lines_of(const std::vector<config_error>& errors);
// Replaces the one occurrence of from in text (fails the test when it is not exactly once).
std::string replace_once(std::string text, std::string_view from, std::string_view to);

class config_test : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes a file under dir_ (creating folders) with the given permission bits.
  std::filesystem::path write(const std::string& relative, std::string_view text,
                              std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                            std::filesystem::perms::owner_write);
  std::filesystem::path write_script(const std::string& relative, bool executable = true);
  // A file using every part of the format; its key and scripts exist under dir_.
  std::string full_file() const;
  // full_file() with a [group.monitor] table holding monitors of every kind (issue 9); the
  // recovery command's program is dir_/scripts/app-start.sh.
  std::string monitor_file() const;
  load_result parse_text(std::string_view text) const { return parse(text, dir_); }
  // Parses text expecting failure; returns "key: message" lines.
  std::vector<std::string> errors_of(std::string_view text) const;
  // The config of full_file(), parsed (the test fails when it does not parse).
  node_config full_config() const;

  std::filesystem::path dir_;
};

// True when some line starts with key + ": " and contains every fragment.
bool has_error(const std::vector<std::string>& lines, std::string_view key,
               std::initializer_list<std::string_view> fragments = {});

}  // namespace hasys::config::test
