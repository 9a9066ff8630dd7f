// inotify watch of the command folders: a .DAT file that appears is consumed (deleted) and its
// command handed on; unknown files are left alone.
#include "command_files.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/inotify.h>

#include <array>
#include <map>
#include <stdexcept>

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace hasys::heartbeat {

std::optional<cluster::command_kind> command_of_file(std::string_view f) {
  using k = cluster::command_kind;
  if (f == "HA_MANUAL_FAILOVER.DAT") return k::manual_failover;
  if (f == "HA_FORCE_FAILOVER_BACKUP.DAT") return k::partition_standby;
  if (f == "HA_FORCE_FAILOVER_ONLINE.DAT") return k::partition_active;
  if (f == "HA_STRONG_FAILOVER_BACKUP.DAT") return k::forced_standby;
  if (f == "HA_STRONG_FAILOVER_ONLINE.DAT") return k::forced_active;
  return std::nullopt;
}

struct command_files::impl {
  asio::posix::stream_descriptor fd;
  fs::path dir;
  handler on_command;
  std::map<int, std::string> watch_group;  // watch descriptor -> group ("" = every group)
  bool stopped = false;

  impl(asio::any_io_executor ex, fs::path d, handler h) : fd(ex), dir(std::move(d)), on_command(std::move(h)) {}

  void consume(const std::string& group, const std::string& name) {
    auto kind = command_of_file(name);
    if (!kind) return;
    const fs::path file = group.empty() ? dir / name : dir / group / name;
    std::error_code ec;
    if (!fs::remove(file, ec)) return;  // someone else consumed it, or it is already gone
    on_command(group, *kind, file.string());
  }
};

command_files::command_files(asio::any_io_executor ex, fs::path dir, std::vector<std::string> groups,
                             handler on_command, std::function<void(const std::string&)> on_stale)
    : impl_(std::make_shared<impl>(ex, std::move(dir), std::move(on_command))) {
  auto& s = *impl_;
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) throw std::runtime_error("command folder: inotify_init1 failed");
  s.fd.assign(fd);
  groups.insert(groups.begin(), std::string{});
  for (const auto& g : groups) {
    const fs::path d = g.empty() ? s.dir : s.dir / g;
    fs::create_directories(d);
    for (const auto& entry : fs::directory_iterator(d)) {
      const auto name = entry.path().filename().string();
      if (!command_of_file(name)) continue;
      std::error_code ec;
      fs::remove(entry.path(), ec);
      on_stale(entry.path().string());
    }
    const int wd = inotify_add_watch(fd, d.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
    if (wd < 0) throw std::runtime_error("command folder: cannot watch " + d.string());
    s.watch_group[wd] = g;
  }
}

command_files::~command_files() { stop(); }

asio::awaitable<void> command_files::run() {
  auto self = impl_;
  alignas(inotify_event) std::array<char, 4096> buf;
  while (!self->stopped) {
    auto [ec, n] = co_await self->fd.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (self->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) throw std::runtime_error("command folder: " + ec.message());
    for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + at);
      at += sizeof(inotify_event) + ev->len;
      if (ev->len == 0) continue;
      auto g = self->watch_group.find(ev->wd);
      if (g != self->watch_group.end()) self->consume(g->second, ev->name);
    }
  }
}

void command_files::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->fd.close(ec);
}

}  // namespace hasys::heartbeat
