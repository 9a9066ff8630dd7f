// W5/W6 database and application nodes (start/stop scripts), W7 wait, W4 shared disk and W3 DRBD
// (mount/umount and drbdadm): everything that runs a program or just waits.
#include "resource.hpp"
#include "vip_resource.hpp"

#include <hasys/health/drbd_status.hpp>
#include <hasys/sys/process.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <fstream>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace hasys::executor {

// ---- defaults for resources that cannot be verified ----

asio::awaitable<verify_result> resource::check(const resource_context&) {
  co_return verify_result{flow::presence::unknown, "cannot be verified"};
}
asio::awaitable<verify_result> resource::release(const resource_context& c) { return check(c); }
asio::awaitable<change_result> resource::announce(const resource_context&, std::string) {
  co_return change_result{true, {}};
}
asio::awaitable<void> resource::run(const resource_context&) { co_return; }
asio::awaitable<std::vector<readiness_check>> resource::ready(const resource_context&) {
  co_return std::vector<readiness_check>{};
}

asio::awaitable<std::vector<readiness_check>> check_programs(resource_services& s,
                                                             std::vector<program_to_check> programs) {
  auto task = [programs] {
    std::vector<readiness_check> out;
    for (const auto& p : programs) {
      auto why = p.user.empty() ? sys::check_executable(p.path) : sys::check_executable(p.path, p.user);
      out.push_back({p.what, why.empty(), why.empty() ? p.path.string() + " is executable" : why});
    }
    return out;
  };
  auto done = co_await s.lanes.disk.run(std::move(task), 5s);
  if (done) co_return std::move(*done);
  std::vector<readiness_check> out;
  for (const auto& p : programs) out.push_back({p.what, false, p.path.string() + " could not be checked within 5 s"});
  co_return out;
}

namespace {

std::string last_lines(const std::string& out, std::size_t max_bytes = 2048) {
  return out.size() <= max_bytes ? out : "..." + out.substr(out.size() - max_bytes);
}

using sys::describe;

// Runs a program for a flow node and turns its outcome into a step_result and an event.
asio::awaitable<step_result> run_step(const resource_context& c, std::uint64_t epoch, const std::string& node_name,
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

// Common parts of every resource: the node's name, stop-on-error and timeout.
template <class Node>
class resource_base : public resource {
 public:
  explicit resource_base(Node n) : n_(std::move(n)) {}
  std::chrono::milliseconds timeout() const override { return n_.timeout; }

 protected:
  flow::node_spec base_spec(flow::resource_kind kind, bool observable = false) const {
    return {n_.name, kind, n_.stop_on_error, observable, {}, false};
  }
  Node n_;
};

class script_resource final : public resource_base<config::script_node> {
 public:
  script_resource(config::script_node n, resource_services& s) : resource_base(std::move(n)), s_(s) {}
  flow::node_spec spec() const override {
    return base_spec(n_.kind == config::script_kind::database ? flow::resource_kind::database
                                                              : flow::resource_kind::application);
  }
  // GCC 12: no braced temporaries inside a co_await expression (they are destroyed twice).
  asio::awaitable<step_result> up(const resource_context& c, std::uint64_t epoch) override {
    std::vector<std::string> argv{n_.start.string()};
    co_return co_await run_step(c, epoch, n_.name, label() + " start program", std::move(argv), n_.timeout, n_.user);
  }
  asio::awaitable<step_result> down(const resource_context& c, std::uint64_t epoch) override {
    std::vector<std::string> argv{n_.stop.string()};
    co_return co_await run_step(c, epoch, n_.name, label() + " stop program", std::move(argv), n_.timeout, n_.user);
  }
  asio::awaitable<std::vector<readiness_check>> ready(const resource_context&) override {
    std::vector<program_to_check> programs{{n_.name + " start program", n_.start, n_.user},
                                           {n_.name + " stop program", n_.stop, n_.user}};
    co_return co_await check_programs(s_, std::move(programs));
  }

 private:
  std::string label() const { return n_.kind == config::script_kind::database ? "Database" : "Application"; }
  resource_services& s_;
};

class wait_resource final : public resource_base<config::wait_node> {
 public:
  using resource_base::resource_base;
  flow::node_spec spec() const override { return base_spec(flow::resource_kind::wait); }
  asio::awaitable<step_result> up(const resource_context&, std::uint64_t) override { return sleep(); }
  asio::awaitable<step_result> down(const resource_context&, std::uint64_t) override { return sleep(); }

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

// The mount table is read on the disk lane: a hung NFS mount can stall reading it.
asio::awaitable<std::optional<bool>> mounted(resource_services& s, const std::filesystem::path& mp) {
  auto task = [mp] { return is_mounted(mp); };
  co_return co_await s.lanes.disk.run(std::move(task), 2s);
}

asio::awaitable<step_result> mount_step(const resource_context& c, resource_services& s, std::uint64_t epoch,
                                        const std::string& name, const std::string& device,
                                        const std::filesystem::path& mp, const std::string& fs_type,
                                        std::chrono::milliseconds timeout) {
  if (c.simulate) co_return step_result{true, "simulate: would mount " + device + " on " + mp.string()};
  auto m = co_await mounted(s, mp);
  if (m && *m) co_return step_result{true, mp.string() + " is already mounted"};
  std::error_code ec;
  std::filesystem::create_directories(mp, ec);
  std::vector<std::string> argv{"/bin/mount"};
  if (!fs_type.empty()) argv.insert(argv.end(), {"-t", fs_type});
  argv.insert(argv.end(), {device, mp.string()});
  co_return co_await run_step(c, epoch, name, "Shared disk mount", argv, timeout);
}

asio::awaitable<step_result> umount_step(const resource_context& c, resource_services& s, std::uint64_t epoch,
                                         const std::string& name, const std::filesystem::path& mp,
                                         std::chrono::milliseconds timeout) {
  if (c.simulate) co_return step_result{true, "simulate: would unmount " + mp.string()};
  auto m = co_await mounted(s, mp);
  if (m && !*m) co_return step_result{true, mp.string() + " is not mounted"};
  std::vector<std::string> argv{"/bin/umount", mp.string()};
  co_return co_await run_step(c, epoch, name, "Shared disk unmount", std::move(argv), timeout);
}

// D10 unmount confirmation: an unmount that fails (the file system is busy) is tried again every
// 200 ms until `wait` has passed, quietly after the first failure; the flow goes on down (and the
// peer is handed the service) only once the mount point is gone. wait 0: one attempt.
asio::awaitable<step_result> confirmed_umount(const resource_context& c, resource_services& s, std::uint64_t epoch,
                                              const std::string& name, const std::filesystem::path& mp,
                                              std::chrono::milliseconds timeout, std::chrono::milliseconds wait) {
  if (wait.count() == 0 || c.simulate) co_return co_await umount_step(c, s, epoch, name, mp, timeout);
  // Quiet attempts: a busy file system is said once, and then how it ended.
  resource_context quiet = c;
  quiet.events = nullptr;
  auto r = co_await umount_step(quiet, s, epoch, name, mp, timeout);
  if (r.ok) {
    if (c.events)
      c.events->event(c.group, cluster::severity::information, "program_ok",
                      "Shared disk unmount succeeded [" + name + ": " + r.detail + "]");
    co_return r;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string what = name + ": " + mp.string();
  const auto wait_s = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count());
  if (c.events)
    c.events->event(c.group, cluster::severity::warning, "disk_busy",
                    "Shared disk unmount is waited for [" + what + ": up to " + wait_s + " s; umount: " + r.detail + "]");
  int attempts = 1;
  asio::steady_timer pause(c.ex);
  while (std::chrono::steady_clock::now() - started < wait) {
    pause.expires_after(200ms);
    co_await pause.async_wait(asio::use_awaitable);
    r = co_await umount_step(quiet, s, epoch, name, mp, timeout);
    ++attempts;
    if (r.ok) break;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (r.ok) {
    if (c.events)
      c.events->event(c.group, cluster::severity::information, "disk_unmount_confirmed",
                      "Shared disk unmount is confirmed [" + what + ": after " + std::to_string(attempts) +
                          " attempts, " + std::to_string(took.count()) + " ms]");
    co_return step_result{true, mp.string() + " unmounted after " + std::to_string(attempts) + " attempts"};
  }
  if (c.events)
    c.events->event(c.group, cluster::severity::critical, "disk_unmount_unconfirmed",
                    "Shared disk could not be unmounted [" + what + ": " + std::to_string(attempts) +
                        " attempts in " + wait_s + " s; the peer is not handed the service; " + r.detail + "]");
  co_return step_result{false, "still mounted after " + std::to_string(attempts) + " unmount attempts in " + wait_s +
                                   " s: " + r.detail};
}

class shared_disk_resource final : public resource_base<config::shared_disk_node> {
 public:
  shared_disk_resource(config::shared_disk_node n, std::chrono::milliseconds confirm_wait, resource_services& s)
      : resource_base(std::move(n)), s_(s), confirm_wait_(confirm_wait) {}
  // Each attempt is bounded by the node's timeout; a confirmed unmount may try for its wait more.
  std::chrono::milliseconds timeout() const override { return n_.timeout + confirm_wait_; }
  // A real mount table can be read: the mount is verified. The simulate stand-in has none.
  flow::node_spec spec() const override {
    return base_spec(flow::resource_kind::shared_disk, !s_.addresses.simulated());
  }
  asio::awaitable<step_result> up(const resource_context& c, std::uint64_t epoch) override {
    return mount_step(c, s_, epoch, n_.name, n_.device, n_.mount_point, n_.fs_type, n_.timeout);
  }
  asio::awaitable<step_result> down(const resource_context& c, std::uint64_t epoch) override {
    return confirmed_umount(c, s_, epoch, n_.name, n_.mount_point, n_.timeout, confirm_wait_);
  }
  asio::awaitable<verify_result> check(const resource_context&) override {
    auto m = co_await mounted(s_, n_.mount_point);
    if (!m) co_return verify_result{flow::presence::unknown, "reading the mount table took over 2 s"};
    co_return verify_result{*m ? flow::presence::present : flow::presence::absent, {}};
  }
  asio::awaitable<verify_result> release(const resource_context& c) override {
    auto r = co_await umount_step(c, s_, 0, n_.name, n_.mount_point, n_.timeout);
    auto v = co_await check(c);
    if (v.seen != flow::presence::absent && !r.ok) v.error = "unmount failed: " + r.detail;
    co_return v;
  }
  // The device is there; the mount point is not already mounted here (a Standby that holds the
  // shared disk mounted would mount it twice on takeover).
  asio::awaitable<std::vector<readiness_check>> ready(const resource_context& c) override {
    std::vector<readiness_check> out;
    if (c.simulate) {
      out.push_back({n_.name + " device", true, "simulate: not checked"});
      co_return out;
    }
    std::error_code ec;
    const bool device = std::filesystem::exists(n_.device, ec);
    out.push_back({n_.name + " device", device, n_.device + (device ? " exists" : " does not exist")});
    auto m = co_await mounted(s_, n_.mount_point);
    if (!m) out.push_back({n_.name + " mount point", false, "reading the mount table took over 2 s"});
    else out.push_back({n_.name + " mount point", !*m, n_.mount_point.string() + (*m ? " is mounted on this node already" : " is free")});
    co_return out;
  }

 private:
  resource_services& s_;
  std::chrono::milliseconds confirm_wait_;
};

class drbd_resource final : public resource_base<config::drbd_node> {
 public:
  drbd_resource(config::drbd_node n, std::chrono::milliseconds confirm_wait, resource_services& s)
      : resource_base(std::move(n)), s_(s), confirm_wait_(confirm_wait) {}
  std::chrono::milliseconds timeout() const override { return n_.timeout + confirm_wait_; }
  flow::node_spec spec() const override { return base_spec(flow::resource_kind::drbd); }
  asio::awaitable<step_result> up(const resource_context& c, std::uint64_t epoch) override {
    if (c.simulate) co_return step_result{true, "simulate: would promote " + n_.resource};
    std::vector<std::string> argv{s_.drbdadm.string(), "primary", n_.resource};
    auto r = co_await run_step(c, epoch, n_.name, "DRBD promote", std::move(argv), n_.timeout);
    if (!r.ok || n_.mount_point.empty()) co_return r;
    const std::string device = "/dev/drbd" + std::to_string(n_.minor);
    const std::string no_type;
    co_return co_await mount_step(c, s_, epoch, n_.name, device, n_.mount_point, no_type, n_.timeout);
  }
  asio::awaitable<step_result> down(const resource_context& c, std::uint64_t epoch) override {
    if (c.simulate) co_return step_result{true, "simulate: would demote " + n_.resource};
    if (!n_.mount_point.empty()) {
      auto r = co_await confirmed_umount(c, s_, epoch, n_.name, n_.mount_point, n_.timeout, confirm_wait_);
      if (!r.ok) co_return r;
    }
    std::vector<std::string> argv{s_.drbdadm.string(), "secondary", n_.resource};
    co_return co_await run_step(c, epoch, n_.name, "DRBD demote", std::move(argv), n_.timeout);
  }
  // drbdadm and the device are there, and the resource is connected with both disks UpToDate: a
  // Standby whose copy is stale or cut off must not be the one to take over.
  asio::awaitable<std::vector<readiness_check>> ready(const resource_context& c) override {
    std::vector<readiness_check> out;
    if (c.simulate) {
      out.push_back({n_.name + " drbdadm", true, "simulate: tool and device not checked"});
    } else {
      std::vector<program_to_check> tool{{n_.name + " drbdadm", s_.drbdadm, ""}};
      out = co_await check_programs(s_, std::move(tool));
      const std::string device = "/dev/drbd" + std::to_string(n_.minor);
      std::error_code ec;
      const bool there = std::filesystem::exists(device, ec);
      out.push_back({n_.name + " device", there, device + (there ? " exists" : " does not exist")});
    }
    sys::run_options o;
    o.argv = {s_.drbdadm.string(), "status", n_.resource};
    o.timeout = 5s;
    auto r = co_await sys::run_process(c.ex, o);
    const std::string what = n_.name + " data sync";
    if (!r.ok()) {
      out.push_back({what, false, "cannot read DRBD's status: " + describe(r)});
      co_return out;
    }
    std::optional<health::drbd_resource_status> st;
    for (auto& x : health::parse_drbd_status(r.output))
      if (x.name == n_.resource) st = std::move(x);
    if (!st) out.push_back({what, false, "no resource " + n_.resource + " in drbdadm's status"});
    else out.push_back({what, st->connected() && st->up_to_date(), st->summary()});
    co_return out;
  }

 private:
  resource_services& s_;
  std::chrono::milliseconds confirm_wait_;
};

}  // namespace

std::unique_ptr<resource> make_resource(const config::flow_node& node, const config::group_config& group,
                                        resource_services& s) {
  struct maker {
    const config::group_config& group;
    resource_services& s;
    std::chrono::milliseconds wait(const std::filesystem::path& mp) const {
      return std::chrono::duration_cast<std::chrono::milliseconds>(config::unmount_wait(group, mp));
    }
    std::unique_ptr<resource> operator()(const config::vip_node& n) const { return std::make_unique<vip_resource>(n, s); }
    std::unique_ptr<resource> operator()(const config::script_node& n) const { return std::make_unique<script_resource>(n, s); }
    std::unique_ptr<resource> operator()(const config::wait_node& n) const { return std::make_unique<wait_resource>(n); }
    std::unique_ptr<resource> operator()(const config::shared_disk_node& n) const {
      return std::make_unique<shared_disk_resource>(n, wait(n.mount_point), s);
    }
    std::unique_ptr<resource> operator()(const config::drbd_node& n) const {
      return std::make_unique<drbd_resource>(n, wait(n.mount_point), s);
    }
  };
  return std::visit(maker{group, s}, node);
}

asio::awaitable<step_result> run_group_program(const resource_context& c, std::uint64_t epoch, std::string what,
                                               const std::filesystem::path& program,
                                               std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{program.string()};
  const std::string name = program.filename().string();
  co_return co_await run_step(c, epoch, name, std::move(what), std::move(argv), timeout);
}

}  // namespace hasys::executor
