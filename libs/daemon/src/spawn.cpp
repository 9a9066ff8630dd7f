// spawn_or_die: co_spawn with a completion handler that stops the process on an exception.
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace hasys::daemon {

namespace {

struct die_on_exception {
  std::string name;
  void operator()(std::exception_ptr e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "fatal: %s stopped: %s\n", name.c_str(), x.what());
    } catch (...) {
      std::fprintf(stderr, "fatal: %s stopped by an unknown exception\n", name.c_str());
    }
    std::fflush(stderr);
    std::_Exit(70);  // EX_SOFTWARE; the supervisor restarts us
  }
};

}  // namespace

void spawn_or_die(boost::asio::any_io_executor ex, boost::asio::awaitable<void> work, std::string name) {
  boost::asio::co_spawn(ex, std::move(work), die_on_exception{std::move(name)});
}

void spawn_or_die(boost::asio::any_io_executor ex, boost::asio::awaitable<void> work, std::string name,
                  boost::asio::cancellation_slot slot) {
  boost::asio::co_spawn(ex, std::move(work),
                        boost::asio::bind_cancellation_slot(slot, die_on_exception{std::move(name)}));
}

}  // namespace hasys::daemon
