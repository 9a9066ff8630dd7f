// run_blocking(f): run a blocking nats.c call on a small thread pool, resume on the caller's
// executor.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace hasys::bus::detail {

// Two threads shared by every connection of the process: connect and flush only.
boost::asio::thread_pool& blocking_pool();

// f runs on the pool; the coroutine resumes on its own executor, which is kept busy (work
// counted) meanwhile. f itself is destroyed on the caller's executor, so shared state it holds
// is released there. Not cancellable: f ends by its own timeout.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(F f) {
  namespace asio = boost::asio;
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_default_constructible_v<R>);
  auto init = [](auto handler, F fn) {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(blocking_pool(), [handler = std::move(handler), fn = std::move(fn),
                                 work = std::move(work)]() mutable {
      std::exception_ptr error;
      std::optional<R> r;
      try {
        r.emplace(fn());
      } catch (...) {
        error = std::current_exception();
      }
      // The guard travels with the completion and is released on the caller's executor, so
      // the io_context never sees "no work" between this post and the coroutine resuming.
      auto ex = work.get_executor();
      asio::post(ex, [handler = std::move(handler), fn = std::move(fn), error, r = std::move(r),
                      work = std::move(work)]() mutable {
        std::move(handler)(error, r ? std::move(*r) : R{});
      });
    });
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                          void(std::exception_ptr, R)>(
      std::move(init), asio::use_awaitable, std::move(f));
}

}  // namespace hasys::bus::detail
