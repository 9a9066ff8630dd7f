// Reading the machine for hasys-monitor: /proc, /sys/class/net, statvfs, netlink link state.
#include "system_probe.hpp"

#include <hasys/sys/address.hpp>
#include <hasys/sys/link.hpp>

#include <boost/asio/ip/address.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_set>

namespace hasys::monitor {

namespace {

// Reads a small file whole with one open/read/close (no iostreams: this runs for thousands of
// pids). Returns false when it cannot be read.
bool slurp(const std::string& path, std::string& out, std::size_t limit = 4096) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.resize(limit);
  std::size_t got = 0;
  for (;;) {
    auto n = ::read(fd, out.data() + got, limit - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
    if (got == limit) break;
  }
  ::close(fd);
  out.resize(got);
  return true;
}

std::string base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

std::uint64_t number_in(const std::filesystem::path& p) {
  try {
    return std::stoull(first_line(p));
  } catch (...) {
    return 0;
  }
}

}  // namespace

bool matches(const config::process_monitor& m, const process_entry& e) {
  if (m.match == config::process_match::cmdline)
    return !e.cmdline.empty() && e.cmdline.find(m.pattern) != std::string::npos;
  const std::string_view comm_pattern = std::string_view(m.pattern).substr(0, 15);
  return e.comm == comm_pattern || e.argv0 == m.pattern ||
         (!e.argv1.empty() && e.argv1 == m.pattern);
}

process_table::process_table(std::filesystem::path proc, std::chrono::seconds young,
                             std::chrono::seconds full_every)
    : proc_(std::move(proc)), young_(young), full_every_(full_every) {}

bool process_table::read_entry(int pid, process_entry& out) {
  const std::string dir = proc_.string() + "/" + std::to_string(pid);
  std::string stat;
  ++files_read_;
  if (!slurp(dir + "/stat", stat, 512)) return false;
  // "pid (comm) S ...": the state follows the last ')' (comm may hold parentheses).
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  if (stat[close + 2] == 'Z' || stat[close + 2] == 'X') return false;
  auto open = stat.find('(');
  out.pid = pid;
  out.comm = stat.substr(open + 1, close - open - 1);
  std::string raw;
  ++files_read_;
  slurp(dir + "/cmdline", raw, 4096);
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  std::vector<std::string_view> args;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= raw.size(); ++i) {
    if (i == raw.size() || raw[i] == '\0') {
      args.emplace_back(raw.data() + start, i - start);
      start = i + 1;
    }
  }
  out.cmdline.clear();
  for (auto a : args) {
    if (!out.cmdline.empty()) out.cmdline += ' ';
    out.cmdline += a;
  }
  if (raw.empty()) out.cmdline.clear();
  out.argv0 = raw.empty() ? std::string() : base_name(args[0]);
  out.argv1 = args.size() > 1 && args[1].find('/') != std::string_view::npos && args[1][0] != '-'
                  ? base_name(args[1])
                  : std::string();
  return true;
}

void process_table::refresh(std::chrono::steady_clock::time_point now) {
  files_read_ = 0;
  const bool full = now - last_full_ >= full_every_;
  if (full) last_full_ = now;
  std::unordered_set<int> seen;
  DIR* d = ::opendir(proc_.c_str());
  if (!d) return;
  while (auto* ent = ::readdir(d)) {
    const char* n = ent->d_name;
    if (*n < '1' || *n > '9') continue;
    char* end = nullptr;
    const long pid = std::strtol(n, &end, 10);
    if (*end != '\0') continue;
    seen.insert(static_cast<int>(pid));
    auto it = known_.find(static_cast<int>(pid));
    const bool reread = it == known_.end() || full || now - it->second.first_seen < young_;
    if (!reread) continue;
    process_entry e;
    if (!read_entry(static_cast<int>(pid), e)) {
      if (it != known_.end()) known_.erase(it);
      continue;
    }
    if (it == known_.end()) {
      const bool user = !e.cmdline.empty();
      known_.emplace(static_cast<int>(pid), known{std::move(e), now, user});
    } else {
      it->second.e = std::move(e);
      it->second.user = !it->second.e.cmdline.empty();
    }
  }
  ::closedir(d);
  std::erase_if(known_, [&](const auto& kv) { return !seen.contains(kv.first); });
}

std::size_t process_table::user_processes() const {
  std::size_t n = 0;
  for (const auto& [pid, k] : known_) n += k.user ? 1 : 0;
  return n;
}

std::optional<int> cpu_meter::sample() {
  std::string text;
  if (!slurp((proc_ / "stat").string(), text, 1024)) return std::nullopt;
  std::istringstream in(text);
  std::string cpu;
  in >> cpu;
  if (cpu != "cpu") return std::nullopt;
  std::uint64_t v[8] = {};
  for (auto& x : v) in >> x;
  const std::uint64_t total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  const std::uint64_t idle = v[3] + v[4];
  const std::uint64_t busy = total - idle;
  auto last = last_;
  last_ = std::make_pair(busy, total);
  if (!last || total <= last->second) return std::nullopt;
  const double pct =
      100.0 * static_cast<double>(busy - last->first) / static_cast<double>(total - last->second);
  return static_cast<int>(pct + 0.5);
}

std::optional<int> memory_percent(const std::filesystem::path& proc) {
  std::ifstream in(proc / "meminfo");
  std::string key;
  std::uint64_t value = 0, total = 0, available = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemTotal:") total = value;
    if (key == "MemAvailable:") available = value;
  }
  if (total == 0 || available > total) return std::nullopt;
  return static_cast<int>(
      100.0 * static_cast<double>(total - available) / static_cast<double>(total) + 0.5);
}

std::string check_network(const config::network_monitor& m) {
  auto idx = sys::interface_index(m.interface);
  if (!idx) return m.interface + " does not exist";
  auto l = sys::link(*idx);
  if (!l) return "cannot read the state of " + m.interface + ": " + l.error().message();
  if (!l->admin_up) return m.interface + " is down";
  if (!l->carrier) return m.interface + " has no carrier";
  if (m.ip.empty()) return "";
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(m.ip, ec);
  if (ec) return m.ip + " is not an address";
  auto has = sys::has_address(*idx, ip);
  if (!has) return "cannot read the addresses of " + m.interface + ": " + has.error().message();
  if (!*has) return m.ip + " is not on " + m.interface;
  return "";
}

std::vector<proto::interface_metrics> interfaces() {
  std::vector<proto::interface_metrics> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net", ec)) {
    proto::interface_metrics m;
    m.name = e.path().filename().string();
    m.up = first_line(e.path() / "operstate") == "up" || (m.name == "lo");
    m.rx_bytes = number_in(e.path() / "statistics" / "rx_bytes");
    m.tx_bytes = number_in(e.path() / "statistics" / "tx_bytes");
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

namespace {

// Undoes the kernel's escapes of a path field (space, tab, newline, backslash as \ooo).
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::unordered_set<std::string> mount_points(const std::filesystem::path& mountinfo) {
  std::unordered_set<std::string> out;
  std::ifstream in(mountinfo);
  // fields: id parent major:minor root mount-point options ...
  for (std::string line; std::getline(in, line);) {
    std::size_t pos = 0;
    for (int field = 0; field < 4 && pos != std::string::npos; ++field) {
      pos = line.find(' ', pos);
      if (pos != std::string::npos) ++pos;
    }
    if (pos == std::string::npos) continue;
    const auto end = line.find(' ', pos);
    out.insert(unescape_octal(std::string_view(line).substr(pos, end - pos)));
  }
  return out;
}

std::vector<proto::filesystem_metrics> filesystems() {
  std::vector<proto::filesystem_metrics> out;
  std::ifstream in("/proc/self/mounts");
  std::string device, mount_point, type, rest;
  std::unordered_set<std::string> seen;
  while (in >> device >> mount_point >> type) {
    std::getline(in, rest);
    if (device.rfind("/dev/", 0) != 0 || !seen.insert(mount_point).second) continue;
    struct statvfs st {};
    if (::statvfs(mount_point.c_str(), &st) != 0 || st.f_blocks == 0) continue;
    proto::filesystem_metrics m;
    m.mount_point = mount_point;
    m.device = device;
    m.size_bytes = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
    const auto free_bytes = static_cast<std::uint64_t>(st.f_bfree) * st.f_frsize;
    m.used_bytes = m.size_bytes - free_bytes;
    m.used_percent = static_cast<int>(
        100.0 * static_cast<double>(m.used_bytes) / static_cast<double>(m.size_bytes) + 0.5);
    out.push_back(std::move(m));
  }
  return out;
}

proto::node_facts facts() {
  proto::node_facts f;
  f.hardware_model = first_line("/sys/class/dmi/id/product_name");
  std::ifstream os("/etc/os-release");
  for (std::string line; std::getline(os, line);) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    f.os = line.substr(12);
    if (f.os.size() >= 2 && f.os.front() == '"') f.os = f.os.substr(1, f.os.size() - 2);
  }
  struct utsname u {};
  if (::uname(&u) == 0) f.kernel = u.release;
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon != std::string::npos)
      f.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
    break;
  }
  f.cpu_count = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream mem("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  if (mem >> key >> kib && key == "MemTotal:") f.memory_bytes = kib * 1024;
  return f;
}

}  // namespace hasys::monitor
