// hasys-test-bus-tap: what a bus carries, as JSON lines, for the contract test (issue 10 item 6).
//
//   hasys-test-bus-tap --url URL [--credentials FILE] [--for SECONDS] [--until CHANNEL]...
//                      [--request SUBJECT BODY]... [--bad-request SUBJECT BODY]... SUBJECT
//
// Subscribes to SUBJECT (e.g. "hasys.>"), then sends each --request in turn and prints
//   {"kind":"request","subject":S,"data":BODY}   {"kind":"reply","subject":S,"data":REPLY}
// (a --bad-request is printed with kind "bad_request": a request meant to be refused, whose
// reply is what matters) and every message heard as {"kind":"message","subject":S,"data":D}. It
// ends once a message of each --until channel (an asyncapi channel name such as
// hasys.{group}.{node}.status) was heard, exit 0, or when --for seconds passed, exit 3 naming the
// channels not heard. `data` is the JSON payload itself, or a string when the payload is not JSON.
#include <hasys/bus/bus.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;

namespace {

struct args {
  std::string url, credentials;
  int seconds = 20;
  std::vector<std::string> until;
  std::string subject;
  struct request {
    std::string subject, body;
    bool bad = false;
  };
  std::vector<request> requests;
};

std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// A channel name with {parameters} matches a subject token for token.
bool matches(std::string_view channel, std::string_view subject) {
  auto c = tokens(channel), s = tokens(subject);
  if (c.size() != s.size()) return false;
  for (std::size_t i = 0; i < c.size(); ++i)
    if (!(c[i].starts_with('{') && c[i].ends_with('}')) && c[i] != s[i]) return false;
  return true;
}

void print(std::string_view kind, std::string_view subject, std::string_view data) {
  json::object line{{"kind", kind}, {"subject", subject}};
  boost::system::error_code ec;
  auto parsed = json::parse(data, ec);
  line["data"] = ec ? json::value(json::string(data)) : std::move(parsed);
  std::cout << json::serialize(line) << '\n' << std::flush;
}

asio::awaitable<int> run(args a) {
  auto ex = co_await asio::this_coro::executor;
  auto o = hasys::bus::node_options(a.url, a.credentials, "hasys-test-bus-tap");
  o.retry_on_failed_connect = false;
  auto conn = co_await hasys::bus::connection::open(ex, o);
  auto sub = conn.subscribe(a.subject, 65536);
  (void)co_await conn.flush(std::chrono::seconds(2));
  for (const auto& [subject, body, bad] : a.requests) {
    print(bad ? "bad_request" : "request", subject, body);
    auto reply = co_await conn.request(subject, body, std::chrono::seconds(5));
    if (!reply) {
      std::cerr << "no reply to " << subject << ": " << reply.error().message() << '\n';
      co_return 4;
    }
    print("reply", subject, reply->data);
  }

  std::set<std::string> missing(a.until.begin(), a.until.end());
  asio::steady_timer timer(ex, std::chrono::seconds(a.seconds));
  while (!missing.empty() || a.until.empty()) {
    auto r = co_await (sub.next() || timer.async_wait(asio::use_awaitable));
    if (r.index() == 1) break;
    auto got = std::move(std::get<0>(r));
    if (!got) co_return 5;
    // Its own refused requests come back too: they are marked as such, not checked.
    const bool own_bad = std::ranges::any_of(a.requests, [&](const args::request& r) {
      return r.bad && r.subject == got->subject && r.body == got->data;
    });
    print(own_bad ? "bad_request" : "message", got->subject, got->data);
    std::erase_if(missing, [&](const std::string& c) { return matches(c, got->subject); });
  }
  if (missing.empty() && !a.until.empty()) co_return 0;
  for (const auto& m : missing) std::cerr << "not heard: " << m << '\n';
  co_return a.until.empty() ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  args a;
  std::vector<std::string> v(argv + 1, argv + argc);
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto need = [&](std::size_t n) {
      if (i + n >= v.size()) {
        std::cerr << v[i] << " needs " << n << " value(s)\n";
        std::exit(2);
      }
    };
    if (v[i] == "--url")
      need(1), a.url = v[++i];
    else if (v[i] == "--credentials")
      need(1), a.credentials = v[++i];
    else if (v[i] == "--for")
      need(1), a.seconds = std::stoi(v[++i]);
    else if (v[i] == "--until")
      need(1), a.until.push_back(v[++i]);
    else if (v[i] == "--request" || v[i] == "--bad-request")
      need(2), a.requests.push_back({v[i + 1], v[i + 2], v[i] == "--bad-request"}), i += 2;
    else if (v[i].starts_with("--"))
      return std::cerr << "unknown option " << v[i] << '\n', 2;
    else
      a.subject = v[i];
  }
  if (a.url.empty() || a.subject.empty()) return std::cerr << "--url and SUBJECT are needed\n", 2;
  asio::io_context ioc(1);
  int rc = 1;
  auto main_task = run(std::move(a));
  asio::co_spawn(ioc, std::move(main_task), [&](std::exception_ptr e, int r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << "bus tap: " << x.what() << '\n';
      }
      rc = 1;
    } else {
      rc = r;
    }
  });
  ioc.run();
  return rc;
}
