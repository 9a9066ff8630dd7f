// The event outbox: a window of publishes in flight, acknowledged by JetStream, in order.
#include <hasys/events/outbox.hpp>
#include <hasys/events/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <optional>
#include <random>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace hasys::events {

namespace {

enum class mode { unknown, stored };

struct pending {
  std::string subject, data, id;
};

std::string random_hex() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

struct outbox::impl {
  options opt;
  std::string id_prefix;
  std::uint64_t next_id = 0;
  std::deque<pending> queue;
  std::uint64_t dropped = 0, stored = 0;
  bus::connection* conn = nullptr;
  std::optional<asio::steady_timer> wake;
  mode m = mode::unknown;
  // A publish was acknowledged since the stream was (re)found: the stream takes what is sent.
  bool proven = false;
  bool said_no_jetstream = false, said_drop = false, stopped = false;

  void say(const std::string& s) const {
    if (opt.log) opt.log(s);
  }

  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // A pause of the sending loop, on the wake timer: a new event or the outbox's end cuts it short.
  asio::awaitable<void> nap(std::chrono::milliseconds d) {
    wake->expires_after(d);
    co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // Is the EVENTS stream there (create it if not)? Until it is, events wait here: a publish
  // nobody stores would be an event lost (a nats-server still starting its JetStream answers
  // no JetStream request for a moment, too).
  asio::awaitable<void> ensure_stream() {
    std::string info_subject = "$JS.API.STREAM.INFO." + std::string(stream_name);
    std::string empty;
    auto r = co_await conn->request(std::move(info_subject), std::move(empty), 2s);
    if (!r) {
      if (r.error() == make_error_code(bus::errc::no_responders) && !said_no_jetstream) {
        say("the node's nats-server answers no JetStream request (JetStream off, or not ready "
            "yet): events wait until the EVENTS stream can take them");
        said_no_jetstream = true;
      }
      co_return;
    }
    auto err = error_of(r->data);
    if (!err) {
      m = mode::stored;
      co_return;
    }
    if (err->err_code != err_stream_not_found) {
      say("the EVENTS stream cannot be read: " + err->description);
      co_return;
    }
    std::string create_subject = "$JS.API.STREAM.CREATE." + std::string(stream_name);
    std::string config = stream_config_json(opt.stream_max_bytes);
    auto c = co_await conn->request(std::move(create_subject), std::move(config), 2s);
    if (!c) co_return;
    if (auto e = error_of(c->data)) {
      say("the EVENTS stream cannot be created: " + e->description);
      co_return;
    }
    say("created the EVENTS stream (" + std::to_string(opt.stream_max_bytes) + " bytes)");
    m = mode::stored;
  }

  static asio::awaitable<void> run(std::shared_ptr<impl> self) {
    auto& s = *self;
    while (!s.stopped) {
      // The stream is known before the first event (it then goes out at once), and looked at
      // again after any failure.
      if (s.m == mode::unknown) {
        if (s.conn->connected()) co_await s.ensure_stream();
        if (s.m == mode::unknown) {
          co_await s.nap(s.conn->connected() ? 500ms : 100ms);
          continue;
        }
      }
      if (s.queue.empty()) {
        s.wake->expires_at(asio::steady_timer::time_point::max());
        co_await s.wake->async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (!s.conn->connected()) {
        co_await s.nap(100ms);
        continue;
      }
      // A window of publishes in flight at once (one round trip each would cap the rate at the
      // round trip); then the acknowledged prefix leaves the queue. After a failure the rest is
      // published again with the same ids: what was stored already is acknowledged as a
      // duplicate and not stored twice.
      // Until a publish is acknowledged after the stream was (re)found, one goes alone: a stream
      // that nats-server already lists (STREAM.INFO answers) may not take messages yet — it
      // subscribes to its subjects only after its store is set up, a moment that lasts under
      // a loaded disk — and a window sent then would be stored from its first accepted
      // publish on, ahead of the refused ones before it (seen in CI: the stream began at "15").
      const std::size_t n = std::min(s.queue.size(), s.proven ? window : std::size_t{1});
      auto ex = co_await asio::this_coro::executor;
      auto batch = std::make_shared<in_flight>(ex, n);
      for (std::size_t i = 0; i < n; ++i) {
        auto one = publish_one(self, batch, i, s.queue[i]);
        asio::co_spawn(ex, std::move(one), asio::detached);
      }
      while (batch->remaining > 0)
        co_await batch->done.async_wait(asio::as_tuple(asio::use_awaitable));
      std::size_t acked = 0;
      while (acked < n && batch->acked[acked]) ++acked;
      s.queue.erase(s.queue.begin(), s.queue.begin() + static_cast<long>(acked));
      s.stored += acked;
      if (acked > 0) s.proven = true;
      if (acked == n) continue;
      if (!batch->refusal.empty()) s.say("an event was not stored: " + batch->refusal);
      // No stream (deleted, or a store wiped with the server), a refusal, or no answer: look at
      // the stream again before the next try, and prove it again with one publish.
      s.m = mode::unknown;
      s.proven = false;
      if (batch->closed) co_return;
      co_await s.nap(200ms);
    }
  }

  static constexpr std::size_t window = 256;

  struct in_flight {
    in_flight(asio::any_io_executor ex, std::size_t n)
        : done(ex, asio::steady_timer::time_point::max()), remaining(n), acked(n, false) {}
    asio::steady_timer done;
    std::size_t remaining;
    std::vector<bool> acked;
    std::string refusal;
    bool closed = false;
  };

  static asio::awaitable<void> publish_one(std::shared_ptr<impl> self, std::shared_ptr<in_flight> b,
                                           std::size_t i, pending p) {
    bus::headers h{{"Nats-Msg-Id", std::move(p.id)}};
    auto r =
        co_await self->conn->request(std::move(p.subject), std::move(p.data), std::move(h), 2s);
    if (r && pub_ack_of(r->data)) {
      b->acked[i] = true;
    } else if (r) {
      if (b->refusal.empty()) b->refusal = r->data.substr(0, 200);
    } else if (r.error() == make_error_code(bus::errc::closed)) {
      b->closed = true;
    }
    if (--b->remaining == 0) b->done.cancel();
  }
};

outbox::outbox(options o) : impl_(std::make_shared<impl>()) {
  impl_->opt = std::move(o);
  impl_->id_prefix = impl_->opt.source + "-" + random_hex() + "-";
}

outbox::~outbox() {
  impl_->stopped = true;
  if (impl_->wake) impl_->wake->cancel();
}

void outbox::raise(const proto::event_msg& e) {
  auto& s = *impl_;
  if (s.queue.size() >= s.opt.capacity) {
    ++s.dropped;
    if (!s.said_drop)
      s.say("event outbox full (" + std::to_string(s.opt.capacity) + "): dropping new events");
    s.said_drop = true;
    return;
  }
  s.queue.push_back({"hasys.evt." + e.group + "." + e.node, proto::to_json(e),
                     s.id_prefix + std::to_string(++s.next_id)});
  if (s.wake) s.wake->cancel();
}

void outbox::attach(bus::connection& c) {
  impl_->conn = &c;
  impl_->wake.emplace(c.get_executor());
  asio::co_spawn(c.get_executor(), impl::run(impl_), asio::detached);
}

asio::awaitable<bool> outbox::drain(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!impl_->queue.empty() && std::chrono::steady_clock::now() < until)
    co_await impl_->pause(10ms);
  co_return impl_->queue.empty();
}

std::size_t outbox::waiting() const noexcept { return impl_->queue.size(); }
std::uint64_t outbox::dropped() const noexcept { return impl_->dropped; }
std::uint64_t outbox::stored() const noexcept { return impl_->stored; }
bool outbox::storing() const noexcept { return impl_->m == mode::stored; }

}  // namespace hasys::events
