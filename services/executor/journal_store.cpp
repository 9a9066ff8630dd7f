// Reading and writing the flow's journal (JSON, written to a temporary file then renamed).
#include "journal_store.hpp"

#include <hasys/daemon/boot_id.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace hasys::executor {

flow::journal read_journal(const std::filesystem::path& file) {
  flow::journal j;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(text.str(), ec);
  if (ec || !v.is_object()) return j;
  const auto& o = v.get_object();
  auto num = [&](const char* k) -> std::int64_t {
    auto* x = o.if_contains(k);
    return x && x->is_int64() ? x->get_int64() : x && x->is_uint64() ? static_cast<std::int64_t>(x->get_uint64()) : 0;
  };
  auto text_of = [&](const char* k) -> std::string {
    auto* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  j.up_count = static_cast<std::size_t>(num("up_count"));
  j.acting_epoch = static_cast<std::uint64_t>(num("acting_epoch"));
  j.fenced_epoch = static_cast<std::uint64_t>(num("fenced_epoch"));
  j.failed_up_epoch = static_cast<std::uint64_t>(num("failed_up_epoch"));
  j.failed_down_epoch = static_cast<std::uint64_t>(num("failed_down_epoch"));
  j.in_progress = o.contains("in_progress") ? static_cast<int>(num("in_progress")) : -1;
  j.in_progress_up = o.contains("in_progress_up") && o.at("in_progress_up").is_bool() && o.at("in_progress_up").get_bool();
  j.watchdog_ms = num("watchdog_ms");
  j.machine_boot = text_of("machine_boot");
  j.common_start_boot = text_of("common_start_boot");
  return j;
}

void write_journal(const std::filesystem::path& file, const flow::journal& j) {
  json::object o{{"up_count", j.up_count}, {"acting_epoch", j.acting_epoch}, {"fenced_epoch", j.fenced_epoch},
                 {"failed_up_epoch", j.failed_up_epoch}, {"failed_down_epoch", j.failed_down_epoch},
                 {"in_progress", j.in_progress}, {"in_progress_up", j.in_progress_up},
                 {"watchdog_ms", j.watchdog_ms}, {"machine_boot", j.machine_boot},
                 {"common_start_boot", j.common_start_boot}};
  daemon::write_file_atomically(file, json::serialize(o) + "\n");
}

journal_store::journal_store(asio::any_io_executor ex, executor_lanes& lanes, std::filesystem::path file,
                             std::function<void(const std::string&)> on_error)
    : lanes_(lanes),
      file_(std::move(file)),
      on_error_(std::move(on_error)),
      work_(ex, asio::steady_timer::time_point::max()),
      progress_(ex, asio::steady_timer::time_point::max()) {}

std::uint64_t journal_store::write(const flow::journal& j) {
  pending_ = j;
  work_.cancel();
  return ++queued_;
}

asio::awaitable<void> journal_store::written(std::uint64_t ticket) {
  while (done_ < ticket) {
    progress_.expires_at(asio::steady_timer::time_point::max());
    co_await progress_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> journal_store::run() {
  for (;;) {
    if (!pending_) {
      work_.expires_at(asio::steady_timer::time_point::max());
      co_await work_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    const auto j = *pending_;
    const auto ticket = queued_;
    pending_.reset();
    auto file = file_;
    auto task = [file, j]() -> std::string {
      try {
        write_journal(file, j);
        return {};
      } catch (const std::exception& e) {
        return e.what();
      }
    };
    // GCC 12: no temporaries inside a co_await expression (they are destroyed twice).
    auto error = co_await lanes_.disk.run(std::move(task), 10s);
    if (!error) error = "the write took over 10 s";
    if (!error->empty()) {
      ++failures_;
      on_error_(*error);
    }
    done_ = ticket;
    progress_.cancel();
  }
}

}  // namespace hasys::executor
