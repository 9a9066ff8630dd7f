// The io-side state behind connection and subscription handles (used on their executor only).
#pragma once

#include "mailbox.hpp"
#include "post_gate.hpp"
#include "retired_subscriptions.hpp"

#include <hasys/bus/bus.hpp>

#include <nats/nats.h>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace hasys::bus::detail {

struct shared_counters {
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> publish_errors{0};
  std::atomic<std::uint64_t> dropped{0};
};

class subscription_state {
 public:
  subscription_state(boost::asio::any_io_executor ex, std::string subject, std::size_t capacity,
                     std::shared_ptr<shared_counters> counters,
                     std::shared_ptr<retired_subscriptions> retired);
  ~subscription_state();
  subscription_state(const subscription_state&) = delete;
  subscription_state& operator=(const subscription_state&) = delete;

  void attach(natsSubscription* sub, std::shared_ptr<post_gate<subscription_state>> gate);
  void deliver(message m);  // into the mailbox, or dropped and counted
  void finish();            // nats.c completed the subscription: hand out the rest, then end
  void close();             // the owner unsubscribes: discard the rest and end now

  mailbox<message>& box() noexcept { return box_; }
  const mailbox<message>& box() const noexcept { return box_; }
  const std::string& subject() const noexcept { return subject_; }

 private:
  std::string subject_;
  mailbox<message> box_;
  std::shared_ptr<shared_counters> counters_;
  std::shared_ptr<retired_subscriptions> retired_;
  natsSubscription* sub_ = nullptr;
  std::shared_ptr<post_gate<subscription_state>> gate_;
};

// Subscribes on nc with a message callback that copies, frees the natsMsg and posts to ex.
// Throws std::runtime_error naming the subject when nats.c refuses.
struct subscribe_args {
  natsConnection* nc;
  std::string subject;
  std::string queue_group;  // empty: a plain subscription
  std::size_t capacity;
  boost::asio::any_io_executor ex;
  std::shared_ptr<shared_counters> counters;
  std::shared_ptr<retired_subscriptions> retired;
};
std::shared_ptr<subscription_state> make_subscription(subscribe_args a);

// One request waiting for its reply (or its timeout, or the connection's close).
struct pending_reply {
  explicit pending_reply(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
  boost::asio::steady_timer timer;
  std::optional<boost::system::result<message>> outcome;
};

class connection_state : public std::enable_shared_from_this<connection_state> {
 public:
  connection_state(boost::asio::any_io_executor ex, options o);
  ~connection_state();
  connection_state(const connection_state&) = delete;
  connection_state& operator=(const connection_state&) = delete;

  boost::asio::awaitable<void> connect();  // throws std::runtime_error
  void close();

  bool connected() const noexcept;
  const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
  mailbox<conn_event>& events() noexcept { return events_; }
  const shared_counters& counters() const noexcept { return *counters_; }

  void publish(std::string_view subject, std::string_view data, std::string_view reply) noexcept;
  std::shared_ptr<subscription_state> subscribe(std::string subject, const std::string& queue,
                                                std::size_t capacity);
  boost::asio::awaitable<boost::system::result<message>> request(
      std::string subject, std::string data, std::chrono::milliseconds timeout,
      headers h = {});
  boost::asio::awaitable<boost::system::result<void>> flush(std::chrono::milliseconds timeout);

  // From nats.c callbacks, on the executor.
  void on_event(conn_event e);
  void on_closed();
  void on_reply(std::uint64_t id, message m, bool no_responders);

 private:
  boost::system::error_code ensure_inbox();
  void mark_closed();  // closed event, pending requests fail, nats.c callbacks stop posting
  void fail_pending(errc why);

  boost::asio::any_io_executor ex_;
  options opts_;
  natsConnection* nc_ = nullptr;
  std::shared_ptr<retired_subscriptions> retired_;  // set with nc_
  std::shared_ptr<post_gate<connection_state>> gate_;
  mailbox<conn_event> events_;
  bool closed_ = false;
  std::shared_ptr<shared_counters> counters_;
  std::string subject_buf_;  // NUL-terminated copy for nats.c, reused across publishes
  // Requests share one wildcard inbox subscription "<inbox>.*"; the last token is the id.
  std::string inbox_prefix_;
  natsSubscription* inbox_sub_ = nullptr;
  std::uint64_t next_request_ = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<pending_reply>> pending_;
};

}  // namespace hasys::bus::detail
