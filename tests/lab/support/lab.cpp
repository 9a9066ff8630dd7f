// The lab fixture: drives deploy/lab/hasys-lab with this build's binaries (see lab.hpp).
#include "lab.hpp"

#include <unistd.h>

#include <cctype>
#include <iostream>
#include <stdexcept>

namespace hasys::lab {
namespace {

constexpr std::chrono::milliseconds up_timeout{std::chrono::seconds(120)};
constexpr std::chrono::milliseconds down_timeout{std::chrono::seconds(60)};

bool valid_prefix(std::string_view p) {
  if (p.empty() || p.size() > 4) return false;
  for (char c : p) {
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> up_options::args() const {
  std::vector<std::string> a{"up", "--period", period, "--count", std::to_string(count),
                             "--topology", topology};
  if (!priority.empty()) {
    a.emplace_back("--priority");
    a.push_back(priority);
  }
  if (!heartbeat_net) a.emplace_back("--no-hb-net");
  if (!daemons) a.emplace_back("--no-daemons");
  if (shared_disk) a.emplace_back("--shared-disk");
  return a;
}

std::filesystem::path lab::script() { return HASYS_LAB_SCRIPT; }
std::filesystem::path lab::build_dir() { return HASYS_LAB_BUILD_DIR; }

std::optional<std::string> lab::skip_unless_root() {
  if (geteuid() != 0) {
    return "needs root (network namespaces): running as uid " + std::to_string(geteuid());
  }
  if (access("/usr/sbin/ip", X_OK) != 0 && access("/usr/bin/ip", X_OK) != 0 &&
      access("/sbin/ip", X_OK) != 0) {
    return "needs iproute2's ip (scripts/setup.sh installs it)";
  }
  if (access(script().c_str(), X_OK) != 0) return "lab tool missing: " + script().string();
  return std::nullopt;
}

lab::lab(std::string prefix, up_options options)
    : prefix_(std::move(prefix)), dir_(build_dir() / ".lab" / prefix_) {
  if (!valid_prefix(prefix_)) {
    throw std::invalid_argument("lab prefix \"" + prefix_ + "\" must be 1-4 of [a-z0-9]");
  }
  run_args({"down"}, down_timeout);
  auto up = run_args(options.args(), up_timeout);
  up_output_ = up.out;
  if (!up.ok()) {
    auto down = run_args({"down", "--keep-logs"}, down_timeout);
    throw std::runtime_error("hasys-lab up failed (exit " + std::to_string(up.exit) + "):\n" +
                             up.out + "\nhasys-lab down:\n" + down.out);
  }
}

lab::~lab() {
  try {
    auto down = run_args({"down", "--keep-logs"}, down_timeout);
    if (!down.ok()) std::cerr << "hasys-lab down failed for " << prefix_ << ":\n" << down.out;
  } catch (const std::exception& e) {
    std::cerr << "hasys-lab down for " << prefix_ << ": " << e.what() << "\n";
  }
}

environment lab::env() const {
  return {{"HASYS_LAB_PREFIX", prefix_},
          {"HASYS_LAB_DIR", dir_.string()},
          {"HASYS_BUILD_DIR", build_dir().string()}};
}

command_result lab::run_args(std::vector<std::string> args, std::chrono::milliseconds timeout) const {
  args.insert(args.begin(), script().string());
  return run_command(args, timeout, env());
}

command_result lab::exec(std::string_view node, std::string_view shell_command,
                         std::chrono::milliseconds timeout) const {
  return run_args({"exec", std::string(node), "sh", "-c", std::string(shell_command)}, timeout);
}

std::optional<pid_t> lab::node_pid(std::string_view node, std::string_view daemon) const {
  auto r = run_args({"pid", std::string(node), std::string(daemon)});
  if (!r.ok()) return std::nullopt;
  try {
    return static_cast<pid_t>(std::stol(r.out));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

line_reader lab::spawn(std::string_view node, const std::vector<std::string>& argv) const {
  // Through `hasys-lab exec` (which becomes the command): a node's mount namespace too.
  std::vector<std::string> full{script().string(), "exec", std::string(node)};
  full.insert(full.end(), argv.begin(), argv.end());
  return line_reader(full, env());
}

}  // namespace hasys::lab
