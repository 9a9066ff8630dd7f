// Subscriptions: nats.c's message callback copies and posts; the mailbox hands messages out.
#include "state.hpp"

#include "nats_options.hpp"

#include <stdexcept>

namespace hasys::bus {

namespace detail {

namespace {

using sub_gate = post_gate<subscription_state>;

// On nats.c's delivery thread: copy, free the natsMsg at once, post the copy.
void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) noexcept {
  try {
    const char* reply = natsMsg_GetReply(msg);
    const char* data = natsMsg_GetData(msg);
    message m{natsMsg_GetSubject(msg), reply != nullptr ? reply : "",
              data != nullptr ? std::string(data, natsMsg_GetDataLength(msg)) : std::string()};
    natsMsg_Destroy(msg);
    msg = nullptr;
    gate_of<subscription_state>(closure).post(
        [m = std::move(m)](subscription_state& s) mutable { s.deliver(std::move(m)); });
  } catch (...) {
    if (msg != nullptr) natsMsg_Destroy(msg);
  }
}

// nats.c's last call for a subscription, after its message handler has returned for good:
// only now may the closure go.
void on_complete(void* closure) noexcept {
  auto* gate = static_cast<gate_closure<subscription_state>*>(closure);
  (*gate)->post([](subscription_state& s) { s.finish(); });
  delete gate;
}

}  // namespace

subscription_state::subscription_state(boost::asio::any_io_executor ex, std::string subject,
                                       std::size_t capacity,
                                       std::shared_ptr<shared_counters> counters,
                                       std::shared_ptr<retired_subscriptions> retired)
    : subject_(std::move(subject)),
      box_(std::move(ex), capacity, overflow::drop_newest),
      counters_(std::move(counters)),
      retired_(std::move(retired)) {}

subscription_state::~subscription_state() { close(); }

void subscription_state::attach(natsSubscription* sub, std::shared_ptr<sub_gate> gate) {
  sub_ = sub;
  gate_ = std::move(gate);
}

void subscription_state::deliver(message m) {
  retired_->sweep();  // the read loop has moved on: earlier unsubscribed ones may go
  if (box_.closed()) return;
  if (!box_.push(std::move(m))) counters_->dropped.fetch_add(1, std::memory_order_relaxed);
}

void subscription_state::finish() { box_.close(); }

void subscription_state::close() {
  if (gate_) gate_->shut();
  if (sub_ != nullptr) {
    natsSubscription_Unsubscribe(sub_);  // fails harmlessly once the connection is closed
    retired_->retire(sub_);              // not natsSubscription_Destroy: see retired_subscriptions
    sub_ = nullptr;
  }
  box_.clear();
  box_.close();
}

std::shared_ptr<subscription_state> make_subscription(subscribe_args a) {
  const auto& ex = a.ex;
  const auto& queue_group = a.queue_group;
  natsConnection* nc = a.nc;
  auto state = std::make_shared<subscription_state>(ex, std::move(a.subject), a.capacity,
                                                    std::move(a.counters), std::move(a.retired));
  auto gate = std::make_shared<sub_gate>(ex, state);
  auto closure = std::make_unique<gate_closure<subscription_state>>(gate);
  natsSubscription* sub = nullptr;
  const char* subj = state->subject().c_str();
  const natsStatus s =
      queue_group.empty()
          ? natsConnection_Subscribe(&sub, nc, subj, on_message, closure.get())
          : natsConnection_QueueSubscribe(&sub, nc, subj, queue_group.c_str(), on_message,
                                          closure.get());
  if (s != NATS_OK) {
    std::string what = "bus: cannot subscribe to \"" + state->subject() + "\"";
    if (!queue_group.empty()) what += " in queue group \"" + queue_group + "\"";
    throw std::runtime_error(what + ": " + last_error_text(s));
  }
  // From here nats.c may call on_message with the closure at any time.
  auto* raw = closure.release();
  state->attach(sub, std::move(gate));
  if (natsSubscription_SetOnCompleteCB(sub, on_complete, raw) != NATS_OK) {
    // Already closed (the connection closed meanwhile): no on-complete will come, and the
    // handler may still be running, so the closure is left allocated (a few bytes) rather
    // than freed under it.
    state->finish();
  }
  return state;
}

}  // namespace detail

subscription::subscription(std::shared_ptr<detail::subscription_state> s) noexcept
    : state_(std::move(s)) {}

subscription& subscription::operator=(subscription&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

subscription::~subscription() { close(); }

boost::asio::awaitable<std::optional<message>> subscription::next() {
  auto s = state_;  // keeps the mailbox alive even if this handle goes away meanwhile
  if (!s) co_return std::nullopt;
  co_return co_await s->box().next();
}

std::uint64_t subscription::dropped() const noexcept {
  return state_ ? state_->box().dropped() : 0;
}

std::size_t subscription::queued() const noexcept { return state_ ? state_->box().size() : 0; }

const std::string& subscription::subject() const noexcept {
  static const std::string none;
  return state_ ? state_->subject() : none;
}

bool subscription::is_open() const noexcept { return state_ && !state_->box().closed(); }

void subscription::close() {
  if (state_) state_->close();
}

}  // namespace hasys::bus
