// with_deadline's race of an operation against a timer (awaitable operators stay in here).
#include <hasys/bus/deadline.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hasys::bus::detail {

boost::asio::awaitable<void> run_with_deadline(boost::asio::awaitable<void> op,
                                               std::chrono::steady_clock::duration d) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
  // When the timer wins, op has been cancelled and has finished: `||` waits for both.
  (void)co_await (std::move(op) || timer.async_wait(boost::asio::use_awaitable));
}

}  // namespace hasys::bus::detail
