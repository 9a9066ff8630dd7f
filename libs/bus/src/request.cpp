// Requests without blocking a thread: one wildcard inbox subscription per connection, a timer
// per request; and flush, which does block and so runs on the thread pool.
#include "state.hpp"

#include "nats_options.hpp"
#include "thread_hop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <charconv>
#include <climits>

namespace hasys::bus::detail {

namespace {

// On nats.c's delivery thread: the reply's id is the last token of its subject.
void on_reply_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) noexcept {
  try {
    const std::string_view subject = natsMsg_GetSubject(msg);
    const auto dot = subject.rfind('.');
    std::uint64_t id = 0;
    const auto token = subject.substr(dot + 1);
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), id);
    if (dot != std::string_view::npos && ec == std::errc() && end == token.data() + token.size()) {
      // A "no responders" status message has headers and no data (NATS 2.2+ servers).
      const bool no_responders = natsMsg_IsNoResponders(msg);
      const char* data = natsMsg_GetData(msg);
      message m{std::string(subject), {},
                data != nullptr ? std::string(data, natsMsg_GetDataLength(msg)) : std::string()};
      gate_of<connection_state>(closure).post(
          [id, no_responders, m = std::move(m)](connection_state& s) mutable {
            s.on_reply(id, std::move(m), no_responders);
          });
    }
  } catch (...) {
    // Out of memory: the request will time out.
  }
  natsMsg_Destroy(msg);
}

void on_inbox_complete(void* closure) noexcept {
  delete static_cast<gate_closure<connection_state>*>(closure);
}

}  // namespace

boost::system::error_code connection_state::ensure_inbox() {
  if (inbox_sub_ != nullptr) return {};
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) return errc::rejected;
  std::string prefix = std::string(inbox) + ".";
  natsInbox_Destroy(inbox);
  auto closure = std::make_unique<gate_closure<connection_state>>(gate_);
  natsSubscription* sub = nullptr;
  const std::string wildcard = prefix + "*";
  natsStatus s = natsConnection_Subscribe(&sub, nc_, wildcard.c_str(), on_reply_message,
                                          closure.get());
  if (s != NATS_OK) return to_error_code(s);
  // On failure the subscription is already closed and no on-complete comes; the closure is
  // then left allocated rather than freed under a handler that may still run.
  auto* raw = closure.release();
  (void)natsSubscription_SetOnCompleteCB(sub, on_inbox_complete, raw);
  inbox_prefix_ = std::move(prefix);
  inbox_sub_ = sub;
  return {};
}

namespace {

// PublishRequest with headers: a natsMsg of our own (nats.c copies nothing it does not own).
natsStatus publish_with_headers(natsConnection* nc, const std::string& subject,
                                const std::string& reply, const std::string& data,
                                const headers& h) {
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), reply.c_str(), data.data(),
                                static_cast<int>(data.size()));
  for (const auto& [name, value] : h)
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, name.c_str(), value.c_str());
  if (s == NATS_OK) s = natsConnection_PublishMsg(nc, msg);
  natsMsg_Destroy(msg);
  return s;
}

}  // namespace

boost::asio::awaitable<boost::system::result<message>> connection_state::request(
    std::string subject, std::string data, std::chrono::milliseconds timeout, headers h) {
  namespace asio = boost::asio;
  if (closed_) co_return make_error_code(errc::closed);
  if (!connected()) co_return make_error_code(errc::not_connected);
  if (data.size() > INT_MAX) co_return make_error_code(errc::rejected);
  if (auto ec = ensure_inbox()) co_return ec;

  const std::uint64_t id = ++next_request_;
  const std::string reply = inbox_prefix_ + std::to_string(id);
  auto waiter = std::make_shared<pending_reply>(ex_);
  waiter->timer.expires_after(timeout);
  pending_.emplace(id, waiter);
  struct forget {  // also when the wait below throws because the caller cancelled
    connection_state* self;
    std::uint64_t id;
    ~forget() { self->pending_.erase(id); }
  } forget_on_exit{this, id};

  const natsStatus s =
      h.empty() ? natsConnection_PublishRequest(nc_, subject.c_str(), reply.c_str(), data.data(),
                                                static_cast<int>(data.size()))
                : publish_with_headers(nc_, subject, reply, data, h);
  if (s != NATS_OK) co_return to_error_code(s);
  auto [ec] = co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (waiter->outcome) co_return std::move(*waiter->outcome);
  // Cancelled by the caller (`||`, with_deadline): thrown, as Asio's own operations do.
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec, "bus request");
  co_return make_error_code(errc::timeout);
}

void connection_state::on_reply(std::uint64_t id, message m, bool no_responders) {
  const auto it = pending_.find(id);
  if (it == pending_.end() || it->second->outcome) return;  // late: already timed out
  auto& waiter = *it->second;
  if (no_responders) {
    waiter.outcome.emplace(make_error_code(errc::no_responders));
  } else {
    waiter.outcome.emplace(std::move(m));
  }
  waiter.timer.cancel();
}

boost::asio::awaitable<boost::system::result<void>> connection_state::flush(
    std::chrono::milliseconds timeout) {
  if (closed_) co_return make_error_code(errc::closed);
  if (!connected()) co_return make_error_code(errc::not_connected);
  // The shared_ptr keeps nc_ alive while the pool thread uses it; close() from the io thread
  // meanwhile makes FlushTimeout return at once.
  auto job = [self = shared_from_this(), nc = nc_, ms = timeout.count()] {
    return natsConnection_FlushTimeout(nc, ms);
  };
  const natsStatus s = co_await run_blocking(std::move(job));
  if (s == NATS_OK) co_return boost::system::result<void>();
  co_return to_error_code(s);
}

}  // namespace hasys::bus::detail
