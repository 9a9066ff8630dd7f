#include "forwarder.hpp"

#include <hasys/bus/bus.hpp>
#include <hasys/bus/deadline.hpp>
#include <hasys/daemon/log.hpp>
#include <hasys/daemon/spawn.hpp>
#include <hasys/events/stream.hpp>
#include <hasys/proto/event_store_messages.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <csignal>
#include <optional>
#include <random>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace hasys::event_store {

namespace {

constexpr std::string_view consumer = "forwarder";
constexpr std::size_t batch_max = 500;
constexpr auto batch_wait = std::chrono::milliseconds(20);
constexpr int pull_batch = 1000;
constexpr auto pull_expires = 2s;

std::string consumer_config(std::optional<std::uint64_t> start_seq) {
  json::object c;
  c["durable_name"] = consumer;
  c["ack_policy"] = "all";
  c["ack_wait"] = std::int64_t{30'000'000'000};
  c["max_deliver"] = -1;
  c["max_ack_pending"] = 20000;
  c["filter_subject"] = events::stream_subjects;
  c["replay_policy"] = "instant";
  if (start_seq) {
    c["deliver_policy"] = "by_start_sequence";
    c["opt_start_seq"] = *start_seq;
  } else {
    c["deliver_policy"] = "all";
  }
  json::object body;
  body["stream_name"] = events::stream_name;
  body["config"] = std::move(c);
  return json::serialize(body);
}

// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
std::optional<std::uint64_t> stream_seq_of(std::string_view reply) {
  if (reply.rfind("$JS.ACK.", 0) != 0) return std::nullopt;
  std::size_t pos = 0;
  for (int field = 0; field < 5; ++field) {
    pos = reply.find('.', pos);
    if (pos == std::string_view::npos) return std::nullopt;
    ++pos;
  }
  const auto end = reply.find('.', pos);
  const auto token = reply.substr(pos, end - pos);
  std::uint64_t seq = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), seq);
  if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
  return seq;
}

std::string random_token() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

}  // namespace

struct forwarder::impl {
  asio::io_context& ioc;
  const config::node_config& cfg;
  daemon::logger log;
  std::optional<bus::connection> bus;
  asio::signal_set signals;
  std::uint64_t forwarded = 0, unreadable = 0;
  bool failing = false;

  impl(asio::io_context& i, const config::node_config& c)
      : ioc(i), cfg(c), log(i.get_executor()), signals(i, SIGINT, SIGTERM) {}

  asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(ioc, d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<std::optional<std::string>> js(std::string subject, std::string body) {
    auto r = co_await bus->request(std::move(subject), std::move(body), 5s);
    if (!r) co_return std::nullopt;
    co_return r->data;
  }

  // The stream exists (created with the node's log size, E6, or brought to it) and the consumer
  // starts right after what was acknowledged: nothing waits for a redelivery after a restart.
  asio::awaitable<bool> prepare() {
    const std::uint64_t max_bytes = std::uint64_t{cfg.log.size_mb} << 20;
    const std::string name(events::stream_name);
    auto info = co_await js("$JS.API.STREAM.INFO." + name, "");
    if (!info) co_return false;
    if (auto e = events::error_of(*info)) {
      if (e->err_code != events::err_stream_not_found) {
        log.warning("the EVENTS stream cannot be read: " + e->description);
        co_return false;
      }
      auto created =
          co_await js("$JS.API.STREAM.CREATE." + name, events::stream_config_json(max_bytes));
      if (!created || events::error_of(*created)) {
        log.warning("the EVENTS stream cannot be created: " + created.value_or("no answer"));
        co_return false;
      }
      log.info("created the EVENTS stream (" + std::to_string(max_bytes) + " bytes)");
    } else if (!events::config_is(*info, max_bytes)) {
      auto updated =
          co_await js("$JS.API.STREAM.UPDATE." + name, events::stream_config_json(max_bytes));
      if (updated && events::error_of(*updated))
        log.warning("the EVENTS stream keeps its settings: " +
                    events::error_of(*updated)->description);
    }
    const std::string c(consumer);
    std::optional<std::uint64_t> start;
    auto ci = co_await js("$JS.API.CONSUMER.INFO." + name + "." + c, "");
    if (!ci) co_return false;
    if (!events::error_of(*ci)) {
      auto v = json::parse(*ci);
      start = v.at("ack_floor").at("stream_seq").to_number<std::uint64_t>() + 1;
    }
    if (!co_await make_consumer(start, !events::error_of(*ci))) co_return false;
    log.info("forwarding the EVENTS stream from seq " + std::to_string(start.value_or(1)));
    co_return true;
  }

  // The consumer made afresh, starting at start (or at the stream's first event). Its first
  // event may come after start: what the stream no longer holds (its cap, E6) is skipped then.
  asio::awaitable<bool> make_consumer(std::optional<std::uint64_t> start, bool exists) {
    const std::string name(events::stream_name), c(consumer);
    if (exists) {
      auto deleted = co_await js("$JS.API.CONSUMER.DELETE." + name + "." + c, "");
      if (!deleted || events::error_of(*deleted)) co_return false;
    }
    auto made =
        co_await js("$JS.API.CONSUMER.DURABLE.CREATE." + name + "." + c, consumer_config(start));
    if (!made || events::error_of(*made)) {
      log.warning("the forwarder's consumer cannot be created: " + made.value_or("no answer"));
      co_return false;
    }
    next_seq = start.value_or(0);
    co_return true;
  }

  // The stream seq the forwarder takes next (0: whatever the stream holds first).
  std::uint64_t next_seq = 0;

  // The first seq at or after `from` that the stream holds, asked of the stream itself; nullopt
  // when it cannot be told (no answer, or no event there at all).
  asio::awaitable<std::optional<std::uint64_t>> first_held(std::uint64_t from) {
    json::object rq{{"seq", from}, {"next_by_subj", events::stream_subjects}};
    auto r = co_await js("$JS.API.STREAM.MSG.GET." + std::string(events::stream_name),
                         json::serialize(rq));
    if (!r || events::error_of(*r)) co_return std::nullopt;
    json::error_code ec;
    auto v = json::parse(*r, ec);
    const auto* seq = ec ? nullptr : v.find_pointer("/message/seq", ec);
    if (!seq || !seq->is_number()) co_return std::nullopt;
    co_return seq->to_number<std::uint64_t>();
  }

  struct item {
    std::uint64_t seq;
    std::string ack;
    std::optional<proto::event_msg> event;  // nullopt: unreadable, skipped (and counted)
  };

  // Sends the batch until the manager has committed it, then acknowledges it (all up to its last).
  asio::awaitable<void> deliver(std::vector<item>& batch) {
    proto::ingest_request rq;
    rq.node = cfg.name;
    for (auto& i : batch)
      if (i.event) rq.events.push_back({1, i.seq, *i.event});
    const std::string body = proto::to_json(rq);
    std::chrono::milliseconds backoff = 200ms;
    while (!rq.events.empty()) {
      std::string subject = proto::ingest_subject(cfg.name);
      std::string data = body;
      auto r = co_await bus->request(std::move(subject), std::move(data), 10s);
      std::string why;
      if (!r) {
        why = r.error() == make_error_code(bus::errc::no_responders)
                  ? "no event store answers on the manager's bus"
                  : r.error().message();
      } else if (auto rep = proto::from_json<proto::ingest_reply>(r->data); !rep) {
        why = "the event store's answer cannot be read";
      } else if (!rep->ok) {
        why = "the event store refused: " + rep->error;
      } else {
        if (failing) log.info("the manager's event store takes events again");
        failing = false;
        break;
      }
      if (!failing) log.warning("events wait on this node: " + why);
      failing = true;
      co_await pause(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
    }
    bus->publish(batch.back().ack, "+ACK");
    forwarded += rq.events.size();
    batch.clear();
  }

  asio::awaitable<void> run() {
    while (!co_await prepare()) co_await pause(1s);
    std::string inbox = "_INBOX.hasys-fwd." + random_token();
    auto sub = bus->subscribe(inbox, 8192);
    const std::string next = "$JS.API.CONSUMER.MSG.NEXT." + std::string(events::stream_name) + "." +
                             std::string(consumer);
    const std::string pull = "{\"batch\":" + std::to_string(pull_batch) + ",\"expires\":" +
                             std::to_string(std::chrono::nanoseconds(pull_expires).count()) + "}";
    std::vector<item> batch;
    int outstanding = 0;
    auto pull_until = std::chrono::steady_clock::now();
    auto batch_started = pull_until;
    for (;;) {
      if (outstanding <= 0) {
        bus->publish(next, pull, inbox);
        outstanding = pull_batch;
        pull_until = std::chrono::steady_clock::now() + pull_expires + 500ms;
      }
      // A batch leaves when it is full or its first event has waited 20 ms: under a steady
      // stream of events none waits longer than that for its batch.
      const auto now = std::chrono::steady_clock::now();
      if (!batch.empty() && now - batch_started >= batch_wait) {
        co_await deliver(batch);
        continue;
      }
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          batch.empty() ? pull_until - now : batch_started + batch_wait - now);
      auto m = co_await bus::with_deadline(sub.next(), std::max(wait, 1ms));
      if (m && !*m) co_return;  // the subscription ended: the bus closed
      if (m) {
        const auto& msg = **m;
        if (auto seq = stream_seq_of(msg.reply)) {
          --outstanding;
          // A gap is taken only when the stream says it holds nothing before this event (its cap
          // discarded them, E6). Otherwise events the consumer delivered never came (lost on the
          // way, e.g. when the node's nats-server restarted): acknowledging past them
          // (acknowledge-all) would lose them, so the consumer starts again right after what is
          // forwarded, on a new inbox (what the old one still gets is not looked at).
          if (*seq > next_seq && next_seq != 0) {
            const auto held = co_await first_held(next_seq);
            if (held && *held >= *seq) {
              log.warning("the stream no longer holds events " + std::to_string(next_seq) + ".." +
                          std::to_string(*seq - 1) +
                          " (over its log.size_mb cap while they waited): forwarding goes on");
            } else {
              log.warning("events from seq " + std::to_string(next_seq) +
                          " never arrived from the stream: reading it again from there");
              if (!batch.empty()) co_await deliver(batch);
              while (!co_await make_consumer(next_seq, true)) co_await pause(1s);
              sub.close();
              inbox = "_INBOX.hasys-fwd." + random_token();
              sub = bus->subscribe(inbox, 8192);
              outstanding = 0;
              continue;
            }
          }
          if (*seq >= next_seq) {
            next_seq = *seq + 1;
            auto e = proto::from_json<proto::event_msg>(msg.data);
            if (!e) ++unreadable;
            if (batch.empty()) batch_started = std::chrono::steady_clock::now();
            batch.push_back({*seq, msg.reply, e ? std::optional(*e) : std::nullopt});
          }
        } else {
          outstanding = 0;  // a status (408 expired, 404 nothing, 409...): pull again
        }
        if (batch.size() >= batch_max) co_await deliver(batch);
        continue;
      }
      if (std::chrono::steady_clock::now() >= pull_until) outstanding = 0;
      if (!batch.empty()) co_await deliver(batch);
    }
  }

  asio::awaitable<void> bus_loop() {
    auto o = bus::node_options(cfg.bus_url, cfg.bus_credentials, "hasys-event-store@" + cfg.name);
    bus = co_await bus::connection::open(ioc.get_executor(), std::move(o));
    daemon::spawn_or_die(ioc.get_executor(), run(), "forward");
    for (;;) {
      auto e = co_await bus->next_event();
      log.info(std::string("bus ") + std::string(bus::to_string(e)));
      if (e == bus::conn_event::closed) co_return;
    }
  }

  asio::awaitable<void> signal_loop() {
    auto [ec, sig] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    log.info("signal: stopping (" + std::to_string(forwarded) + " events forwarded)");
    if (bus) bus->close();
    asio::post(ioc, [this] { ioc.stop(); });
  }
};

forwarder::forwarder(asio::io_context& ioc, const config::node_config& cfg)
    : impl_(std::make_unique<impl>(ioc, cfg)) {}
forwarder::~forwarder() = default;

void forwarder::start() {
  daemon::spawn_or_die(impl_->ioc.get_executor(), impl_->signal_loop(), "signals");
  daemon::spawn_or_die(impl_->ioc.get_executor(), impl_->bus_loop(), "bus");
}

}  // namespace hasys::event_store
