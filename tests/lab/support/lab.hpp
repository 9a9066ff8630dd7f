// GoogleTest-friendly handle on one netns lab (deploy/lab/hasys-lab): up in the constructor,
// always down in the destructor, subcommands with captured output and deadlines.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "process.hpp"

namespace hasys::lab {

// The options of `hasys-lab up`.
struct up_options {
  std::string period = "100ms";
  int count = 3;
  std::string priority;         // "a", "b", "a,b", "none"; empty: the tool's default
  bool heartbeat_net = true;    // false: --no-hb-net
  std::string topology = "pair";  // "pair" or "n1"
  bool daemons = true;          // false: --no-daemons
  bool shared_disk = false;     // --shared-disk: a loop-device ext4 in the flow (D10, W4)
  std::vector<std::string> args() const;
};

class lab {
 public:
  static constexpr std::chrono::milliseconds default_timeout{std::chrono::seconds(30)};

  // Takes down any leftover lab with this prefix, then runs `hasys-lab up`; throws
  // std::runtime_error with the tool's output if that fails (after taking it down again).
  // prefix: 1-4 of [a-z0-9], unique among the tests that may run at the same time.
  explicit lab(std::string prefix, up_options options = {});
  // Always runs `hasys-lab down --keep-logs`: logs stay in dir() (<build>/.lab/<prefix>) until
  // the next up with this prefix.
  ~lab();
  lab(const lab&) = delete;
  lab& operator=(const lab&) = delete;

  // Runs `hasys-lab <args...>`.
  template <class... Args>
  command_result run(Args&&... args) const {
    return run_args({std::string(std::forward<Args>(args))...});
  }
  command_result run_args(std::vector<std::string> args,
                          std::chrono::milliseconds timeout = default_timeout) const;
  // Runs a shell command line inside a namespace: node a, b, c, or gw, mgr, sw.
  command_result exec(std::string_view node, std::string_view shell_command,
                      std::chrono::milliseconds timeout = default_timeout) const;
  // Runs the build's hasysctl with --config of that node, inside its namespace.
  template <class... Args>
  command_result ctl(std::string_view node, Args&&... args) const {
    return run_args({"ctl", std::string(node), std::string(std::forward<Args>(args))...});
  }
  // The pid of a daemon (nats, heartbeat, executor, web, cpuhog) when it runs.
  std::optional<pid_t> node_pid(std::string_view node, std::string_view daemon) const;
  // Starts argv inside the node's namespaces (network, and a node's mount namespace) and reads
  // its output line by line.
  line_reader spawn(std::string_view node, const std::vector<std::string>& argv) const;

  std::string ns(std::string_view node) const { return prefix_ + "-" + std::string(node); }
  const std::string& prefix() const { return prefix_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& up_output() const { return up_output_; }

  // Why lab tests cannot run here (not root, no ip, no script), or nothing when they can.
  static std::optional<std::string> skip_unless_root();
  static std::filesystem::path script();
  static std::filesystem::path build_dir();

 private:
  environment env() const;

  std::string prefix_;
  std::filesystem::path dir_;
  std::string up_output_;
};

}  // namespace hasys::lab
