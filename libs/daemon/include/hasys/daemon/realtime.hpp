// The heartbeat fast path (issue 3): real-time scheduling for one thread and locked memory.
#pragma once

#include <string>

namespace hasys::daemon {

// SCHED_FIFO at `priority` for the calling thread. Returns "" on success, else why not.
std::string make_this_thread_realtime(int priority);
// mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): pages stay in RAM once touched, without
// faulting in whole thread stacks. Returns "" on success, else why not.
std::string lock_memory();

}  // namespace hasys::daemon
