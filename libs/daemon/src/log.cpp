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
  boost::asio::post(writer_, [line = std::move(line)] { write_line(line); });
}

}  // namespace hasys::daemon
