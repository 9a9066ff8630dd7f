// The hasys and hasysctl executables on a node whose bus is down, input through a pipe: the menu
// says which daemon does not answer and still exits 0; hasysctl common's exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

struct run_result {
  int exit = -1;
  std::string out;  // stdout only
};

run_result run_shell(const std::string& command) {
  run_result r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A valid two-group node configuration whose bus nobody serves (loopback port 1).
class menu_binary : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(HASYS_TEST_WORK_DIR) /
           testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "keys");
    std::ofstream(dir_ / "keys/g.key") << std::string(64, 'a') << '\n';
    fs::permissions(dir_ / "keys/g.key", fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream toml(dir_ / "node.toml");
    toml << "[node]\nname = \"node-a\"\nbus_url = \"nats://127.0.0.1:1\"\n";
    for (auto [group, port] : {std::pair{"web", 29955}, std::pair{"db", 29965}})
      toml << "\n[[group]]\nname = \"" << group << "\"\n"
           << "peer = \"node-b\"\nkey_file = \"keys/g.key\"\npublic_interface = \"lo\"\n\n"
           << "[group.public]\nself = \"127.0.0.1\"\npeer = \"127.0.0.2\"\nport = " << port
           << '\n';
  }
  std::string config() const { return (dir_ / "node.toml").string(); }
  run_result menu(const std::string& input) const {
    return run_shell("printf '" + input + "' | " + HASYS_BINARY + " --config " + config() +
                     " 2>/dev/null");
  }
  run_result ctl(const std::string& args) const {
    return run_shell(std::string(HASYSCTL_BINARY) + " --config " + config() + " " + args +
                     " 2>/dev/null");
  }

  fs::path dir_;
};

}  // namespace

TEST_F(menu_binary, says_which_daemon_does_not_answer_and_exits_0) {
  auto r = menu("8\\n3\\n1\\ny\\n7\\n2\\ny\\n9\\n");
  EXPECT_EQ(r.exit, 0) << r.out;
  EXPECT_NE(r.out.find("Node: node-a   Groups: web, db"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hasys-heartbeat does not answer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("web: hasys-heartbeat does not answer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("db: hasys-executor does not answer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Enter configuration option : 8\n"), std::string::npos)
      << "answers from a pipe are echoed";
}

TEST_F(menu_binary, ha_process_start_without_systemd_says_so_and_does_nothing) {
  if (fs::is_directory("/run/systemd/system"))
    GTEST_SKIP() << "systemd runs this machine: item 1 would really start hasys-node.target";
  auto r = menu("1\\ny\\n");
  EXPECT_EQ(r.exit, 0);
  EXPECT_NE(r.out.find("systemd does not run this machine"), std::string::npos) << r.out;
}

TEST_F(menu_binary, hasysctl_menu_is_the_same_menu_and_refuses_arguments) {
  auto r = run_shell("printf '9\\n' | " + std::string(HASYSCTL_BINARY) + " --config " + config() +
                     " menu");
  EXPECT_EQ(r.exit, 0);
  EXPECT_NE(r.out.find("9. Exit"), std::string::npos) << r.out;
  EXPECT_EQ(ctl("menu extra").exit, 2);
}

TEST_F(menu_binary,
       hasysctl_common_needs_start_or_stop_and_fails_when_the_executor_does_not_answer) {
  EXPECT_EQ(ctl("common").exit, 2);
  EXPECT_EQ(ctl("common restart").exit, 2);
  EXPECT_EQ(ctl("common start --group nope").exit, 1);
  EXPECT_EQ(ctl("common stop --group web").exit, 1);
}

TEST_F(menu_binary, a_bad_configuration_exits_1_before_the_menu) {
  auto r = run_shell("printf '9\\n' | " + std::string(HASYS_BINARY) + " --config " +
                     (dir_ / "missing.toml").string() + " 2>/dev/null");
  EXPECT_EQ(r.exit, 1);
  EXPECT_EQ(r.out.find("9. Exit"), std::string::npos);
}
