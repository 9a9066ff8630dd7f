// A bounded FIFO fed and read on one executor; a steady_timer serves as its condition variable.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <cstdint>
#include <deque>
#include <optional>

namespace hasys::bus::detail {

enum class overflow { drop_newest, drop_oldest };

// Not asio::experimental::channel: on Boost 1.81 a cancelled async_receive leaves the channel
// refusing try_send until the next receive waits (asio#1241).
template <class T>
class mailbox {
 public:
  mailbox(boost::asio::any_io_executor ex, std::size_t capacity, overflow policy)
      : ready_(std::move(ex), boost::asio::steady_timer::time_point::max()),
        capacity_(capacity == 0 ? 1 : capacity),
        policy_(policy) {}

  // False when something was dropped: this item (drop_newest) or the oldest (drop_oldest).
  bool push(T item) {
    if (closed_) return false;
    bool kept_all = true;
    if (items_.size() >= capacity_) {
      ++dropped_;
      kept_all = false;
      if (policy_ == overflow::drop_newest) return false;
      items_.pop_front();
    }
    items_.push_back(std::move(item));
    ready_.cancel_one();
    return kept_all;
  }

  // Waiters wake; next() hands out what is queued, then nullopt.
  void close() {
    closed_ = true;
    ready_.cancel();
  }
  void clear() noexcept { items_.clear(); }
  bool closed() const noexcept { return closed_; }
  std::size_t size() const noexcept { return items_.size(); }
  std::uint64_t dropped() const noexcept { return dropped_; }

  // The caller keeps the mailbox alive until this completes (a shared_ptr in its frame).
  //
  // Cancellation safety: an item leaves the deque only after the coroutine has suspended at
  // least once and has seen that it was not cancelled; co_spawn then completes it inline, so
  // inside `(next() || timer)` the branch that took an item is the one that wins. A cancelled
  // waiter takes nothing and passes a wake-up it consumed on to the next waiter.
  boost::asio::awaitable<std::optional<T>> next() {
    namespace asio = boost::asio;
    for (;;) {
      if (items_.empty() && !closed_) {
        (void)co_await ready_.async_wait(asio::as_tuple(asio::use_awaitable));
      } else {
        auto ex = co_await asio::this_coro::executor;
        co_await asio::post(ex, asio::use_awaitable);
      }
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) {
        if (!items_.empty()) ready_.cancel_one();
        throw boost::system::system_error(asio::error::operation_aborted);
      }
      if (!items_.empty()) {
        std::optional<T> item(std::move(items_.front()));
        items_.pop_front();
        co_return item;
      }
      if (closed_) co_return std::nullopt;
    }
  }

 private:
  boost::asio::steady_timer ready_;  // never expires: cancel_one() on push is the signal
  std::deque<T> items_;
  std::size_t capacity_;
  overflow policy_;
  bool closed_ = false;
  std::uint64_t dropped_ = 0;
};

}  // namespace hasys::bus::detail
