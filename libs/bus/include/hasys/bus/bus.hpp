// The NATS bus for coroutines: one connection per process, subscriptions read with co_await.
#pragma once

#include <hasys/bus/deadline.hpp>
#include <hasys/bus/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hasys::bus {

struct options {
  std::string url = "nats://127.0.0.1:4222";
  std::string user, password;                     // empty: no auth
  std::string name;                               // client name shown by the server
  std::chrono::milliseconds ping_interval{1000};  // nats.c's default is 2 min: a hung server
  int max_pings_out = 2;                          // is noticed after interval × (max + 1)
  std::chrono::milliseconds reconnect_wait{250};
  std::chrono::milliseconds connect_timeout{2000};
  // A publish that finds nats.c's 32 KB buffer full writes to the socket itself and waits at most
  // this long; past it the connection counts as broken and reconnects (publishes are buffered).
  std::chrono::milliseconds write_deadline{500};
  // open() returns even if the server is down and connects in the background (a connected
  // event follows). A wrong password or a bad URL still fails open().
  bool retry_on_failed_connect = true;
};

// The node-local bus credentials: a file holding "user:password" (one line; a trailing newline
// is allowed). The error text names the file and the problem, never the password.
boost::system::result<std::pair<std::string, std::string>, error_message> read_credentials(
    const std::filesystem::path& file);

// Options for a client of the node-local bus: its URL, the "user:password" file (none when the
// path is empty) and the client name. Throws std::runtime_error with read_credentials' text.
options node_options(std::string url, const std::filesystem::path& credentials, std::string name);

struct message {
  std::string subject, reply, data;
};

// NATS message headers (name, value), e.g. {"Nats-Msg-Id", "..."} for JetStream's de-duplication.
using headers = std::vector<std::pair<std::string, std::string>>;

enum class conn_event { connected, disconnected, reconnected, closed };
std::string_view to_string(conn_event e) noexcept;

namespace detail {
class connection_state;
class subscription_state;
}  // namespace detail

// Interest in a subject. Messages wait in a bounded mailbox until next() takes them; over
// capacity new messages are dropped and counted. Move-only; unsubscribes in its destructor.
// Use it on the connection's executor only.
class subscription {
 public:
  subscription() = default;
  explicit subscription(std::shared_ptr<detail::subscription_state> s) noexcept;
  subscription(subscription&&) noexcept = default;
  subscription& operator=(subscription&& other) noexcept;
  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;
  ~subscription();

  // The next message; nullopt once the subscription or its connection is closed. Safe to
  // cancel, e.g. inside `co_await (sub.next() || timer.async_wait(use_awaitable))`: a message
  // is taken from the mailbox only by the branch that completes, so none is lost.
  boost::asio::awaitable<std::optional<message>> next();
  std::uint64_t dropped() const noexcept;  // messages dropped because the mailbox was full
  std::size_t queued() const noexcept;     // messages waiting in the mailbox
  const std::string& subject() const noexcept;
  bool is_open() const noexcept;
  // Unsubscribes and discards queued messages; next() returns nullopt from now on.
  void close();

 private:
  std::shared_ptr<detail::subscription_state> state_;
};

// A connection to nats-server, with nats.c's own threads doing the I/O. Move-only; closes in
// its destructor. Use it on the executor it was opened with.
class connection {
 public:
  // Throws std::runtime_error with a clear text on a hard error (bad URL, authentication), or
  // when the server is down and retry_on_failed_connect is false.
  static boost::asio::awaitable<connection> open(boost::asio::any_io_executor ex, options o);

  connection() = default;
  explicit connection(std::shared_ptr<detail::connection_state> s) noexcept;
  connection(connection&&) noexcept = default;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  bool connected() const noexcept;
  boost::asio::any_io_executor get_executor() const noexcept;

  // Appends to nats.c's buffer (held while reconnecting, up to 8 MB); never throws, never waits
  // on the network. Failures (closed, payload too large, buffer full) are counted.
  void publish(std::string_view subject, std::string_view data);
  // The same with a reply subject (answers go there: an inbox of a subscription of ours).
  void publish(std::string_view subject, std::string_view data, std::string_view reply);
  // Publish to request.reply; counted as a failure when the request had no reply subject.
  void respond(const message& request, std::string_view data);

  // Throws std::runtime_error naming the subject when nats.c refuses (bad subject, closed).
  subscription subscribe(std::string subject, std::size_t capacity = 1024);
  // Members of one queue group share the messages: each goes to one of them.
  subscription queue_subscribe(std::string subject, std::string queue_group,
                               std::size_t capacity = 1024);

  // Errors: errc::timeout, errc::no_responders, errc::not_connected, errc::closed,
  // errc::rejected. Needs no thread: cancelling it (`||`, with_deadline) ends it at once, with
  // system_error(operation_aborted) thrown like Asio's own operations; a late reply is ignored.
  boost::asio::awaitable<boost::system::result<message>> request(
      std::string subject, std::string data, std::chrono::milliseconds timeout);
  // The same with headers on the request (NATS 2.2+ servers).
  boost::asio::awaitable<boost::system::result<message>> request(
      std::string subject, std::string data, headers h, std::chrono::milliseconds timeout);
  // Round trip to the server: everything published before has been processed by it.
  boost::asio::awaitable<boost::system::result<void>> flush(std::chrono::milliseconds timeout);

  // The next change of the connection's state. Once closed, returns closed at once forever.
  boost::asio::awaitable<conn_event> next_event();

  struct counters {
    std::uint64_t published, publish_errors, dropped;
  };
  counters stats() const;

  // Flushes what is buffered (at most 0.5 s, nats.c), closes, ends every subscription.
  void close();

 private:
  std::shared_ptr<detail::connection_state> state_;
};

}  // namespace hasys::bus
