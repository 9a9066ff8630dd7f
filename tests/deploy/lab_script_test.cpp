// The netns lab tool and the node bus template, checked without root: shell syntax, shellcheck,
// Python syntax, argument errors, and a rendered bus config that nats-server accepts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "process.hpp"

namespace fs = std::filesystem;
using hasys::lab::run_command;
using namespace std::chrono_literals;

namespace {

const fs::path source_dir = HASYS_SOURCE_DIR;
const fs::path lab_dir = source_dir / "deploy" / "lab";
const std::vector<std::string> shell_files{"hasys-lab", "lib.sh", "config.sh", "faults.sh"};

TEST(lab_script, every_shell_file_parses_with_bash_n) {
  for (const auto& f : shell_files) {
    auto r = run_command({"bash", "-n", (lab_dir / f).string()}, 10s);
    EXPECT_EQ(r.exit, 0) << f << ":\n" << r.out;
  }
}

TEST(lab_script, shellcheck_finds_nothing) {
  std::vector<std::string> argv{"shellcheck", "-x"};
  for (const auto& f : shell_files) argv.push_back((lab_dir / f).string());
  auto r = run_command(argv, 60s);
  ASSERT_NE(r.exit, 127) << "shellcheck is not installed (scripts/setup.sh installs it)";
  EXPECT_EQ(r.exit, 0) << r.out;
}

TEST(lab_script, python_helpers_parse) {
  for (const char* f : {"namesvc.py", "nfq_netem.py"}) {
    auto r = run_command({"python3", "-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())",
                          (lab_dir / f).string()},
                         10s);
    EXPECT_EQ(r.exit, 0) << f << ":\n" << r.out;
  }
}

TEST(lab_script, help_lists_every_subcommand) {
  auto r = run_command({(lab_dir / "hasys-lab").string(), "--help"}, 10s);
  ASSERT_EQ(r.exit, 0) << r.out;
  for (const char* c : {"up", "down", "status", "link", "kill", "start", "freeze", "thaw", "netem",
                        "gateway", "exec", "ctl", "ns", "pid", "log", "dir", "cpuhog"}) {
    EXPECT_TRUE(r.out.find(std::string("\n  ") + c + " ") != std::string::npos ||
                r.out.find(std::string("| ") + c) != std::string::npos)
        << c;
  }
}

TEST(lab_script, bad_arguments_are_refused_with_the_value_and_the_rule) {
  const auto tool = (lab_dir / "hasys-lab").string();
  auto prefix = run_command({tool, "--prefix", "toolong", "status"}, 10s);
  EXPECT_NE(prefix.exit, 0);
  EXPECT_NE(prefix.out.find("prefix 'toolong' must be 1-4 characters"), std::string::npos) << prefix.out;
  auto count = run_command({tool, "--prefix", "zq", "up", "--count", "0"}, 10s);
  EXPECT_NE(count.exit, 0);
  EXPECT_NE(count.out.find("--count '0' must be 1..99"), std::string::npos) << count.out;
  auto prio = run_command({tool, "--prefix", "zq", "up", "--topology", "n1", "--priority", "c"}, 10s);
  EXPECT_NE(prio.exit, 0);
  EXPECT_NE(prio.out.find("c never has priority"), std::string::npos) << prio.out;
  auto cmd = run_command({tool, "frobnicate"}, 10s);
  EXPECT_EQ(cmd.exit, 2);
  EXPECT_NE(cmd.out.find("unknown command 'frobnicate'"), std::string::npos) << cmd.out;
}

TEST(nats_template, renders_to_a_config_nats_server_accepts) {
  char tmpl[] = "/tmp/hasys-nats-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  const auto conf = dir / "nats.conf";
  auto r = run_command({"sh", "-c",
                        "sed -e 's|@SERVER_NAME@|node-a|' -e 's|@LISTEN@|127.0.0.1:4222|' "
                        "-e 's|@USER@|hasys|' -e 's|@PASSWORD@|secret|' -e \"s|@STORE_DIR@|$2|\" "
                        "\"$1\" > \"$3\"",
                        "render", (source_dir / "deploy/nats/node.conf.template").string(),
                        (dir / "store").string(), conf.string()},
                       10s);
  ASSERT_EQ(r.exit, 0) << r.out;
  std::ifstream in(conf);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("@SERVER_NAME@"), std::string::npos);
  EXPECT_NE(text.find("listen: \"127.0.0.1:4222\""), std::string::npos);
  auto check = run_command({"nats-server", "-c", conf.string(), "-t"}, 10s);
  EXPECT_EQ(check.exit, 0) << check.out;
  fs::remove_all(dir);
}

// The manager hub's configuration (issue 10) for two nodes, with a certificate made here: one
// account per node, what nats-server accepts. The wall between accounts is tested with real
// servers in event_store_integration_tests (leaf_site).
TEST(nats_template, the_hub_config_generator_gives_a_config_nats_server_accepts) {
  char tmpl[] = "/tmp/hasys-hub-XXXXXX";
  const fs::path dir = mkdtemp(tmpl);
  const auto script = (source_dir / "deploy/nats/hub-conf.sh").string();
  auto sc = run_command({"shellcheck", script}, 60s);
  EXPECT_EQ(sc.exit, 0) << sc.out;
  auto cert = run_command(
      {"sh", "-c",
       "cd \"$1\" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
       "-days 1 -subj /CN=hub -keyout hub.key -out hub.pem",
       "cert", dir.string()},
      30s);
  ASSERT_EQ(cert.exit, 0) << cert.out;
  auto r = run_command({"sh", "-c", "\"$@\" > " + (dir / "hub.conf").string(), "render", script,
                        "--listen", "127.0.0.1:4222", "--leaf-listen", "0.0.0.0:7422", "--cert",
                        (dir / "hub.pem").string(), "--key", (dir / "hub.key").string(),
                        "--manager", "manager:m-secret", "--integrator", "itsm:i-secret",
                        "node-a:a-secret", "node-b:b-secret"},
                       10s);
  ASSERT_EQ(r.exit, 0) << r.out;
  std::ifstream in(dir / "hub.conf");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("NODE_NODE_A: {"), std::string::npos) << text;
  EXPECT_NE(text.find("account: NODE_NODE_B }"), std::string::npos) << text;
  EXPECT_NE(text.find("INTEGRATOR: {"), std::string::npos) << text;
  auto check = run_command({"nats-server", "-c", (dir / "hub.conf").string(), "-t"}, 10s);
  EXPECT_EQ(check.exit, 0) << check.out;
  auto bad = run_command({script, "--listen", "x", "--leaf-listen", "y", "--cert", "c", "--key",
                          "k", "--manager", "m:p", "node.a:secret"},
                         10s);
  EXPECT_EQ(bad.exit, 2);
  EXPECT_NE(bad.out.find("node name 'node.a' cannot be a subject token"), std::string::npos) << bad.out;
  fs::remove_all(dir);
}

}  // namespace
