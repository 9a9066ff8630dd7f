// A worker thread for blocking calls (netlink requests, file writes) that an I/O thread must not
// wait for: the caller's coroutine is suspended, not its thread, and gets the result back on its
// own executor — or nothing, when its deadline passed first.
#pragma once

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
  explicit blocking_lane(std::string name) : name_(std::move(name)), pool_(1) {}
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

  const std::string& name() const noexcept { return name_; }
  // Calls posted and not yet finished (a stuck call shows here).
  std::size_t backlog() const noexcept { return queued_.load(); }

 private:
  std::string name_;
  boost::asio::thread_pool pool_;
  std::atomic<std::size_t> queued_{0};
};

}  // namespace hasys::daemon
