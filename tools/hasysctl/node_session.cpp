// Loading the node config, connecting to its bus, and running a command's coroutine.
#include "node_session.hpp"

#include "cli.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <cstdlib>
#include <iostream>

namespace asio = boost::asio;

namespace hasys::ctl {

namespace {
std::string& config_path_storage() {
  static std::string path = [] {
    const char* env = std::getenv("HASYS_CONFIG");
    return std::string(env && *env ? env : "/etc/hasys/node.toml");
  }();
  return path;
}
}  // namespace

void set_config_path(std::string path) { config_path_storage() = std::move(path); }
const std::string& config_path() { return config_path_storage(); }

void take_global_options(std::vector<std::string_view>& args) {
  while (args.size() >= 2 && (args[0] == "--config" || args[0] == "-c")) {
    set_config_path(std::string(args[1]));
    args.erase(args.begin(), args.begin() + 2);
  }
}

std::optional<config::node_config> load_node_config() {
  auto loaded = config::load_file(config_path());
  if (!loaded.config) {
    std::cerr << "hasysctl: " << config_path() << " is not a valid node configuration:\n";
    for (const auto& e : loaded.errors) std::cerr << "  " << e.to_string() << '\n';
  }
  return std::move(loaded.config);
}

std::vector<std::string> node_session::groups(std::optional<std::string_view> only) const {
  std::vector<std::string> out;
  for (const auto& g : cfg.groups)
    if (!only || g.name == *only) out.push_back(g.name);
  return out;
}

std::chrono::milliseconds common_program_timeout(const config::node_config& cfg,
                                                 std::string_view group) {
  using namespace std::chrono_literals;
  for (const auto& g : cfg.groups)
    if (g.name == group)
      return std::chrono::duration_cast<std::chrono::milliseconds>(g.common_start_wait) + 5s;
  return 65s;
}

std::string node_session::subject(std::string_view group, std::string_view tail) const {
  return "hasys." + std::string(group) + "." + cfg.name + "." + std::string(tail);
}

asio::awaitable<boost::system::result<bus::message>> node_session::exchange(
    std::string_view group, std::string_view tail, std::chrono::milliseconds timeout) {
  const char* user = std::getenv("SUDO_USER") ? std::getenv("SUDO_USER") : std::getenv("USER");
  proto::command_request body{origin, user ? user : ""};
  co_return co_await bus.request(subject(group, tail), proto::to_json(body), timeout);
}

asio::awaitable<boost::system::result<bus::message>> node_session::request(
    std::string_view group, std::string_view verb, std::chrono::milliseconds timeout) {
  co_return co_await exchange(group, "cmd." + std::string(verb), timeout);
}

asio::awaitable<command_outcome> node_session::ask(std::string_view group, std::string_view tail,
                                                   std::string_view daemon,
                                                   std::chrono::milliseconds timeout) {
  command_outcome o;
  auto reply = co_await exchange(group, tail, timeout);
  if (!reply) {
    o.text = std::string(daemon) + " does not answer (" + reply.error().message() + ")";
    co_return o;
  }
  o.answered = true;
  o.json = reply->data;
  auto r = proto::from_json<proto::command_reply>(reply->data);
  if (!r) {
    o.text = std::string(daemon) + " gave a bad reply (" + r.error().message() + ")";
    co_return o;
  }
  o.accepted = r->accepted;
  o.text = (r->accepted ? "accepted: " : "refused: ") + r->text;
  co_return o;
}

asio::awaitable<group_status> node_session::status(std::string_view group,
                                                   std::chrono::milliseconds timeout) {
  group_status out;
  auto reply = co_await request(group, "status", timeout);
  if (!reply) {
    out.error = "hasys-heartbeat does not answer (" + reply.error().message() + ")";
    co_return out;
  }
  auto st = proto::from_json<proto::status_msg>(reply->data);
  if (!st) {
    out.error = "bad reply (" + st.error().message() + ")";
    co_return out;
  }
  out.status = std::move(*st);
  out.json = std::move(reply->data);
  co_return out;
}

int with_node_session(std::function<asio::awaitable<int>(node_session&)> body,
                      std::chrono::milliseconds limit) {
  auto cfg = load_node_config();
  if (!cfg) return exit_failure;
  asio::io_context ioc(1);
  int rc = exit_failure;
  node_session s{std::move(*cfg), {}};
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<int> {
        auto o = bus::node_options(s.cfg.bus_url, s.cfg.bus_credentials, "hasysctl");
        o.retry_on_failed_connect = false;
        s.bus = co_await bus::connection::open(ioc.get_executor(), o);
        if (limit.count() == 0) co_return co_await body(s);
        auto r = co_await bus::with_deadline(body(s), limit);
        if (!r) {
          std::cerr << "hasysctl: no answer within " << limit.count() << " ms\n";
          co_return exit_failure;
        }
        co_return *r;
      },
      [&](std::exception_ptr e, int result) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            std::cerr << "hasysctl: " << x.what() << " (bus " << s.cfg.bus_url << ")\n";
          }
          rc = exit_failure;
        } else {
          rc = result;
        }
        s.bus.close();
      });
  ioc.run();
  return rc;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view t) {
  double value = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(t.data() + t.size() - end));
  double ms = 0;
  if (unit.empty() || unit == "s") ms = value * 1000;
  else if (unit == "ms") ms = value;
  else if (unit == "m") ms = value * 60'000;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

}  // namespace hasys::ctl
