// run_process with a chosen exit watch, so tests can exercise the fallback for old kernels.
#pragma once

#include "exit_watch.hpp"

#include <hasys/sys/process.hpp>

namespace hasys::sys::detail {

boost::asio::awaitable<run_result> run_process(boost::asio::any_io_executor ex, run_options o,
                                               exit_watch_kind kind);

}  // namespace hasys::sys::detail
