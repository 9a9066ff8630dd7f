// One group's resource flow on this node: the thin I/O shell around the flow machine
// (libs/flow). Inputs — the heartbeat's desired state, step and verification results, time —
// go into flow::step; its actions — run a node, verify, refresh, release, announce, write the
// journal, report — are carried out here, none of them blocking the executor's thread.
#pragma once

#include "journal_store.hpp"
#include "resource.hpp"

#include <hasys/flow/flow_machine.hpp>
#include <hasys/proto/messages.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace hasys::executor {

class group_shell {
 public:
  using reporter = std::function<void(const proto::observed_state&)>;
  group_shell(boost::asio::any_io_executor ex, const config::node_config& node,
              const config::group_config& group, event_sink& events, resource_services& services,
              bool simulate, std::string machine_boot, reporter report);
  ~group_shell();

  void start();
  const std::string& name() const noexcept { return context_.group; }
  // From the heartbeat daemon, every period and on change; answered with the observed state.
  void desired(const proto::desired_state& d);
  // The heartbeat daemon's connection closed (F9).
  void heartbeat_lost(const std::string& why);
  // SIGTERM: finish what runs, keep what is up; `now`: a second signal, stop at once.
  void stop(bool now);
  bool stopped() const noexcept { return state_.at == flow::stage::stopped; }
  std::function<void()> on_stopped;
  // Reads what the heartbeat already sent (set by the daemon): called before time is judged.
  std::function<void()> drain_control;
  proto::observed_state observed() const;
  // W8 common start/stop on request (menu items 6 and 7).
  boost::asio::awaitable<step_result> common_program(bool start);
  // Standby readiness (issue 9): every read-only check that a takeover would work. `said`: raise
  // its event even when the outcome did not change (a request).
  struct readiness_report {
    bool ready = true;
    std::vector<readiness_check> checks;
    std::string summary;  // "ready to take over (7 checks)" or "not ready: <failures>"
  };
  boost::asio::awaitable<readiness_report> readiness(bool said);

 private:
  void feed(const flow::input& in);
  void act(const flow::action& a);
  boost::asio::awaitable<void> clock_loop();
  boost::asio::awaitable<void> step_task(flow::run_step st, std::uint64_t journal_ticket);
  boost::asio::awaitable<void> io_task(flow::io_request r);
  boost::asio::awaitable<void> program_task(flow::run_program p);
  boost::asio::awaitable<void> readiness_loop();

  const config::group_config group_;
  resource_services& services_;
  resource_context context_;
  std::vector<std::unique_ptr<resource>> resources_;
  flow::params params_;
  flow::state state_;
  journal_store journal_;
  std::uint64_t journal_ticket_ = 0;
  reporter report_;
  boost::asio::steady_timer clock_;
  boost::asio::cancellation_signal step_cancel_;
  std::deque<flow::input> queued_;  // inputs that arrive while a step of the machine is applied
  bool feeding_ = false;
  bool started_ = false;
  std::vector<flow::action> initial_;  // the start's actions, carried out by start()
  takeover_clock takeover_;            // context_.takeover points here
  std::string ready_;                  // observed_state::ready
  std::string ready_summary_;          // the last outcome, to raise its event on a change
  std::int64_t ready_unix_ms_ = 0;
};

}  // namespace hasys::executor
