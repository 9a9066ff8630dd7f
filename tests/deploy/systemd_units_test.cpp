// The systemd units in deploy/systemd: each passes `systemd-analyze verify`, and each service
// carries the restart, directory, target and privilege settings hasys relies on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "process.hpp"

namespace fs = std::filesystem;
using hasys::lab::run_command;
using namespace std::chrono_literals;

namespace {

const fs::path units_dir = fs::path(HASYS_SOURCE_DIR) / "deploy" / "systemd";

std::vector<std::string> unit_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(units_dir)) {
    auto ext = e.path().extension();
    if (ext == ".service" || ext == ".target") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// key -> every value, across sections (hasys units use each key in one section only).
std::multimap<std::string, std::string> read_unit(const std::string& name) {
  std::multimap<std::string, std::string> keys;
  std::ifstream in(units_dir / name);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    auto eq = line.find('=');
    if (eq != std::string::npos) keys.emplace(line.substr(0, eq), line.substr(eq + 1));
  }
  return keys;
}

std::string value(const std::multimap<std::string, std::string>& keys, const std::string& key) {
  std::string all;
  for (auto [it, end] = keys.equal_range(key); it != end; ++it) all += (all.empty() ? "" : " ") + it->second;
  return all;
}

std::set<std::string> words(const std::string& s) {
  std::istringstream in(s);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

// A scratch root for `systemd-analyze verify --root=`: the distribution's units (so
// network-online.target and friends resolve), the hasys units, and stub executables at every
// Exec path (verify refuses a unit whose binary is missing, and the daemons are not installed).
struct scratch_root {
  fs::path path;
  scratch_root() {
    char tmpl[] = "/tmp/hasys-verify-XXXXXX";
    path = mkdtemp(tmpl);
    fs::path system_units = fs::exists("/usr/lib/systemd/system") ? "/usr/lib/systemd/system"
                                                                   : "/lib/systemd/system";
    fs::create_directories(path / "usr/lib/systemd");
    fs::copy(system_units, path / "usr/lib/systemd/system",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::create_directories(path / "etc/systemd/system");
    for (const auto& name : unit_names()) {
      fs::copy_file(units_dir / name, path / "etc/systemd/system" / name);
      for (const auto& [key, v] : read_unit(name)) {
        if (key.rfind("Exec", 0) != 0) continue;
        std::string binary = v.substr(v.find_first_not_of("@-:+!|"));
        binary = binary.substr(0, binary.find(' '));
        fs::path stub = path / fs::path(binary).relative_path();
        fs::create_directories(stub.parent_path());
        std::ofstream(stub) << "#!/bin/sh\n";
        fs::permissions(stub, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
      }
    }
  }
  ~scratch_root() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

class systemd_unit : public testing::TestWithParam<std::string> {};

TEST_P(systemd_unit, passes_systemd_analyze_verify_without_warnings) {
  scratch_root root;
  auto r = run_command({"systemd-analyze", "verify", "--man=no", "--generators=no",
                        "--root=" + root.path.string(), GetParam()},
                       30s);
  EXPECT_EQ(r.exit, 0) << r.out;
  EXPECT_EQ(r.out, "") << "systemd-analyze verify printed warnings for " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(deploy, systemd_unit, testing::ValuesIn(unit_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

TEST(systemd_units, every_service_restarts_forever_and_shares_state_and_runtime_dirs) {
  for (const auto& name : unit_names()) {
    if (name.find(".service") == std::string::npos) continue;
    auto u = read_unit(name);
    SCOPED_TRACE(name);
    EXPECT_EQ(value(u, "Restart"), "always");
    EXPECT_EQ(value(u, "StartLimitIntervalSec"), "0");
    EXPECT_EQ(value(u, "StateDirectory"), "hasys");
    EXPECT_EQ(value(u, "RuntimeDirectory"), "hasys");
    EXPECT_EQ(value(u, "RuntimeDirectoryPreserve"), "yes");
    auto rs = value(u, "RestartSec");
    EXPECT_TRUE(rs == "200ms" || rs == "500ms" || rs == "1s") << "RestartSec=" << rs;
  }
}

TEST(systemd_units, every_service_is_part_of_and_wanted_by_its_target) {
  const std::set<std::string> node_services{"hasys-nats.service", "hasys-heartbeat.service",
                                            "hasys-executor.service", "hasys-monitor.service",
                                            "hasys-event-store.service"};
  auto node_target = words(value(read_unit("hasys-node.target"), "Wants"));
  for (const auto& s : node_services) {
    SCOPED_TRACE(s);
    auto u = read_unit(s);
    EXPECT_TRUE(words(value(u, "PartOf")).count("hasys-node.target"));
    EXPECT_TRUE(words(value(u, "WantedBy")).count("hasys-node.target"));
    EXPECT_TRUE(node_target.count(s));
    if (s != "hasys-nats.service") {
      EXPECT_TRUE(words(value(u, "After")).count("hasys-nats.service"));
      EXPECT_TRUE(words(value(u, "Wants")).count("hasys-nats.service"));
      EXPECT_NE(value(u, "ExecStart").find("--config /etc/hasys/node.toml"), std::string::npos);
    }
  }
  auto api = read_unit("hasys-manager-api.service");
  EXPECT_TRUE(words(value(api, "PartOf")).count("hasys-manager.target"));
  EXPECT_TRUE(words(value(read_unit("hasys-manager.target"), "Wants")).count("hasys-manager-api.service"));
  EXPECT_NE(value(read_unit("hasys-nats.service"), "ExecStart").find("/etc/hasys/nats.conf"),
            std::string::npos);
}

TEST(systemd_units, heartbeat_runs_realtime_with_locked_memory_and_only_its_capabilities) {
  auto u = read_unit("hasys-heartbeat.service");
  EXPECT_EQ(value(u, "Nice"), "-10");
  EXPECT_EQ(value(u, "CPUSchedulingPolicy"), "fifo");
  EXPECT_EQ(value(u, "CPUSchedulingPriority"), "50");
  EXPECT_EQ(value(u, "LimitMEMLOCK"), "infinity");
  EXPECT_EQ(words(value(u, "CapabilityBoundingSet")),
            (std::set<std::string>{"CAP_NET_RAW", "CAP_SYS_NICE", "CAP_IPC_LOCK"}));
  EXPECT_EQ(value(u, "NoNewPrivileges"), "yes");
}

TEST(systemd_units, executor_keeps_mounts_visible_and_may_act_for_other_users) {
  auto u = read_unit("hasys-executor.service");
  auto caps = words(value(u, "CapabilityBoundingSet"));
  for (const char* c : {"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID",
                        "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE"}) {
    EXPECT_TRUE(caps.count(c)) << c;
  }
  // A private mount namespace would hide the executor's mounts from everyone else.
  for (const char* k : {"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
                        "ReadWritePaths", "NoNewPrivileges"}) {
    EXPECT_EQ(value(u, k), "") << k;
  }
  EXPECT_EQ(value(u, "KillMode"), "process");
}

}  // namespace

namespace {

// Stopping hasys-node.target stops the heartbeat before the executor (systemd stops in the reverse
// of the start order): the executor sees the heartbeat's connection close and takes the flow down
// in order, and its own SIGTERM then waits for that release (issue 7, ADR 0004).
TEST(systemd_units, the_node_target_stops_the_heartbeat_before_the_executor) {
  auto hb = read_unit("hasys-heartbeat.service");
  EXPECT_TRUE(words(value(hb, "After")).count("hasys-executor.service"));
  auto ex = read_unit("hasys-executor.service");
  EXPECT_FALSE(words(value(ex, "After")).count("hasys-heartbeat.service")) << "that would be a cycle";
  EXPECT_EQ(value(ex, "KillMode"), "process") << "a restart of the executor must not kill the applications";
}

}  // namespace
