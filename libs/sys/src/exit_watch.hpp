// A descriptor that becomes readable when a child exits: a pidfd, or a pipe closed by a thread.
#pragma once

#include "unique_fd.hpp"

#include <sys/types.h>

namespace hasys::sys::detail {

enum class exit_watch_kind { pidfd, thread };

// The descriptor for child pid; it does not reap (the exited child stays a zombie, so its pid
// and process-group id cannot be reused until waitpid). kind thread is used when the kernel
// lacks pidfd_open (before 5.3) or when asked for (tests). Invalid fd (errno set) on failure.
unique_fd open_exit_watch(pid_t pid, exit_watch_kind kind = exit_watch_kind::pidfd);

// Whether fd is readable right now (zero-timeout poll).
bool readable_now(int fd);

}  // namespace hasys::sys::detail
