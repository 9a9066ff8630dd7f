// hasysctl menu (and the hasys executable): the seed's numbered menu on this node, its items backed
// by the heartbeat daemon and the executor on the local bus, and by systemd.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "menu.hpp"
#include "node_session.hpp"
#include "status_text.hpp"

extern char** environ;

namespace asio = boost::asio;

namespace hasys::ctl {

namespace {

using namespace std::chrono_literals;

constexpr std::string_view node_target = "hasys-node.target";

// Runs argv (looked up in PATH) with this terminal; its exit status, or -1 with error set.
int run_program(const std::vector<std::string>& argv, std::string& error) {
  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  pid_t pid = 0;
  if (int rc = ::posix_spawnp(&pid, c_argv[0], nullptr, nullptr, c_argv.data(), environ); rc != 0) {
    error = argv[0] + " cannot be started: " + std::strerror(rc);
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      error = std::string("waiting for ") + argv[0] + ": " + std::strerror(errno);
      return -1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  error = argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
  return -1;
}

// The menu's items on the real node: one short bus session per request, so that a daemon restarted
// while the menu waits for input is found again.
class node_operations final : public menu_operations {
 public:
  explicit node_operations(config::node_config cfg) : cfg_(std::move(cfg)) {}

  std::string node_processes(bool start) override {
    std::error_code ec;
    if (!std::filesystem::is_directory("/run/systemd/system", ec))
      return "systemd does not run this machine, so the node's processes are managed by "
             "something else (the netns lab, a container): nothing was done.";
    const std::string verb = start ? "start" : "stop";
    std::string error;
    const int rc = run_program({"systemctl", verb, std::string(node_target)}, error);
    if (rc == 0) return std::string(node_target) + (start ? " started" : " stopped");
    if (rc < 0) return error;
    return "systemctl " + verb + " " + std::string(node_target) + " failed (exit " +
           std::to_string(rc) + ")";
  }

  std::string heartbeat_command(const std::string& group, std::string_view verb) override {
    return ask(group, "cmd." + std::string(verb), heartbeat_daemon, command_timeout);
  }

  std::string common_program(const std::string& group, bool start) override {
    return ask(group, common_program_tail(start), executor_daemon,
               common_program_timeout(cfg_, group));
  }

  std::string information() override {
    std::string text;
    const int rc = with_node_session(
        [&](node_session& s) -> asio::awaitable<int> {
          s.origin = "menu";
          for (const auto& g : s.groups(std::nullopt)) {
            auto st = co_await s.status(g, 2s);
            text += st.status ? status_text(*st.status) : "group " + g + ": " + st.error + "\n";
          }
          co_return exit_ok;
        },
        10s);
    if (rc != exit_ok && text.empty())
      text = "hasys-heartbeat does not answer (the node's bus cannot be reached)\n";
    return text;
  }

 private:
  static std::string ask(const std::string& group, const std::string& tail, std::string_view daemon,
                         std::chrono::milliseconds timeout) {
    std::string text = std::string(daemon) + " does not answer (the node's bus cannot be reached)";
    with_node_session(
        [&](node_session& s) -> asio::awaitable<int> {
          s.origin = "menu";
          auto o = co_await s.ask(group, tail, daemon, timeout);
          text = o.text;
          co_return o.accepted ? exit_ok : exit_failure;
        },
        timeout + 5s);
    return text;
  }

  config::node_config cfg_;
};

}  // namespace

int menu_command(arguments args) {
  if (!args.empty()) return usage_error("hasysctl menu", "no arguments expected");
  auto cfg = load_node_config();
  if (!cfg) return exit_failure;
  menu_node node{cfg->name, {}, HASYS_VERSION};
  for (const auto& g : cfg->groups) node.groups.push_back(g.name);
  node_operations ops(std::move(*cfg));
  return run_menu(std::cin, std::cout, node, ops, ::isatty(STDIN_FILENO) == 0);
}

}  // namespace hasys::ctl
