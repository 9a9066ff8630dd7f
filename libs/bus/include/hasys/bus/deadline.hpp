// with_deadline(op, d): run an awaitable with a deadline; nullopt (or false) when it ran out.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>

namespace hasys::bus {

namespace detail {

// Runs op, racing it against a timer of d; on expiry op is cancelled and awaited to its end, so
// when this returns op is finished either way. An exception op throws before the deadline
// propagates; one it throws because it was cancelled is swallowed.
boost::asio::awaitable<void> run_with_deadline(boost::asio::awaitable<void> op,
                                               std::chrono::steady_clock::duration d);

template <class T>
boost::asio::awaitable<void> store_result(boost::asio::awaitable<T> op, std::optional<T>& out) {
  out.emplace(co_await std::move(op));
}

inline boost::asio::awaitable<void> mark_done(boost::asio::awaitable<void> op, bool& done) {
  co_await std::move(op);
  done = true;
}

}  // namespace detail

// The value of op, or nullopt when d passed first. A value op produced while being cancelled
// (it completed in the same instant as the deadline) is returned rather than lost. Only
// cancellable operations stop at the deadline; others are awaited to their own end.
template <class T>
boost::asio::awaitable<std::optional<T>> with_deadline(boost::asio::awaitable<T> op,
                                                       std::chrono::steady_clock::duration d) {
  std::optional<T> out;
  co_await detail::run_with_deadline(detail::store_result(std::move(op), out), d);
  co_return out;
}

// For awaitable<void>: true when op finished, false when the deadline passed first.
inline boost::asio::awaitable<bool> with_deadline(boost::asio::awaitable<void> op,
                                                  std::chrono::steady_clock::duration d) {
  bool done = false;
  co_await detail::run_with_deadline(detail::mark_done(std::move(op), done), d);
  co_return done;
}

}  // namespace hasys::bus
