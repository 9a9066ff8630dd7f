// check_executable: the reasons a script cannot run, found before running it.
#include <hasys/sys/process.hpp>

#include "sys_test_support.hpp"

namespace {

using hasys::sys::check_executable;
using hasys::sys::test::scratch_dir;

TEST(check_executable, executable_script_and_binary_are_fine) {
  scratch_dir dir;
  EXPECT_EQ(check_executable(dir.write("ok.sh", "#!/bin/sh\nexit 0\n", 0755)), "");
  EXPECT_EQ(check_executable("/bin/true"), "");
}

TEST(check_executable, missing_file_is_named) {
  EXPECT_EQ(check_executable("/nonexistent/start.sh"), "/nonexistent/start.sh: no such file");
  EXPECT_EQ(check_executable(""), "no program path given");
}

TEST(check_executable, directory_and_special_files_are_not_programs) {
  scratch_dir dir;
  EXPECT_EQ(check_executable(dir.path()), dir.path().string() + ": a directory, not a program");
  EXPECT_EQ(check_executable("/dev/null"), "/dev/null: not a regular file");
}

TEST(check_executable, file_without_execute_bits_names_the_mode) {
  scratch_dir dir;
  const auto p = dir.write("stop.sh", "#!/bin/sh\n", 0644);
  const auto reason = check_executable(p);
  EXPECT_NE(reason.find(p.string() + ": not executable by user"), std::string::npos) << reason;
  EXPECT_NE(reason.find("(mode 0644)"), std::string::npos) << reason;
}

TEST(check_executable, script_whose_interpreter_is_missing_is_refused) {
  scratch_dir dir;
  const auto p = dir.write("run.sh", "#!/nonexistent/bash -e\necho\n", 0755);
  EXPECT_EQ(check_executable(p),
            p.string() + ": interpreter /nonexistent/bash from the #! line does not exist");
}

TEST(check_executable, unknown_user_is_named) {
  const auto reason = check_executable("/bin/true", "hasys-no-such-user");
  EXPECT_EQ(reason, "/bin/true: user \"hasys-no-such-user\": no such user");
}

TEST(check_executable, owner_only_script_is_not_executable_by_another_user) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to own a file another user cannot run";
  scratch_dir dir;
  ::chmod(dir.path().c_str(), 0755);
  const auto p = dir.write("root-only.sh", "#!/bin/sh\n", 0700);
  EXPECT_EQ(check_executable(p), "") << "root may run it";
  EXPECT_EQ(check_executable(p, "nobody"),
            p.string() + ": not executable by user \"nobody\" (mode 0700)");
  ::chmod(p.c_str(), 0711);
  EXPECT_EQ(
      check_executable(p, "nobody"),
      p.string() +
          ": a script (mode 0711) that user \"nobody\" cannot read, and its interpreter must");
  ::chmod(p.c_str(), 0755);
  EXPECT_EQ(check_executable(p, "nobody"), "");
}

TEST(check_executable, unsearchable_directory_is_named_for_the_run_as_user) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a directory another user cannot enter";
  scratch_dir dir;
  ::chmod(dir.path().c_str(), 0700);
  const auto p = dir.write("start.sh", "#!/bin/sh\n", 0755);
  EXPECT_EQ(check_executable(p, "nobody"), p.string() + ": directory " + dir.path().string() +
                                               " (mode 0700) is not searchable by user \"nobody\"");
}

}  // namespace
