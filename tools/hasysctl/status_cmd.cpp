// hasysctl status / watch / wait / events: the node's groups as its heartbeat daemon reports them.
#include "commands.hpp"
#include "node_session.hpp"
#include "status_text.hpp"

#include <hasys/events/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/json.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <deque>
#include <iostream>
#include <random>

namespace asio = boost::asio;

namespace hasys::ctl {

namespace {

using namespace std::chrono_literals;

constexpr std::array<option_spec, 3> status_options{{
    {"--json", "", false}, {"--group", "-g", true}, {"--timeout", "", true}}};

int status(arguments args) {
  std::string error;
  auto opts = parse_options(args, status_options, error);
  if (!error.empty() || !opts.positional.empty())
    return usage_error("hasysctl status", error.empty() ? "no arguments expected" : error);
  const auto timeout = parse_duration(opts.value("--timeout").value_or("2s")).value_or(2s);
  const bool json = opts.has("--json");
  const auto only = opts.value("--group");
  return with_node_session(
      [&](node_session& s) -> asio::awaitable<int> {
        int rc = exit_ok;
        auto names = s.groups(only);
        if (names.empty()) {
          std::cerr << "hasysctl status: no group " << *only << " on this node\n";
          co_return exit_failure;
        }
        for (const auto& g : names) {
          auto st = co_await s.status(g, timeout);
          if (!st.status) {
            std::cerr << "hasysctl status: group " << g << ": " << st.error << '\n';
            rc = exit_failure;
            continue;
          }
          if (json) std::cout << st.json << std::endl;
          else std::cout << status_text(*st.status);
        }
        co_return rc;
      },
      timeout * 4);
}

// Prints each message of the subscription on a line as it comes, until the subscription ends.
asio::awaitable<void> print_messages(bus::subscription& sub, bool json) {
  while (auto m = co_await sub.next()) {
    if (json) {
      std::cout << m->data << std::endl;
      continue;
    }
    auto e = proto::from_json<proto::event_msg>(m->data);
    if (!e) continue;
    std::cout << proto::iso8601(e->time_unix_ms) << ' ' << e->group << ' ' << e->node << ' '
              << cluster::to_string(e->level) << ' ' << e->code << ": " << e->text << std::endl;
  }
}

void print_event(const std::string& data, bool json) {
  if (json) {
    std::cout << data << '\n';
    return;
  }
  auto e = proto::from_json<proto::event_msg>(data);
  if (!e) return;
  std::cout << proto::iso8601(e->time_unix_ms) << ' ' << e->group << ' ' << e->node << ' '
            << cluster::to_string(e->level) << ' ' << e->code << ": " << e->text << '\n';
}

// The node's stored events (E6: its EVENTS stream), through an ephemeral pull consumer: the last
// `last` of them, or every one since `since` (a JetStream start time, RFC 3339).
asio::awaitable<int> print_stored(node_session& s, const std::string& group,
                                  std::optional<std::size_t> last, std::optional<std::string> since,
                                  bool json) {
  namespace json_ns = boost::json;
  json_ns::object c;
  c["deliver_policy"] = since ? "by_start_time" : "all";
  if (since) c["opt_start_time"] = *since;
  c["ack_policy"] = "none";
  c["filter_subject"] = "hasys.evt." + group + "." + s.cfg.name;
  c["inactive_threshold"] = std::int64_t{10'000'000'000};
  c["mem_storage"] = true;
  json_ns::object body{{"stream_name", events::stream_name}, {"config", std::move(c)}};
  std::string create = "$JS.API.CONSUMER.CREATE." + std::string(events::stream_name);
  std::string create_body = json_ns::serialize(body);
  auto r = co_await s.bus.request(std::move(create), std::move(create_body), 5s);
  if (!r) {
    std::cerr << "hasysctl events: "
              << (r.error() == make_error_code(bus::errc::no_responders)
                      ? "the node's nats-server keeps no events (no JetStream)"
                      : r.error().message())
              << '\n';
    co_return exit_failure;
  }
  if (auto e = events::error_of(r->data)) {
    if (e->err_code == events::err_stream_not_found) co_return exit_ok;  // nothing stored yet
    std::cerr << "hasysctl events: " << e->description << '\n';
    co_return exit_failure;
  }
  const std::string name(json_ns::parse(r->data).at("name").as_string());
  const std::string next = "$JS.API.CONSUMER.MSG.NEXT." + std::string(events::stream_name) + "." + name;
  const std::string inbox = "_INBOX.hasysctl." + std::to_string(std::random_device{}());
  auto sub = s.bus.subscribe(inbox, 4096);
  std::deque<std::string> kept;
  for (;;) {
    s.bus.publish(next, "{\"batch\":1000,\"no_wait\":true}", inbox);
    std::size_t got = 0;
    for (;;) {
      auto m = co_await bus::with_deadline(sub.next(), 5000ms);
      if (!m || !*m) co_return std::cerr << "hasysctl events: the stream stopped answering\n", exit_failure;
      if ((*m)->reply.empty()) break;  // a status: this batch is over
      ++got;
      kept.push_back(std::move((*m)->data));
      if (last && kept.size() > *last) kept.pop_front();
    }
    if (got == 0) break;
  }
  std::string del = "$JS.API.CONSUMER.DELETE." + std::string(events::stream_name) + "." + name;
  std::string none;
  co_await s.bus.request(std::move(del), std::move(none), 2s);
  for (const auto& d : kept) print_event(d, json);
  std::cout.flush();
  co_return exit_ok;
}

// Prints every message of a subject as it comes, until interrupted or for `--for` (then exit 0).
int follow(std::string_view prefix, arguments args, bool events) {
  static constexpr std::array<option_spec, 6> specs{{{"--json", "", false},
                                                     {"--group", "-g", true},
                                                     {"--for", "", true},
                                                     {"--follow", "-f", false},
                                                     {"--last", "-n", true},
                                                     {"--since", "", true}}};
  std::string error;
  auto opts = parse_options(args, specs, error);
  if (!error.empty()) return usage_error(prefix, error);
  if (events && (opts.value("--last") || opts.value("--since"))) {
    std::optional<std::size_t> last;
    if (auto v = opts.value("--last")) {
      try {
        std::size_t used = 0;
        const long n = std::stol(std::string(*v), &used);
        if (used != v->size() || n < 1) throw std::invalid_argument("n");
        last = static_cast<std::size_t>(n);
      } catch (const std::exception&) {
        return usage_error(prefix, "--last needs a count of events, 1 or more");
      }
    }
    std::optional<std::string> since;
    if (auto v = opts.value("--since")) {
      if (auto ago = parse_duration(*v)) {
        since = proto::iso8601(proto::unix_ms_now() -
                               std::chrono::duration_cast<std::chrono::milliseconds>(*ago).count());
      } else if (v->size() >= 20 && (*v)[4] == '-' && (*v)[10] == 'T') {
        since = std::string(*v);
      } else {
        return usage_error(prefix, "--since needs a duration ago (10m) or a UTC time (2026-12-01T10:00:00Z)");
      }
    }
    const std::string group(opts.value("--group").value_or("*"));
    const bool json = opts.has("--json");
    return with_node_session(
        [&](node_session& s) -> asio::awaitable<int> { co_return co_await print_stored(s, group, last, since, json); },
        30s);
  }
  if (events && !opts.has("--follow"))
    return usage_error(prefix, "say --follow (as they happen), --last N or --since T (stored on this node)");
  const auto limit = opts.value("--for") ? parse_duration(*opts.value("--for")) : std::optional(0ms);
  if (!limit) return usage_error(prefix, "--for needs a duration like 10s");
  const bool json = opts.has("--json") || !events;
  const std::string group(opts.value("--group").value_or("*"));
  return with_node_session(
      [&](node_session& s) -> asio::awaitable<int> {
        auto sub = s.bus.subscribe(events ? "hasys.evt." + group + "." + s.cfg.name
                                          : s.subject(group, "status"));
        co_await s.bus.flush(2s);
        // On stderr, so JSON on stdout stays clean: scripts and tests wait for this line.
        std::cerr << "following " << (events ? "events" : "status") << " of " << s.cfg.name << std::endl;
        if (limit->count() == 0) co_await print_messages(sub, json);
        else co_await bus::with_deadline(print_messages(sub, json), *limit);
        co_return exit_ok;
      },
      0ms);
}

int watch(arguments args) { return follow("hasysctl watch", args, false); }
int events(arguments args) { return follow("hasysctl events", args, true); }

// True when the status satisfies every condition given.
struct wait_condition {
  std::optional<std::string_view> role, peer_role, mode, heartbeat_link, public_link, flow;
  std::optional<bool> peer_alive, holding, healthy, peer_healthy;
  bool met(const proto::status_msg& s) const {
    const auto link_ok = [](std::optional<std::string_view> want, const proto::link_view& l) {
      return !want || (*want == "up") == l.up;
    };
    return (!role || *role == cluster::to_string(s.role)) &&
           (!peer_role || (s.peer.alive && *peer_role == cluster::to_string(s.peer.role))) &&
           (!mode || *mode == cluster::to_string(s.mode)) &&
           (!peer_alive || *peer_alive == s.peer.alive) && link_ok(heartbeat_link, s.heartbeat_link) &&
           link_ok(public_link, s.public_link) &&
           (!flow || (s.flow.executor_connected && *flow == s.flow.observed)) &&
           (!holding || *holding == s.flow.holding) && (!healthy || *healthy == s.healthy) &&
           (!peer_healthy || (s.peer.alive && *peer_healthy == s.peer.healthy));
  }
};

int wait(arguments args) {
  static constexpr std::array<option_spec, 12> specs{{
      {"--role", "", true}, {"--peer-role", "", true}, {"--mode", "", true}, {"--peer-alive", "", true},
      {"--heartbeat-link", "", true}, {"--public-link", "", true}, {"--group", "-g", true},
      {"--timeout", "", true}, {"--flow", "", true}, {"--holding", "", true}, {"--healthy", "", true},
      {"--peer-healthy", "", true}}};
  std::string error;
  auto opts = parse_options(args, specs, error);
  if (!error.empty()) return usage_error("hasysctl wait", error);
  wait_condition c{opts.value("--role"), opts.value("--peer-role"), opts.value("--mode"),
                   opts.value("--heartbeat-link"), opts.value("--public-link"), opts.value("--flow"),
                   std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  if (auto v = opts.value("--peer-alive")) c.peer_alive = *v == "yes" || *v == "true";
  if (auto v = opts.value("--holding")) c.holding = *v == "yes" || *v == "true";
  if (auto v = opts.value("--healthy")) c.healthy = *v == "yes" || *v == "true";
  if (auto v = opts.value("--peer-healthy")) c.peer_healthy = *v == "yes" || *v == "true";
  const auto timeout = parse_duration(opts.value("--timeout").value_or("30s"));
  if (!timeout) return usage_error("hasysctl wait", "--timeout needs a duration like 10s");
  const auto only = opts.value("--group");
  return with_node_session(
      [&](node_session& s) -> asio::awaitable<int> {
        auto names = s.groups(only);
        if (names.size() != 1) {
          std::cerr << "hasysctl wait: name one group with --group\n";
          co_return exit_usage;
        }
        auto sub = s.bus.subscribe(s.subject(names[0], "status"));
        co_await s.bus.flush(2s);
        // The current status first (it may already hold), then every change as it is published.
        if (auto r = co_await s.request(names[0], "status", 2s)) {
          if (auto st = proto::from_json<proto::status_msg>(r->data); st && c.met(*st)) {
            std::cout << r->data << std::endl;
            co_return exit_ok;
          }
        }
        while (auto m = co_await sub.next()) {
          auto st = proto::from_json<proto::status_msg>(m->data);
          if (st && c.met(*st)) {
            std::cout << m->data << std::endl;
            co_return exit_ok;
          }
        }
        co_return exit_failure;
      },
      *timeout);
}

}  // namespace

int status_command(arguments args) { return status(args); }
int watch_command(arguments args) { return watch(args); }
int wait_command(arguments args) { return wait(args); }
int events_command(arguments args) { return events(args); }

}  // namespace hasys::ctl
