// The logger: formats a line with a UTC timestamp and writes it on the writer executor.
#include <hasys/daemon/log.hpp>

#include <boost/asio/post.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace hasys::daemon {

namespace {

std::string format_line(log_level level, std::string_view text) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  static constexpr const char* names[] = {"debug", "info", "warning", "error"};
  std::string line;
  line.reserve(text.size() + 48);
  line.append(stamp).append(" ").append(names[static_cast<int>(level)]).append(" ");
  line.append(text).append("\n");
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
