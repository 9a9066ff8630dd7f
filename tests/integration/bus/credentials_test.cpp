// read_credentials: the "user:password" file of the node-local bus, and its error texts.
#include <hasys/bus/bus.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

using hasys::bus::read_credentials;

namespace {

class bus_credentials : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "hasys-cred-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& text) {
    const auto p = dir_ / "bus.credentials";
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // The error text for a file holding text; fails the test if the file was accepted.
  std::string error_for(const std::string& text) {
    auto r = read_credentials(write(text));
    if (r.has_value()) {
      ADD_FAILURE() << "accepted: \"" << text << "\"";
      return {};
    }
    return r.error().text;
  }

  std::filesystem::path dir_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_F(bus_credentials, user_and_password_are_read_with_or_without_a_trailing_newline) {
  for (const std::string text : {"hasys:s3cr3t", "hasys:s3cr3t\n", "hasys:s3cr3t\r\n"}) {
    auto r = read_credentials(write(text));
    ASSERT_TRUE(r.has_value()) << r.error().text;
    EXPECT_EQ(r->first, "hasys");
    EXPECT_EQ(r->second, "s3cr3t");
  }
}

TEST_F(bus_credentials, password_may_contain_colons) {
  auto r = read_credentials(write("hasys:a:b:c\n"));
  ASSERT_TRUE(r.has_value()) << r.error().text;
  EXPECT_EQ(r->first, "hasys");
  EXPECT_EQ(r->second, "a:b:c");
}

TEST_F(bus_credentials, missing_file_error_names_the_file_and_the_reason) {
  const auto p = dir_ / "absent";
  auto r = read_credentials(p);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(contains(r.error().text, p.string())) << r.error().text;
  EXPECT_TRUE(contains(r.error().text, "No such file or directory")) << r.error().text;
}

TEST_F(bus_credentials, unreadable_file_error_says_so) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  const auto p = write("hasys:s3cr3t");
  ::chmod(p.c_str(), 0);
  auto r = read_credentials(p);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(contains(r.error().text, "Permission denied")) << r.error().text;
}

TEST_F(bus_credentials, directory_instead_of_a_file_is_refused) {
  auto r = read_credentials(dir_);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(contains(r.error().text, "cannot be read: Is a directory")) << r.error().text;
}

TEST_F(bus_credentials, malformed_contents_are_refused_with_the_rule_and_without_the_password) {
  const auto path = (dir_ / "bus.credentials").string();
  const struct {
    std::string text, rule;
  } cases[] = {
      {"", "is empty"},
      {"\n", "is empty"},
      {"hasys-s3cr3t", "has no ':'"},
      {":s3cr3t", "the user (before ':') is empty"},
      {"hasys:", "the password (after ':') is empty"},
      {"has ys:s3cr3t", "contains white space"},
      {"hasys:s3cr3t\nother:line", "more than one line"},
      {std::string(5000, 'x'), "larger than 4096 bytes"},
  };
  for (const auto& c : cases) {
    const auto text = error_for(c.text);
    EXPECT_TRUE(contains(text, path)) << text;
    EXPECT_TRUE(contains(text, c.rule)) << "for \"" << c.text.substr(0, 40) << "\": " << text;
    EXPECT_FALSE(contains(text, "s3cr3t")) << text;
  }
}

TEST_F(bus_credentials, value_of_a_failed_read_throws_runtime_error_with_the_text) {
  const auto p = write("nocolon");
  try {
    (void)read_credentials(p).value();
    ADD_FAILURE() << "value() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "has no ':'")) << e.what();
  }
}
