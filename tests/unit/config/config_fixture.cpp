// Test helpers: temporary folders, key and script files, the full example of the format.
#include "config_fixture.hpp"

#include <stdlib.h>

#include <fstream>

namespace hasys::config::test {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::vector<config_error>& errors) {
  std::vector<std::string> out;
  out.reserve(errors.size());
  for (const auto& e : errors) out.push_back(e.to_string());
  return out;
}

std::string replace_once(std::string text, std::string_view from, std::string_view to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "not found: " << from;
  if (at == std::string::npos) return text;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "found twice: " << from;
  return text.replace(at, from.size(), to);
}

bool has_error(const std::vector<std::string>& lines, std::string_view key,
               std::initializer_list<std::string_view> fragments) {
  std::string prefix = std::string(key) + ": ";
  for (const auto& l : lines) {
    if (l.rfind(prefix, 0) != 0) continue;
    bool all = true;
    for (auto f : fragments) all = all && l.find(f) != std::string::npos;
    if (all) return true;
  }
  return false;
}

void config_test::SetUp() {
  std::string tmpl = (fs::temp_directory_path() / "hasys-config-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  dir_ = tmpl;
  write("keys/GROUP-Linux.key", std::string(64, 'a') + "\n");
  write_script("scripts/HA_APP_FCONDITION");
  write_script("scripts/HA_APP_COMSRT");
  write_script("scripts/web-start.sh");
  write_script("scripts/web-stop.sh");
  write_script("scripts/db-start.sh");
  write_script("scripts/db-stop.sh");
  write_script("scripts/app-start.sh");
}

void config_test::TearDown() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

fs::path config_test::write(const std::string& relative, std::string_view text, fs::perms mode) {
  fs::path p = dir_ / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  fs::permissions(p, mode);
  return p;
}

fs::path config_test::write_script(const std::string& relative, bool executable) {
  auto mode = fs::perms::owner_read | fs::perms::owner_write;
  if (executable) mode |= fs::perms::owner_exec;
  return write(relative, "#!/bin/sh\nexit 0\n", mode);
}

std::string config_test::full_file() const {
  std::string d = dir_.string();
  return R"([node]
name = "node-a"
state_dir = "/var/lib/hasys"
command_dir = "/var/lib/hasys/cmd"
bus_url = "nats://127.0.0.1:4222"
control_socket_dir = "/run/hasys"

[manager]
enabled = true
address = "198.51.100.10"
port = 7422

[log]
enabled = true
size_mb = 20

[[group]]
name = "GROUP-Linux"
peer = "node-b"
key_file = "keys/GROUP-Linux.key"
mode = "manual"
active_priority = true
polling_period = "100ms"
polling_count = 3
gateway = "198.51.100.1"
public_interface = "eth0"
flow_timeout = "5m"
shared_disk_wait = "90s"
failover_condition = true
failover_condition_script = ")" +
         d + R"(/scripts/HA_APP_FCONDITION"
failover_condition_wait = "45s"
drbd_reconnect_count = 5
drbd_reconnect_interval = "20s"
common_start = ")" +
         d + R"(/scripts/HA_APP_COMSRT"
common_start_wait = "30s"

[group.heartbeat]
self = "192.0.2.11"
peer = "192.0.2.12"
port = 29954

[group.public]
self = "198.51.100.11"
peer = "198.51.100.12"
port = 29955

[[group.flow]]
type = "vip"
name = "svc-vip"
ip = "198.51.100.100"
prefix = 24
interface = "eth0"
interface_override = "node-a=eth0,node-b=ens192"
stop_on_error = true
timeout = "10s"

[[group.flow]]
type = "application"
name = "web"
start = ")" +
         d + R"(/scripts/web-start.sh"
stop = ")" +
         d + R"(/scripts/web-stop.sh"
user = "root"
timeout = "30s"

[[group.flow]]
type = "database"
name = "db"
start = ")" +
         d + R"(/scripts/db-start.sh"
stop = ")" +
         d + R"(/scripts/db-stop.sh"
stop_on_error = false

[[group.flow]]
type = "wait"
name = "settle"
seconds = 5

[[group.flow]]
type = "shared_disk"
name = "data"
device = "/dev/loop7"
mount_point = "/srv/data"
fs_type = "ext4"

[[group.flow]]
type = "drbd"
name = "r0"
resource = "r0"
minor = 0
mount_point = "/srv/drbd0"
)";
}

std::string config_test::monitor_file() const {
  return full_file() + R"(
[group.monitor]
period = "500ms"
process_policy = "all"
network_policy = "one"

[[group.monitor.process]]
name = "app"
match = "cmdline"
pattern = "java -jar /opt/app/app.jar"
managed = true
recovery = true
start = ")" +
         (dir_ / "scripts/app-start.sh").string() +
         R"( --port 8080"
user = "root"
start_time = "30s"
retries = 5
reboot_after_failover = true

[[group.monitor.process]]
name = "workers"
pattern = "nginx"
multi = true
min = 2
max = 8
on = "both"

[[group.monitor.load]]
resource = "cpu"
limit = 95
repeat = 5
start_delay = "2m"
managed = true

[[group.monitor.load]]
resource = "memory"
limit = 80

[[group.monitor.network]]
name = "pub"
interface = "eth0"
ip = "198.51.100.11"
managed = true

[[group.monitor.network]]
name = "backup"
interface = "eth1"

[[group.monitor.disk]]
name = "data"
mount_point = "/srv/data"
managed = true

[[group.monitor.disk]]
name = "drbd0"
mount_point = "/srv/drbd0"
unmount_confirm = false
)";
}

std::vector<std::string> config_test::errors_of(std::string_view text) const {
  auto r = parse_text(text);
  EXPECT_FALSE(r.config.has_value()) << "expected errors, got a config";
  return lines_of(r.errors);
}

node_config config_test::full_config() const {
  auto r = parse_text(full_file());
  EXPECT_TRUE(r.config.has_value()) << ::testing::PrintToString(lines_of(r.errors));
  return r.config.value_or(node_config{});
}

}  // namespace hasys::config::test
