// The reconcile loop of one group: desired state in, flow runs out, observed state back.
#include "group_flow.hpp"

#include <hasys/daemon/spawn.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace hasys::executor {

namespace {

std::chrono::milliseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t);
}

std::string kernel_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace

flow_journal read_journal(const std::filesystem::path& file) {
  flow_journal j;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(text.str(), ec);
  if (ec || !v.is_object()) return j;
  const auto& o = v.get_object();
  auto num = [&](const char* k) -> std::int64_t {
    auto* x = o.if_contains(k);
    return x && x->is_int64() ? x->get_int64() : x && x->is_uint64() ? static_cast<std::int64_t>(x->get_uint64()) : 0;
  };
  j.up_count = static_cast<std::size_t>(num("up_count"));
  j.acting_epoch = static_cast<std::uint64_t>(num("acting_epoch"));
  j.fenced_epoch = static_cast<std::uint64_t>(num("fenced_epoch"));
  j.failed_up_epoch = static_cast<std::uint64_t>(num("failed_up_epoch"));
  j.failed_down_epoch = static_cast<std::uint64_t>(num("failed_down_epoch"));
  j.in_progress = o.contains("in_progress") ? static_cast<int>(num("in_progress")) : -1;
  j.in_progress_up = o.contains("in_progress_up") && o.at("in_progress_up").is_bool() && o.at("in_progress_up").get_bool();
  j.watchdog_ms = num("watchdog_ms");
  if (auto* b = o.if_contains("machine_boot"); b && b->is_string()) j.machine_boot = std::string(b->get_string());
  return j;
}

void write_journal(const std::filesystem::path& file, const flow_journal& j) {
  json::object o{{"up_count", j.up_count}, {"acting_epoch", j.acting_epoch}, {"fenced_epoch", j.fenced_epoch},
                 {"failed_up_epoch", j.failed_up_epoch}, {"failed_down_epoch", j.failed_down_epoch},
                 {"in_progress", j.in_progress}, {"in_progress_up", j.in_progress_up},
                 {"watchdog_ms", j.watchdog_ms}, {"machine_boot", j.machine_boot}};
  std::filesystem::create_directories(file.parent_path());
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(o) << "\n";
  }
  std::filesystem::rename(tmp, file);
}

struct group_flow::timers {
  asio::steady_timer wake;
  asio::steady_timer watchdog;
  explicit timers(asio::any_io_executor ex)
      : wake(ex, asio::steady_timer::time_point::max()), watchdog(ex) {}
};

group_flow::group_flow(asio::any_io_executor ex, const config::node_config& node,
                       const config::group_config& group, event_sink& events, bool simulate, reporter report)
    : group_(group), report_(std::move(report)), timers_(std::make_unique<timers>(ex)) {
  context_.ex = ex;
  context_.group = group.name;
  context_.node = node.name;
  context_.peer = group.peer_name;
  context_.peer_public_address = group.public_net.peer_address;
  context_.events = &events;
  context_.simulate = simulate;
  context_.lost = [this](const std::string& why) { fence_now(why); };
  for (const auto& n : group.flow) drivers_.push_back(make_driver(n));
  journal_file_ = node.state_dir / "executor" / (group.name + ".json");
  common_marker_ = node.state_dir / "executor" / (group.name + ".common_start");
  journal_ = read_journal(journal_file_);
  // After a reboot of the machine nothing of the old flow runs or is configured any more.
  if (const auto boot = kernel_boot_id(); !boot.empty() && journal_.machine_boot != boot) {
    if (!journal_.machine_boot.empty()) journal_ = flow_journal{};
    journal_.machine_boot = boot;
  }
  // A node cut short by a restart: a start is counted as done (never run twice), a stop as done.
  if (journal_.in_progress >= 0) {
    const auto i = static_cast<std::size_t>(journal_.in_progress);
    if (journal_.in_progress_up && i < drivers_.size()) {
      journal_.up_count = std::max(journal_.up_count, i + 1);
      events.event(group.name, cluster::severity::warning, "flow_interrupted",
                   "Resource flow node was interrupted by an executor restart [" + drivers_[i]->name() +
                       "]: counted as started, not run again");
    } else {
      journal_.up_count = std::min(journal_.up_count, i);
    }
    journal_.in_progress = -1;
  }
  // Whatever a driver can see held is part of the flow to bring down (a leftover VIP).
  for (std::size_t i = 0; i < drivers_.size(); ++i)
    if (auto h = drivers_[i]->held(context_); h && *h) journal_.up_count = std::max(journal_.up_count, i + 1);
  journal_.up_count = std::min(journal_.up_count, drivers_.size());
  save();
  observed_ = {group.name, journal_.acting_epoch, journal_.up_count > 0, proto::flow_phase::idle, {}};
}

group_flow::~group_flow() = default;

void group_flow::start() {
  desired_at_ = std::chrono::steady_clock::now();
  const std::string tag = "group " + name();
  daemon::spawn_or_die(context_.ex, reconcile_loop(), tag + " flow");
  daemon::spawn_or_die(context_.ex, watchdog_loop(), tag + " watchdog");
  for (auto& d : drivers_) daemon::spawn_or_die(context_.ex, d->run(context_), tag + " " + d->name());
  if (!group_.common_start.empty()) {
    common_started_ = false;
    daemon::spawn_or_die(context_.ex, common_start_at_boot(), tag + " common start");
  }
}

void group_flow::desired(const proto::desired_state& d) {
  const bool changed = !desired_ || desired_->epoch != d.epoch || desired_->up != d.up || desired_->handover != d.handover;
  const bool announce = desired_ && desired_->announce != d.announce && d.up;
  desired_ = d;
  if (announce)  // drivers act only on what they hold
    for (auto& driver : drivers_) driver->announce_again(context_);
  desired_at_ = std::chrono::steady_clock::now();
  if (d.watchdog_ms != journal_.watchdog_ms) {
    journal_.watchdog_ms = d.watchdog_ms;
    save();
  }
  if (changed) wake();
  report_(observed_);  // level-triggered: every desired state gets the current answer
}

void group_flow::heartbeat_lost(const std::string& why) {
  desired_.reset();  // stale from now on: nothing moves up until the heartbeat speaks again
  if (journal_.up_count > 0) fence_now(why);
  wake();
}

void group_flow::fence_now(const std::string& why) {
  if (fence_reason_) return;
  fence_reason_ = why;
  for (auto& d : drivers_) d->release_now(context_);  // clients lose the address first, at once
  context_.events->event(name(), cluster::severity::critical, "fenced",
                         "Resources released by the executor [" + why + "]");
  wake();
}

void group_flow::wake() { timers_->wake.cancel(); }

void group_flow::save() {
  try {
    write_journal(journal_file_, journal_);
  } catch (const std::exception& e) {
    context_.events->event(name(), cluster::severity::warning, "journal",
                           std::string("Resource flow journal not written [") + e.what() + "]");
  }
}

void group_flow::report(proto::flow_phase phase, std::uint64_t epoch, bool up, std::string detail) {
  proto::observed_state o{name(), epoch, up, phase, std::move(detail)};
  if (o == observed_) return;
  observed_ = std::move(o);
  report_(observed_);
}

group_flow::target group_flow::wanted() const {
  if (!desired_) return target::hold;
  const auto e = desired_->epoch;
  if (desired_->up) return e == journal_.fenced_epoch || e == journal_.failed_up_epoch ? target::hold : target::up;
  return journal_.up_count > 0 && e == journal_.failed_down_epoch ? target::hold : target::down;
}

asio::awaitable<void> group_flow::reconcile_loop() {
  for (;;) {
    if (fence_reason_) {
      co_await fence();
      continue;
    }
    const auto t = wanted();
    if (t == target::up && common_started_) {
      if (journal_.up_count < drivers_.size() || journal_.acting_epoch != desired_->epoch ||
          observed_.phase != proto::flow_phase::done || !observed_.up) {
        co_await run_up(desired_->epoch);
        continue;
      }
    } else if (t == target::down) {
      if (journal_.up_count > 0) {
        co_await run_down(desired_->epoch, desired_->handover);
        continue;
      }
      report(proto::flow_phase::done, desired_->epoch, false);
    }
    timers_->wake.expires_at(asio::steady_timer::time_point::max());
    co_await timers_->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<step_result> group_flow::run_node(std::size_t i, bool up, std::uint64_t epoch) {
  journal_.in_progress = static_cast<int>(i);
  journal_.in_progress_up = up;
  save();
  auto& d = *drivers_[i];
  asio::steady_timer deadline(context_.ex, d.timeout());
  // Named first: GCC 12 destroys a conditional's temporary awaitable twice inside co_await.
  asio::awaitable<step_result> op = up ? d.up(context_, epoch) : d.down(context_, epoch);
  auto r = co_await (std::move(op) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  journal_.in_progress = -1;
  if (r.index() == 1)
    co_return step_result{false, std::string(d.kind()) + " " + d.name() + " timed out after " +
                                     std::to_string(d.timeout().count()) + " ms"};
  co_return std::get<0>(r);
}

asio::awaitable<void> group_flow::run_up(std::uint64_t epoch) {
  const auto started = std::chrono::steady_clock::now();
  journal_.acting_epoch = epoch;
  save();
  report(proto::flow_phase::running, epoch, true);
  for (std::size_t i = 0; i < drivers_.size(); ++i) {
    if (fence_reason_ || wanted() != target::up || desired_->epoch != epoch) co_return;  // re-decide
    // A journalled node is up unless its driver can see otherwise (a VIP lost to a reboot or
    // to its lease): that one is brought up again; scripts are never run twice.
    if (i < journal_.up_count) {
      auto held = drivers_[i]->held(context_);
      if (!held || *held) continue;
    }
    auto r = co_await run_node(i, true, epoch);
    journal_.up_count = std::max(journal_.up_count, i + 1);  // a failed start may hold something
    save();
    if (r.ok) continue;
    const auto& d = *drivers_[i];
    if (d.stop_on_error()) {
      journal_.failed_up_epoch = epoch;
      save();
      context_.events->event(name(), cluster::severity::critical, "flow_stopped",
                             "Resource flow stopped on error [" + d.name() + ": " + r.detail + "]");
      report(proto::flow_phase::failed, epoch, true, d.name() + ": " + r.detail);
      co_return;
    }
    context_.events->event(name(), cluster::severity::warning, "flow_node_failed",
                           "Resource flow node failed, flow goes on [" + d.name() + ": " + r.detail + "]");
  }
  context_.events->event(name(), cluster::severity::information, "flow_up",
                         "Resource flow is up [epoch " + std::to_string(epoch) + ", " +
                             std::to_string(drivers_.size()) + " nodes, " +
                             std::to_string(since(started).count()) + " ms]");
  report(proto::flow_phase::done, epoch, true);
}

asio::awaitable<void> group_flow::run_down(std::uint64_t epoch, bool handover) {
  const auto started = std::chrono::steady_clock::now();
  journal_.acting_epoch = epoch;
  report(proto::flow_phase::running, epoch, false);
  for (std::size_t i = journal_.up_count; i-- > 0;) {
    auto r = co_await run_node(i, false, epoch);
    if (!r.ok && drivers_[i]->stop_on_error()) {
      journal_.failed_down_epoch = epoch;
      save();
      context_.events->event(name(), cluster::severity::critical, "flow_stopped",
                             "Resource flow stopped on error: resources may still be held [" +
                                 drivers_[i]->name() + ": " + r.detail + "]");
      report(proto::flow_phase::failed, epoch, false, drivers_[i]->name() + ": " + r.detail);
      co_return;
    }
    journal_.up_count = i;
    save();
  }
  // D12: the failover condition script runs on the way out, before the peer may take over.
  if (group_.failover_condition && !group_.failover_condition_script.empty()) {
    auto r = co_await run_group_program(context_, epoch, "Failover condition script",
                                        group_.failover_condition_script, group_.failover_condition_wait);
    if (!r.ok) {
      journal_.failed_down_epoch = epoch;
      save();
      report(proto::flow_phase::failed, epoch, false, "failover condition: " + r.detail);
      co_return;
    }
  }
  context_.events->event(name(), cluster::severity::information, "flow_down",
                         "Resource flow is down [epoch " + std::to_string(epoch) +
                             (handover ? ", hand-over" : "") + ", " + std::to_string(since(started).count()) + " ms]");
  report(proto::flow_phase::done, epoch, false);
}

// Everything comes down, whatever fails on the way (a fence releases all it can).
asio::awaitable<void> group_flow::fence() {
  const std::string why = *fence_reason_;
  const auto epoch = journal_.acting_epoch;
  for (std::size_t i = journal_.up_count; i-- > 0;) {
    co_await run_node(i, false, epoch);
    journal_.up_count = i;
    save();
  }
  journal_.fenced_epoch = epoch;
  save();
  fence_reason_.reset();
  report(proto::flow_phase::released, epoch, false, why);
}

asio::awaitable<void> group_flow::watchdog_loop() {
  for (;;) {
    const auto limit = std::chrono::milliseconds(journal_.watchdog_ms > 0 ? journal_.watchdog_ms : 3000);
    timers_->watchdog.expires_after(std::max<std::chrono::milliseconds>(limit / 8, 5ms));
    co_await timers_->watchdog.async_wait(asio::as_tuple(asio::use_awaitable));
    if (journal_.up_count == 0 && wanted() != target::up) continue;
    if (desired_ && !desired_->up) continue;
    if (since(desired_at_) > limit)
      fence_now("no word from hasys-heartbeat for " + std::to_string(since(desired_at_).count()) + " ms");
  }
}

asio::awaitable<void> group_flow::common_start_at_boot() {
  const auto boot = kernel_boot_id();
  std::ifstream in(common_marker_);
  std::string done;
  std::getline(in, done);
  if (!boot.empty() && done == boot) {  // already run since this machine booted
    common_started_ = true;
    wake();
    co_return;
  }
  co_await run_group_program(context_, 0, "Common start program", group_.common_start,
                             std::max<std::chrono::milliseconds>(group_.common_start_wait, 1s));
  std::ofstream(common_marker_, std::ios::trunc) << boot << "\n";
  common_started_ = true;
  wake();
}

asio::awaitable<step_result> group_flow::common_program(bool start) {
  const auto& program = start ? group_.common_start : group_.common_stop;
  if (program.empty())
    co_return step_result{false, std::string("no ") + (start ? "common_start" : "common_stop") + " is configured"};
  co_return co_await run_group_program(context_, journal_.acting_epoch,
                                       start ? "Common start program" : "Common stop program", program,
                                       std::max<std::chrono::milliseconds>(group_.common_start_wait, 1s));
}

}  // namespace hasys::executor
