// spawn_or_die: co_spawn with a completion handler that stops the process on an exception.
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>

#include <boost/asio/co_spawn.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace hasys::daemon {

void spawn_or_die(boost::asio::any_io_executor ex, boost::asio::awaitable<void> work, std::string name) {
  boost::asio::co_spawn(ex, std::move(work), [name = std::move(name)](std::exception_ptr e) {
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
  });
}

}  // namespace hasys::daemon
