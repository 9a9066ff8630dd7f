// run_process: a spawned child supervised with Asio: output pipe, pidfd, timeout, cancellation.
#include "run.hpp"
#include "spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/wait.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <optional>

namespace hasys::sys {

namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using asio::posix::stream_descriptor;

// A wake-up edge of the exit descriptor can be consumed by the reactor while no wait is queued
// (Asio registers descriptors edge-triggered and does not retry async_wait speculatively); a
// pidfd gives one edge only. Waits therefore check the descriptor first and look again at
// least this often.
constexpr auto recheck_period = std::chrono::milliseconds(500);

// The child until it is reaped. Dropped early (an exception, a destroyed coroutine frame), it
// kills the whole group and reaps, so no zombie is left.
class child_guard {
 public:
  explicit child_guard(pid_t pid) : pid_(pid) {}
  child_guard(const child_guard&) = delete;
  child_guard& operator=(const child_guard&) = delete;
  ~child_guard() {
    if (pid_ <= 0) return;
    signal_group(SIGKILL);
    (void)reap();
  }

  // The leader is not reaped before this, so its pid is still the group's id: no other group
  // can be signalled by mistake. The pid itself too, in case the child has not reached setsid.
  void signal_group(int sig) const {
    (void)::kill(-pid_, sig);
    (void)::kill(pid_, sig);
  }
  // Blocking waitpid, for a child known to have exited. nullopt when the status was lost.
  std::optional<int> reap() {
    int status = 0;
    pid_t got;
    while ((got = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return got > 0 ? std::optional<int>(status) : std::nullopt;
  }

 private:
  pid_t pid_;
};

// Merged output, kept up to the limit; the rest is counted, not kept.
struct output_sink {
  std::string text;
  std::size_t limit = 0;
  std::size_t dropped = 0;
  void append(const char* data, std::size_t n) {
    const std::size_t room = limit - std::min(limit, text.size());
    text.append(data, std::min(n, room));
    dropped += n - std::min(n, room);
  }
};

void throw_if_aborted(const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
}

asio::awaitable<void> await_readable(stream_descriptor& d) {
  if (detail::readable_now(d.native_handle())) co_return;
  co_await d.async_wait(stream_descriptor::wait_read, asio::use_awaitable);
}

// true when d became readable before deadline.
asio::awaitable<bool> wait_readable(stream_descriptor& d, clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(d.get_executor());
  for (;;) {
    if (detail::readable_now(d.native_handle())) co_return true;
    const auto now = clock::now();
    if (now >= deadline) co_return false;
    timer.expires_at(deadline - now > recheck_period ? now + recheck_period : deadline);
    const auto woke = co_await (await_readable(d) || timer.async_wait(asio::use_awaitable));
    if (woke.index() == 0) co_return true;
  }
}

// SIGTERM to the group, SIGKILL to the group after grace (always: members that ignored SIGTERM
// or outlived the leader), then the leader's exit.
asio::awaitable<void> terminate_group(stream_descriptor& exit_fd, const child_guard& child,
                                      std::chrono::milliseconds grace) {
  child.signal_group(SIGTERM);
  (void)co_await wait_readable(exit_fd, clock::now() + grace);
  child.signal_group(SIGKILL);
  (void)co_await wait_readable(exit_fd, clock::time_point::max());
}

asio::awaitable<void> supervise(stream_descriptor& exit_fd, const child_guard& child,
                                const run_options& o, bool& timed_out) {
  // Not `if (co_await ...)`: GCC 12 emits a trap for a co_await inside an if condition here.
  const bool exited = co_await wait_readable(exit_fd, clock::now() + o.timeout);
  if (!exited) {
    timed_out = true;
    co_await terminate_group(exit_fd, child, o.kill_grace);
  }
}

// Reads output until end-of-file, then waits to be cancelled: the process ends when its leader
// exits, not when every holder of the pipe has closed it.
asio::awaitable<void> capture_output(stream_descriptor& out, output_sink& sink) {
  std::array<char, 4096> chunk;
  for (;;) {
    const auto [ec, n] =
        co_await out.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    sink.append(chunk.data(), n);
    throw_if_aborted(ec);
    if (ec) break;
  }
  asio::steady_timer never(out.get_executor(), clock::time_point::max());
  co_await never.async_wait(asio::use_awaitable);
}

// What is left in the pipe after the leader's exit; bounded, as a leftover background process
// may still be writing.
void drain_output(int fd, output_sink& sink) {
  std::array<char, 4096> chunk;
  for (std::size_t total = 0; total < sink.limit + (1U << 20);) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n > 0) {
      sink.append(chunk.data(), static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;
    }
  }
}

// "" once exec succeeded (end-of-file on the close-on-exec pipe), else why the child could not.
asio::awaitable<std::string> read_start_report(stream_descriptor& report,
                                               const detail::spawn_plan& plan) {
  std::array<char, 64> data;
  std::size_t size = 0;
  for (;;) {
    const auto [ec, n] = co_await report.async_read_some(
        asio::buffer(data.data() + size, data.size() - size), asio::as_tuple(asio::use_awaitable));
    size += n;
    throw_if_aborted(ec);
    if (ec || size == data.size()) break;
  }
  co_return size == 0 ? std::string() : detail::describe_start_failure(plan, data.data(), size);
}

void record_status(run_result& r, std::optional<int> status) {
  if (!status) {
    if (r.error.empty())
      r.error = "exit status lost: the child was reaped elsewhere (SIGCHLD ignored?)";
  } else if (WIFEXITED(*status)) {
    r.exit_code = WEXITSTATUS(*status);
  } else if (WIFSIGNALED(*status)) {
    r.signal = WTERMSIG(*status);
  }
}

}  // namespace

namespace detail {

asio::awaitable<run_result> run_process(asio::any_io_executor ex, run_options o,
                                        exit_watch_kind kind) {
  using namespace asio::experimental::awaitable_operators;
  run_result r;
  const auto start = clock::now();
  const auto plan = prepare_spawn(o, r.error);
  auto child_fds = plan ? spawn(*plan, r.error) : std::nullopt;
  if (!child_fds) co_return r;
  child_guard child(child_fds->pid);
  auto exit_watch = open_exit_watch(child_fds->pid, kind);
  if (!exit_watch) {
    r.error = std::string("cannot watch the child for its exit: ") + std::strerror(errno);
    co_return r;  // the guard kills and reaps it
  }
  stream_descriptor exit_fd(ex, exit_watch.release());
  stream_descriptor out(ex, child_fds->output.release());
  stream_descriptor report(ex, child_fds->report.release());
  output_sink sink{{}, o.output_limit};
  bool cancelled = false;
  try {
    r.error = co_await read_start_report(report, *plan);
    r.started = r.error.empty();
    if (r.started)
      (void)co_await (capture_output(out, sink) || supervise(exit_fd, child, o, r.timed_out));
    cancelled =
        (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) throw;
    cancelled = true;
  }
  if (cancelled) {
    co_await asio::this_coro::reset_cancellation_state();
    co_await terminate_group(exit_fd, child, o.kill_grace);
  } else if (!r.started) {
    (void)co_await wait_readable(exit_fd, clock::time_point::max());  // it exits with 127 at once
  }
  const auto status = child.reap();
  if (r.started) record_status(r, status);
  drain_output(out.native_handle(), sink);
  r.output = std::move(sink.text);
  r.output_truncated = sink.dropped > 0;
  if (r.output_truncated) {
    r.output += "\n[output truncated: " + std::to_string(sink.dropped) + " more bytes over the " +
                std::to_string(o.output_limit) + "-byte limit were dropped]\n";
  }
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
  if (cancelled)
    throw boost::system::system_error(asio::error::operation_aborted, "run_process cancelled");
  co_return r;
}

}  // namespace detail

asio::awaitable<run_result> run_process(asio::any_io_executor ex, run_options o) {
  return detail::run_process(std::move(ex), std::move(o), detail::exit_watch_kind::pidfd);
}

std::string describe(const run_result& r, bool with_output) {
  std::string s = !r.started    ? "not started: " + r.error
                  : r.timed_out ? "timed out after " + std::to_string(r.elapsed.count()) + " ms"
                  : r.signal    ? "killed by signal " + std::to_string(r.signal)
                                : "exit " + std::to_string(r.exit_code);
  if (with_output && !r.ok()) {
    auto line = r.output.substr(0, r.output.find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) s += ": " + line.substr(0, 200);
  }
  return s;
}

}  // namespace hasys::sys
