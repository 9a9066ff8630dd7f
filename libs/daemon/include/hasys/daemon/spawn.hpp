// Starting a daemon's long-running coroutines: an escaped exception is logged and ends the
// process (systemd restarts it), never hidden by asio::detached.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <string>

namespace hasys::daemon {

void spawn_or_die(boost::asio::any_io_executor ex, boost::asio::awaitable<void> work, std::string name);
// The same, cancellable through `slot` (a cancellation the work catches is not an error).
void spawn_or_die(boost::asio::any_io_executor ex, boost::asio::awaitable<void> work, std::string name,
                  boost::asio::cancellation_slot slot);

}  // namespace hasys::daemon
