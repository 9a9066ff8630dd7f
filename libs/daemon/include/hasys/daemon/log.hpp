// A line logger safe to call from any thread: lines are handed to one writer executor, so a
// slow stderr (journald) never stalls the caller's loop.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace hasys::daemon {

enum class log_level { debug, info, warning, error };

class logger {
 public:
  logger() = default;  // writes synchronously until attached to a writer executor
  explicit logger(boost::asio::any_io_executor writer) : writer_(std::move(writer)) {}
  // Lines handed to the writer and not yet written, at most; more are dropped and counted.
  static constexpr std::size_t max_queued = 10000;
  void attach(boost::asio::any_io_executor writer) { writer_ = std::move(writer); }
  void operator()(log_level level, std::string_view text) const;
  void info(std::string_view text) const { (*this)(log_level::info, text); }
  void warning(std::string_view text) const { (*this)(log_level::warning, text); }
  void error(std::string_view text) const { (*this)(log_level::error, text); }

 private:
  boost::asio::any_io_executor writer_;
  struct queue_state {
    std::atomic<std::size_t> queued{0};
    std::atomic<std::size_t> dropped{0};
  };
  std::shared_ptr<queue_state> queue_ = std::make_shared<queue_state>();
};

}  // namespace hasys::daemon
