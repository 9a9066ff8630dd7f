// What validate() needs on this machine: key files, executable scripts, run-as users, credentials.
#include "config_fixture.hpp"

using namespace hasys::config;
using namespace hasys::config::test;

namespace {

class files_test : public config_test {};

TEST_F(files_test, key_file_with_64_hex_digits_and_whitespace_gives_32_bytes) {
  auto p = write("k1", "0011223344556677 8899aabbccddeeff\n0011223344556677\t8899AABBCCDDEEFF\n");
  auto k = read_key_file(p);
  ASSERT_EQ(k.error, "");
  ASSERT_EQ(k.key.size(), 32U);
  EXPECT_EQ(k.key[0], 0x00);
  EXPECT_EQ(k.key[1], 0x11);
  EXPECT_EQ(k.key[31], 0xff);
}

TEST_F(files_test, missing_key_file_is_named) {
  auto k = read_key_file(dir_ / "nope.key");
  EXPECT_TRUE(k.key.empty());
  EXPECT_NE(k.error.find("nope.key\" does not exist"), std::string::npos) << k.error;
}

TEST_F(files_test, short_key_file_says_how_many_bytes_it_holds_and_needs) {
  auto k = read_key_file(write("short", std::string(62, 'a')));
  EXPECT_TRUE(k.key.empty());
  EXPECT_NE(k.error.find("holds 31 bytes (62 hex digits); a group key needs at least 32 bytes"),
            std::string::npos)
      << k.error;
}

TEST_F(files_test, non_hex_key_file_names_the_character_and_offset) {
  auto k = read_key_file(write("bad", std::string(10, 'a') + "g" + std::string(60, 'a')));
  EXPECT_NE(k.error.find("has \"g\" at offset 10, which is not a hex digit"), std::string::npos)
      << k.error;
  auto odd = read_key_file(write("odd", std::string(65, 'a')));
  EXPECT_NE(odd.error.find("odd number of hex digits (65)"), std::string::npos) << odd.error;
}

TEST_F(files_test, key_file_that_is_a_folder_is_refused) {
  std::filesystem::create_directories(dir_ / "keydir");
  EXPECT_NE(read_key_file(dir_ / "keydir").error.find("is not a regular file"), std::string::npos);
}

TEST_F(files_test, validate_reports_a_bad_key_file_under_the_group_key) {
  write("keys/GROUP-Linux.key", "abcd");
  auto lines = errors_of(full_file());
  ASSERT_EQ(lines.size(), 1U) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "group[0].key_file", {"holds 2 bytes"}));
}

TEST_F(files_test, non_executable_script_is_refused) {
  write_script("scripts/web-start.sh", false);
  auto lines = errors_of(full_file());
  ASSERT_EQ(lines.size(), 1U) << PrintToString(lines);
  EXPECT_TRUE(has_error(lines, "group[0].flow[1].start", {"web-start.sh\" is not executable"}));
}

TEST_F(files_test, missing_and_relative_scripts_are_refused) {
  std::filesystem::remove(dir_ / "scripts/web-stop.sh");
  std::string text =
      replace_once(full_file(), (dir_ / "scripts/db-start.sh").string(), "scripts/db-start.sh");
  auto lines = errors_of(text);
  EXPECT_TRUE(has_error(lines, "group[0].flow[1].stop", {"web-stop.sh\" does not exist"}));
  EXPECT_TRUE(has_error(lines, "group[0].flow[2].start",
                        {"\"scripts/db-start.sh\" is not an absolute path"}));
  EXPECT_EQ(lines.size(), 2U) << PrintToString(lines);
}

TEST_F(files_test, failover_condition_needs_its_script) {
  std::string text = replace_once(
      full_file(),
      "failover_condition_script = \"" + (dir_ / "scripts/HA_APP_FCONDITION").string() + "\"\n",
      "");
  EXPECT_EQ(errors_of(text),
            std::vector<std::string>{"group[0].failover_condition_script: missing: required when "
                                     "failover_condition = true"});
  std::filesystem::remove(dir_ / "scripts/HA_APP_COMSRT");
  EXPECT_TRUE(has_error(errors_of(full_file()), "group[0].common_start", {"does not exist"}));
}

TEST_F(files_test, run_as_user_must_exist_on_this_machine) {
  std::string text = replace_once(full_file(), "user = \"root\"", "user = \"hasys-no-such-user\"");
  EXPECT_EQ(errors_of(text),
            std::vector<std::string>{"group[0].flow[1].user: \"hasys-no-such-user\" is not a user "
                                     "on this machine"});
}

TEST_F(files_test, bus_credentials_are_relative_to_the_config_and_must_exist) {
  std::string text = replace_once(full_file(), "control_socket_dir",
                                  "bus_credentials = \"bus.cred\"\ncontrol_socket_dir");
  EXPECT_TRUE(has_error(errors_of(text), "node.bus_credentials", {"bus.cred\" does not exist"}));
  write("bus.cred", "hasys:secret\n");
  auto r = parse_text(text);
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->bus_credentials, dir_ / "bus.cred");
}

// The executor's copy of the configuration it runs is read with file checks off: scripts,
// key files and users it names may be gone since, the rest is checked as ever.
TEST_F(files_test, with_file_checks_off_only_the_form_of_paths_and_names_is_checked) {
  std::filesystem::remove(dir_ / "scripts/web-stop.sh");
  std::filesystem::remove(dir_ / "keys/GROUP-Linux.key");
  std::filesystem::remove(dir_ / "scripts/HA_APP_COMSRT");
  std::string text = replace_once(full_file(), "user = \"root\"", "user = \"hasys-no-such-user\"");
  EXPECT_EQ(errors_of(text).size(), 4U) << PrintToString(errors_of(text));
  auto r = parse(text, dir_, file_checks::off);
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(r.config->groups.at(0).common_start, dir_ / "scripts/HA_APP_COMSRT");

  std::string relative =
      replace_once(text, (dir_ / "scripts/db-start.sh").string(), "scripts/db-start.sh");
  auto bad = parse(relative, dir_, file_checks::off);
  EXPECT_EQ(lines_of(bad.errors),
            std::vector<std::string>{
                "group[0].flow[2].start: \"scripts/db-start.sh\" is not an absolute path"});
}

}  // namespace
