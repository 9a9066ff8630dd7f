// The connection: connect on the thread pool, nats.c's connection callbacks posted as events,
// publish and subscribe on the io thread.
#include "state.hpp"

#include "nats_options.hpp"
#include "thread_hop.hpp"

#include <climits>
#include <stdexcept>

namespace hasys::bus {

namespace detail {

namespace {

using conn_gate = post_gate<connection_state>;

// On nats.c's callback thread; every connection callback of one connection comes from there,
// in order, and `closed` is the last one.
void on_disconnected(natsConnection*, void* closure) noexcept {
  gate_of<connection_state>(closure).post(
      [](connection_state& s) { s.on_event(conn_event::disconnected); });
}

void on_reconnected(natsConnection*, void* closure) noexcept {
  gate_of<connection_state>(closure).post(
      [](connection_state& s) { s.on_event(conn_event::reconnected); });
}

void on_connected(natsConnection*, void* closure) noexcept {
  gate_of<connection_state>(closure).post(
      [](connection_state& s) { s.on_event(conn_event::connected); });
}

void on_closed(natsConnection*, void* closure) noexcept {
  auto* gate = static_cast<gate_closure<connection_state>*>(closure);
  (*gate)->post([](connection_state& s) { s.on_closed(); });
  delete gate;
}

struct connect_outcome {
  natsConnection* nc = nullptr;
  bool connected = false;  // false with nc set: nats.c keeps trying in the background
  std::string error;
};

std::string connect_error(const options& o, natsStatus s) {
  std::string text = "bus: cannot connect to " + redact_url(o.url);
  if (!o.user.empty()) text += " as user \"" + o.user + "\"";
  text += ": ";
  switch (s) {
    case NATS_NO_SERVER:
      return text + "no server answers there (is nats-server running? retry_on_failed_connect " +
             (o.retry_on_failed_connect ? "is on, but the URL cannot be reached)" : "is off)");
    case NATS_CONNECTION_AUTH_FAILED:
      return text + "the server refused the credentials (" + last_error_text(s) +
             "): check the user and password";
    case NATS_INVALID_ARG:
      return text + "the URL is not valid (" + last_error_text(s) + ")";
    default:
      return text + last_error_text(s);
  }
}

// On the pool. A first attempt without retry tells "server down" (retried in the background
// when the options say so) from hard errors such as a bad URL or a wrong password, which nats.c
// would otherwise also retry forever.
connect_outcome connect_blocking(const options& o, void* closure) {
  auto opts = make_nats_options(o, {on_disconnected, on_reconnected, on_closed}, closure);
  natsConnection* nc = nullptr;
  natsStatus s = natsOptions_SetRetryOnFailedConnect(opts.get(), false, nullptr, nullptr);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts.get());
  if (s == NATS_OK) return {nc, true, {}};
  if (s == NATS_NO_SERVER && o.retry_on_failed_connect) {
    s = natsOptions_SetRetryOnFailedConnect(opts.get(), true, on_connected, closure);
    if (s == NATS_OK) s = natsConnection_Connect(&nc, opts.get());
    if (s == NATS_OK) return {nc, true, {}};
    if (s == NATS_NOT_YET_CONNECTED) return {nc, false, {}};
  }
  return {nullptr, false, connect_error(o, s)};
}

}  // namespace

connection_state::connection_state(boost::asio::any_io_executor ex, options o)
    : ex_(ex),
      opts_(std::move(o)),
      events_(ex, 64, overflow::drop_oldest),
      counters_(std::make_shared<shared_counters>()) {}

connection_state::~connection_state() {
  close();
  if (nc_ != nullptr) natsConnection_Destroy(nc_);
}

boost::asio::awaitable<void> connection_state::connect() {
  gate_ = std::make_shared<conn_gate>(ex_, weak_from_this());
  auto* closure = new gate_closure<connection_state>(gate_);
  connect_outcome out;
  // Named, not a temporary inside co_await: GCC 12 destroys such temporaries twice.
  auto job = [o = opts_, closure] { return connect_blocking(o, closure); };
  try {
    out = co_await run_blocking(std::move(job));
  } catch (...) {
    delete closure;
    throw;
  }
  if (out.nc == nullptr) {
    delete closure;  // nats.c made no connection, so it will never call back
    throw std::runtime_error(out.error);
  }
  nc_ = out.nc;
  retired_ = std::make_shared<retired_subscriptions>(nc_);
  if (out.connected) events_.push(conn_event::connected);
}

// Also after nats.c closed the connection itself: subscriptions hold references to the
// natsConnection until they are destroyed, which is safe only once the read loop has ended.
void connection_state::close() {
  mark_closed();
  if (nc_ == nullptr) return;
  natsConnection_Close(nc_);  // joins the read loop; returns at once if already closed
  if (inbox_sub_ != nullptr) {
    natsSubscription_Destroy(inbox_sub_);
    inbox_sub_ = nullptr;
  }
  retired_->connection_closed();
}

void connection_state::mark_closed() {
  if (closed_) return;
  closed_ = true;
  if (gate_) gate_->shut();
  fail_pending(errc::closed);
  events_.push(conn_event::closed);
  events_.close();
}

bool connection_state::connected() const noexcept {
  return !closed_ && nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

void connection_state::on_event(conn_event e) {
  if (!closed_) events_.push(e);
}

void connection_state::on_closed() { close(); }

void connection_state::fail_pending(errc why) {
  for (auto& [id, waiter] : pending_) {
    if (!waiter->outcome) {
      waiter->outcome.emplace(make_error_code(why));
      waiter->timer.cancel();
    }
  }
}

void connection_state::publish(std::string_view subject, std::string_view data,
                               std::string_view reply) noexcept {
  natsStatus s = NATS_CONNECTION_CLOSED;
  if (!closed_ && nc_ != nullptr && data.size() <= INT_MAX) {
    try {
      subject_buf_.assign(subject);
      if (reply.empty()) {
        s = natsConnection_Publish(nc_, subject_buf_.c_str(), data.data(),
                                   static_cast<int>(data.size()));
      } else {
        const std::string reply_buf(reply);
        s = natsConnection_PublishRequest(nc_, subject_buf_.c_str(), reply_buf.c_str(),
                                          data.data(), static_cast<int>(data.size()));
      }
    } catch (...) {
      s = NATS_NO_MEMORY;
    }
  }
  auto& counter = s == NATS_OK ? counters_->published : counters_->publish_errors;
  counter.fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<subscription_state> connection_state::subscribe(std::string subject,
                                                                const std::string& queue,
                                                                std::size_t capacity) {
  if (closed_ || nc_ == nullptr) {
    throw std::runtime_error("bus: cannot subscribe to \"" + subject +
                             "\": the connection is closed");
  }
  return make_subscription({nc_, std::move(subject), queue, capacity, ex_, counters_, retired_});
}

}  // namespace detail

boost::asio::awaitable<connection> connection::open(boost::asio::any_io_executor ex, options o) {
  auto state = std::make_shared<detail::connection_state>(std::move(ex), std::move(o));
  co_await state->connect();
  co_return connection(std::move(state));
}

connection::connection(std::shared_ptr<detail::connection_state> s) noexcept
    : state_(std::move(s)) {}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

connection::~connection() { close(); }

bool connection::connected() const noexcept { return state_ && state_->connected(); }

boost::asio::any_io_executor connection::get_executor() const noexcept {
  return state_ ? state_->executor() : boost::asio::any_io_executor();
}

void connection::publish(std::string_view subject, std::string_view data) {
  if (state_) state_->publish(subject, data, {});
}

void connection::publish(std::string_view subject, std::string_view data,
                         std::string_view reply) {
  if (state_) state_->publish(subject, data, reply);
}

void connection::respond(const message& request, std::string_view data) {
  // An empty subject makes nats.c refuse, which counts the failure like any other.
  publish(request.reply, data);
}

subscription connection::subscribe(std::string subject, std::size_t capacity) {
  if (!state_) throw std::runtime_error("bus: subscribe on an empty connection handle");
  return subscription(state_->subscribe(std::move(subject), {}, capacity));
}

subscription connection::queue_subscribe(std::string subject, std::string queue_group,
                                         std::size_t capacity) {
  if (!state_) throw std::runtime_error("bus: subscribe on an empty connection handle");
  return subscription(state_->subscribe(std::move(subject), queue_group, capacity));
}

boost::asio::awaitable<boost::system::result<message>> connection::request(
    std::string subject, std::string data, std::chrono::milliseconds timeout) {
  auto s = state_;  // alive until the reply, whatever happens to this handle
  if (!s) co_return make_error_code(errc::closed);
  co_return co_await s->request(std::move(subject), std::move(data), timeout);
}

boost::asio::awaitable<boost::system::result<message>> connection::request(
    std::string subject, std::string data, headers h, std::chrono::milliseconds timeout) {
  auto s = state_;
  if (!s) co_return make_error_code(errc::closed);
  co_return co_await s->request(std::move(subject), std::move(data), timeout, std::move(h));
}

boost::asio::awaitable<boost::system::result<void>> connection::flush(
    std::chrono::milliseconds timeout) {
  auto s = state_;
  if (!s) co_return make_error_code(errc::closed);
  co_return co_await s->flush(timeout);
}

boost::asio::awaitable<conn_event> connection::next_event() {
  auto s = state_;
  if (!s) co_return conn_event::closed;
  auto e = co_await s->events().next();
  co_return e.value_or(conn_event::closed);
}

connection::counters connection::stats() const {
  if (!state_) return {0, 0, 0};
  const auto& c = state_->counters();
  return {c.published.load(std::memory_order_relaxed),
          c.publish_errors.load(std::memory_order_relaxed),
          c.dropped.load(std::memory_order_relaxed)};
}

void connection::close() {
  if (state_) state_->close();
}

}  // namespace hasys::bus
