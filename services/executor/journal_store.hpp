// The flow's journal on disk (state_dir/executor/<group>.json): read once at start, written on the
// disk lane — never on the executor's thread — latest state wins; a step waits until the state
// before it is on disk, so a restart knows what was cut short.
#pragma once

#include "address_system.hpp"

#include <hasys/flow/types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace hasys::executor {

flow::journal read_journal(const std::filesystem::path& file);
// Throws std::runtime_error naming the file when it cannot be written.
void write_journal(const std::filesystem::path& file, const flow::journal& j);

class journal_store {
 public:
  // on_error: a write failed (the flow goes on; the restart will know less).
  journal_store(boost::asio::any_io_executor ex, executor_lanes& lanes, std::filesystem::path file,
                std::function<void(const std::string&)> on_error);
  // Queues j; returns its ticket.
  std::uint64_t write(const flow::journal& j);
  // Waits until the state of `ticket` (or a later one) is on disk, or its write failed.
  boost::asio::awaitable<void> written(std::uint64_t ticket);
  // The writer; runs for as long as the executor does.
  boost::asio::awaitable<void> run();
  std::uint64_t failures() const noexcept { return failures_; }

 private:
  executor_lanes& lanes_;
  std::filesystem::path file_;
  std::function<void(const std::string&)> on_error_;
  std::optional<flow::journal> pending_;
  std::uint64_t queued_ = 0, done_ = 0, failures_ = 0;
  boost::asio::steady_timer work_, progress_;  // condition variables: new work, a write done
};

}  // namespace hasys::executor
