// The logger: formats a line with a UTC timestamp and writes it on the writer executor.
#include <hasys/daemon/log.hpp>
#include <hasys/proto/messages.hpp>

#include <boost/asio/post.hpp>

#include <cstdio>

namespace hasys::daemon {

namespace {

std::string format_line(log_level level, std::string_view text) {
  static constexpr const char* names[] = {"debug", "info", "warning", "error"};
  std::string line = proto::iso8601(proto::unix_ms_now());
  line.append(" ").append(names[static_cast<int>(level)]).append(" ").append(text).append("\n");
  return line;
}

void write_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void logger::operator()(log_level level, std::string_view text) const {
  auto line = format_line(level, text);
  if (!writer_) return write_line(line);
  // A writer blocked on stderr (journald stalled on a busy disk) must not grow the queue without
  // bound: past the limit lines are dropped, and the next line written says how many.
  if (queue_->queued.fetch_add(1) >= max_queued) {
    queue_->queued.fetch_sub(1);
    queue_->dropped.fetch_add(1);
    return;
  }
  boost::asio::post(writer_, [q = queue_, line = std::move(line)] {
    if (const auto n = q->dropped.exchange(0))
      write_line(format_line(log_level::warning, std::to_string(n) + " log lines dropped: the log was not read"));
    write_line(line);
    q->queued.fetch_sub(1);
  });
}

}  // namespace hasys::daemon
