// Real-time priority and memory locking, reported as text rather than failing: a node without
// the privilege still works, only with less protection against stalls.
#include <hasys/daemon/realtime.hpp>

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

namespace hasys::daemon {

std::string make_this_thread_realtime(int priority) {
  sched_param sp{};
  sp.sched_priority = priority;
  if (int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp); rc != 0)
    return std::string("SCHED_FIFO refused: ") + std::strerror(rc);
  return {};
}

std::string lock_memory() {
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
    return std::string("mlockall refused: ") + std::strerror(errno);
  return {};
}

}  // namespace hasys::daemon
