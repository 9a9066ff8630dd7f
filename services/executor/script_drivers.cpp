// W5/W6 database and application nodes (start/stop scripts), W7 wait, W4 shared disk and W3 DRBD
// (mount/umount and drbdadm): everything that runs a program or just waits.
#include "flow_driver.hpp"
#include "vip_driver.hpp"

#include <hasys/sys/process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <fstream>

namespace asio = boost::asio;

namespace hasys::executor {

namespace {

std::string last_lines(const std::string& out, std::size_t max_bytes = 2048) {
  return out.size() <= max_bytes ? out : "..." + out.substr(out.size() - max_bytes);
}

std::string describe(const sys::run_result& r) {
  if (!r.started) return r.error;
  if (r.timed_out) return "timed out after " + std::to_string(r.elapsed.count()) + " ms";
  if (r.signal) return "killed by signal " + std::to_string(r.signal);
  return "exit " + std::to_string(r.exit_code);
}

// Runs a program for a flow node and turns its outcome into a step_result and an event.
asio::awaitable<step_result> run_step(const flow_context& c, std::uint64_t epoch, const std::string& node_name,
                                      std::string what, std::vector<std::string> argv,
                                      std::chrono::milliseconds timeout, std::string user = {}) {
  sys::run_options o;
  o.argv = std::move(argv);
  if (!user.empty()) o.user = user;
  o.timeout = timeout;
  o.env = {{"HASYS_GROUP", c.group}, {"HASYS_NODE", c.node}, {"HASYS_PEER", c.peer},
           {"HASYS_EPOCH", std::to_string(epoch)}, {"HASYS_FLOW_NODE", node_name}};
  auto r = co_await sys::run_process(c.ex, o);
  const std::string outcome = describe(r);
  if (c.events) {
    std::map<std::string, std::string> details{{"command", o.argv.front()}, {"result", outcome},
                                               {"elapsed_ms", std::to_string(r.elapsed.count())}};
    if (!r.output.empty()) details["output"] = last_lines(r.output);
    c.events->event(c.group, r.ok() ? cluster::severity::information : cluster::severity::critical,
                    r.ok() ? "program_ok" : "program_failed",
                    what + (r.ok() ? " succeeded [" : " failed [") + node_name + ": " + outcome + "]",
                    std::move(details));
  }
  co_return step_result{r.ok(), outcome};
}

// Common parts of every driver: the node's name, stop-on-error and timeout.
template <class Node>
class driver_base : public flow_driver {
 public:
  explicit driver_base(Node n) : n_(std::move(n)) {}
  const std::string& name() const override { return n_.name; }
  bool stop_on_error() const override { return n_.stop_on_error; }
  std::chrono::milliseconds timeout() const override { return n_.timeout; }

 protected:
  Node n_;
};

class script_driver final : public driver_base<config::script_node> {
 public:
  using driver_base::driver_base;
  std::string_view kind() const override {
    return n_.kind == config::script_kind::database ? "database" : "application";
  }
  // GCC 12: no braced temporaries inside a co_await expression (they are destroyed twice).
  asio::awaitable<step_result> up(const flow_context& c, std::uint64_t epoch) override {
    std::vector<std::string> argv{n_.start.string()};
    co_return co_await run_step(c, epoch, n_.name, label() + " start program", std::move(argv),
                                n_.timeout, n_.user);
  }
  asio::awaitable<step_result> down(const flow_context& c, std::uint64_t epoch) override {
    std::vector<std::string> argv{n_.stop.string()};
    co_return co_await run_step(c, epoch, n_.name, label() + " stop program", std::move(argv),
                                n_.timeout, n_.user);
  }

 private:
  std::string label() const { return n_.kind == config::script_kind::database ? "Database" : "Application"; }
};

class wait_driver final : public driver_base<config::wait_node> {
 public:
  using driver_base::driver_base;
  std::string_view kind() const override { return "wait"; }
  asio::awaitable<step_result> up(const flow_context&, std::uint64_t) override { return sleep(); }
  asio::awaitable<step_result> down(const flow_context&, std::uint64_t) override { return sleep(); }

 private:
  asio::awaitable<step_result> sleep() {
    asio::steady_timer t(co_await asio::this_coro::executor, n_.wait);
    co_await t.async_wait(asio::use_awaitable);
    co_return step_result{true, "waited " + std::to_string(n_.wait.count()) + " s"};
  }
};

bool is_mounted(const std::filesystem::path& mount_point) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string want = " " + mount_point.lexically_normal().string() + " ";
  while (std::getline(in, line)) {
    // fields: id parent major:minor root mount-point ...
    std::size_t at = 0;
    for (int field = 0; field < 4 && at != std::string::npos; ++field) at = line.find(' ', at + 1);
    if (at != std::string::npos && line.compare(at, want.size(), want) == 0) return true;
  }
  return false;
}

asio::awaitable<step_result> mount_step(const flow_context& c, std::uint64_t epoch, const std::string& name,
                                        const std::string& device, const std::filesystem::path& mp,
                                        const std::string& fs_type, std::chrono::milliseconds timeout) {
  if (c.simulate) co_return step_result{true, "simulate: would mount " + device + " on " + mp.string()};
  if (is_mounted(mp)) co_return step_result{true, mp.string() + " is already mounted"};
  std::error_code ec;
  std::filesystem::create_directories(mp, ec);
  std::vector<std::string> argv{"/bin/mount"};
  if (!fs_type.empty()) argv.insert(argv.end(), {"-t", fs_type});
  argv.insert(argv.end(), {device, mp.string()});
  co_return co_await run_step(c, epoch, name, "Shared disk mount", argv, timeout);
}

asio::awaitable<step_result> umount_step(const flow_context& c, std::uint64_t epoch, const std::string& name,
                                         const std::filesystem::path& mp, std::chrono::milliseconds timeout) {
  if (c.simulate) co_return step_result{true, "simulate: would unmount " + mp.string()};
  if (!is_mounted(mp)) co_return step_result{true, mp.string() + " is not mounted"};
  std::vector<std::string> argv{"/bin/umount", mp.string()};
  co_return co_await run_step(c, epoch, name, "Shared disk unmount", std::move(argv), timeout);
}

class shared_disk_driver final : public driver_base<config::shared_disk_node> {
 public:
  using driver_base::driver_base;
  std::string_view kind() const override { return "shared_disk"; }
  asio::awaitable<step_result> up(const flow_context& c, std::uint64_t epoch) override {
    return mount_step(c, epoch, n_.name, n_.device, n_.mount_point, n_.fs_type, n_.timeout);
  }
  asio::awaitable<step_result> down(const flow_context& c, std::uint64_t epoch) override {
    return umount_step(c, epoch, n_.name, n_.mount_point, n_.timeout);
  }
  std::optional<bool> held(const flow_context& c) const override {
    return c.simulate ? std::nullopt : std::optional<bool>(is_mounted(n_.mount_point));
  }
};

class drbd_driver final : public driver_base<config::drbd_node> {
 public:
  using driver_base::driver_base;
  std::string_view kind() const override { return "drbd"; }
  asio::awaitable<step_result> up(const flow_context& c, std::uint64_t epoch) override {
    if (c.simulate) co_return step_result{true, "simulate: would promote " + n_.resource};
    std::vector<std::string> argv{"/usr/sbin/drbdadm", "primary", n_.resource};
    auto r = co_await run_step(c, epoch, n_.name, "DRBD promote", std::move(argv), n_.timeout);
    if (!r.ok || n_.mount_point.empty()) co_return r;
    const std::string device = "/dev/drbd" + std::to_string(n_.minor);
    const std::string no_type;
    co_return co_await mount_step(c, epoch, n_.name, device, n_.mount_point, no_type, n_.timeout);
  }
  asio::awaitable<step_result> down(const flow_context& c, std::uint64_t epoch) override {
    if (c.simulate) co_return step_result{true, "simulate: would demote " + n_.resource};
    if (!n_.mount_point.empty()) {
      auto r = co_await umount_step(c, epoch, n_.name, n_.mount_point, n_.timeout);
      if (!r.ok) co_return r;
    }
    std::vector<std::string> argv{"/usr/sbin/drbdadm", "secondary", n_.resource};
    co_return co_await run_step(c, epoch, n_.name, "DRBD demote", std::move(argv), n_.timeout);
  }
};

}  // namespace

std::unique_ptr<flow_driver> make_driver(const config::flow_node& node) {
  struct maker {
    std::unique_ptr<flow_driver> operator()(const config::vip_node& n) const { return std::make_unique<vip_driver>(n); }
    std::unique_ptr<flow_driver> operator()(const config::script_node& n) const { return std::make_unique<script_driver>(n); }
    std::unique_ptr<flow_driver> operator()(const config::wait_node& n) const { return std::make_unique<wait_driver>(n); }
    std::unique_ptr<flow_driver> operator()(const config::shared_disk_node& n) const { return std::make_unique<shared_disk_driver>(n); }
    std::unique_ptr<flow_driver> operator()(const config::drbd_node& n) const { return std::make_unique<drbd_driver>(n); }
  };
  return std::visit(maker{}, node);
}

// Runs a group-level program (W8 common start/stop, D12 failover condition) with an event.
asio::awaitable<step_result> run_group_program(const flow_context& c, std::uint64_t epoch, std::string what,
                                               const std::filesystem::path& program,
                                               std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{program.string()};
  const std::string name = program.filename().string();
  co_return co_await run_step(c, epoch, name, std::move(what), std::move(argv), timeout);
}

}  // namespace hasys::executor
