// A worker thread for blocking calls (netlink requests, file writes) that an I/O thread must not
// wait for: the caller's coroutine is suspended, not its thread, and gets the result back on its
// own executor — or nothing, when its deadline passed first.
#pragma once

#include <hasys/daemon/realtime.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace hasys::daemon {

class blocking_lane {
 public:
  // realtime_priority > 0: the lane's thread asks for SCHED_FIFO at that priority (threads do not
  // inherit it from a process started with SCHED_RESET_ON_FORK); refused quietly without the
  // privilege — realtime_error() says why.
  explicit blocking_lane(std::string name, int realtime_priority = 0) : name_(std::move(name)), pool_(1) {
    if (realtime_priority > 0)
      boost::asio::post(pool_, [this, realtime_priority] { realtime_error_ = make_this_thread_realtime(realtime_priority); });
  }
  ~blocking_lane() {
    pool_.stop();
    pool_.join();  // the call in progress, if any, finishes first (its own timeouts bound it)
  }
  blocking_lane(const blocking_lane&) = delete;
  blocking_lane& operator=(const blocking_lane&) = delete;

  // Runs f() on the lane, after whatever is queued before it. A call that missed its deadline
  // still runs to its end on the lane; its result is dropped. An exception from f is rethrown
  // in the caller.
  template <class F>
  boost::asio::awaitable<std::optional<std::invoke_result_t<F&>>> run(F f, std::chrono::steady_clock::duration deadline) {
    using result = std::invoke_result_t<F&>;
    struct shared {
      std::optional<result> value;
      std::exception_ptr error;
      boost::asio::steady_timer done;
      explicit shared(boost::asio::any_io_executor e) : done(std::move(e)) {}
    };
    auto ex = co_await boost::asio::this_coro::executor;
    auto st = std::make_shared<shared>(ex);
    st->done.expires_after(deadline);
    ++queued_;
    boost::asio::post(pool_, [this, st, ex, f = std::move(f)]() mutable {
      std::optional<result> value;
      std::exception_ptr error;
      try {
        value.emplace(f());
      } catch (...) {
        error = std::current_exception();
      }
      --queued_;
      boost::asio::post(ex, [st, value = std::move(value), error]() mutable {
        st->value = std::move(value);
        st->error = error;
        st->done.cancel();
      });
    });
    co_await st->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (st->error) std::rethrow_exception(st->error);
    co_return std::move(st->value);
  }

  // Runs f() on the lane after whatever is queued, without waiting for it (writes whose order
  // matters but whose caller need not wait, e.g. an audit entry). An exception is counted.
  template <class F>
  void post(F f) {
    ++queued_;
    boost::asio::post(pool_, [this, f = std::move(f)]() mutable {
      try {
        f();
      } catch (...) {
        ++failed_posts_;
      }
      --queued_;
    });
  }
  std::size_t failed_posts() const noexcept { return failed_posts_.load(); }

  const std::string& name() const noexcept { return name_; }
  // Why the lane's thread runs without real-time priority ("" when it has it, or was not asked).
  // Set by the lane's first task: read it once a call has come back.
  const std::string& realtime_error() const noexcept { return realtime_error_; }
  // Calls posted and not yet finished (a stuck call shows here).
  std::size_t backlog() const noexcept { return queued_.load(); }

 private:
  std::string name_;
  boost::asio::thread_pool pool_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> failed_posts_{0};
  std::string realtime_error_;
};

}  // namespace hasys::daemon
