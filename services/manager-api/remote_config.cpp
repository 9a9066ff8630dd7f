#include "remote_config.hpp"

#include <hasys/proto/config_messages.hpp>
#include <hasys/proto/messages.hpp>

#include <boost/json.hpp>

#include <chrono>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace hasys::manager {

namespace {

http_response reply(int status, const json::value& body) {
  return {status, "application/json", json::serialize(body), {}};
}
http_response refuse(int status, const std::string& why) {
  return reply(status, json::object{{"error", why}});
}
std::string subject(const std::string& group, const std::string& node, const char* verb) {
  return "hasys." + group + "." + node + ".cmd." + verb;
}

// One node's part of a change, as the response shows it.
struct node_step {
  std::string node;
  bool answered = false;
  proto::config_change_reply prepare, commit, restore;
  bool committed = false, restored = false;
  std::string no_answer;  // why it did not answer
  json::object view() const {
    json::object o{{"node", node}, {"answered", answered}};
    if (!answered) {
      o["ok"] = false;
      o["text"] =
          node + " does not answer (" + no_answer + "): its daemon or its link to the hub is down";
      o["errors"] = json::array();
      return o;
    }
    const auto& last = committed ? commit : prepare;
    o["ok"] = last.ok && (!committed || commit.ok);
    o["text"] = last.text;
    o["errors"] = json::value_from(prepare.errors);
    o["changed"] = last.changed;
    o["version"] = last.version;
    o["previous_version"] = prepare.previous_version;
    o["daemons"] = json::value_from(commit.daemons);
    if (restored) o["restored"] = json::object{{"ok", restore.ok}, {"text", restore.text}};
    return o;
  }
};

asio::awaitable<std::optional<proto::config_change_reply>> ask(const bus_request_fn& request,
                                                               std::string subj, std::string body,
                                                               std::string& why) {
  auto r = co_await request(std::move(subj), std::move(body), 10s);
  if (!r.ok) {
    why = r.error;
    co_return std::nullopt;
  }
  auto parsed = proto::from_json<proto::config_change_reply>(r.data);
  if (!parsed) {
    why = "an answer that cannot be read";
    co_return std::nullopt;
  }
  co_return *parsed;
}

}  // namespace

asio::awaitable<http_response> read_node_config(const bus_request_fn& request,
                                                const config_target& t) {
  std::string subj = subject(t.group, t.node, "config_get"), body = "{\"v\":1}";
  auto r = co_await request(std::move(subj), std::move(body), 5s);
  if (!r.ok)
    co_return refuse(504, t.node + " does not answer (" + r.error +
                              "): its daemon or its link to the hub is down");
  auto s = proto::from_json<proto::config_state>(r.data);
  if (!s) co_return refuse(502, t.node + " sent an answer that cannot be read");
  if (!s->ok) co_return refuse(409, t.node + ": " + s->text);
  auto v = json::value_from(*s);
  auto& o = v.as_object();
  o.erase("v");
  o.erase("ok");
  o.erase("text");
  o["peer"] = t.peer;
  co_return reply(200, v);
}

asio::awaitable<config_change_outcome> change_node_config(const bus_request_fn& request,
                                                          const config_target& t,
                                                          const std::string& user,
                                                          const std::string& body, bool dry_run,
                                                          std::string action_id) {
  config_change_outcome out;
  out.action_id = action_id;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  const char* shape =
      "{\"changes\": object, \"apply_to_peer\": boolean (optional), \"expected_version\": string "
      "(optional)}";
  if (ec || !v.is_object()) {
    out.response = refuse(400, std::string("the body must be JSON: ") + shape);
    co_return out;
  }
  const auto& o = v.as_object();
  for (const auto& [k, x] : o)
    if (k != "changes" && k != "apply_to_peer" && k != "expected_version") {
      out.response = refuse(400, std::string(k) + ": unknown field; expected " + shape);
      co_return out;
    }
  const auto* changes = o.if_contains("changes");
  if (!changes || !changes->is_object()) {
    out.response =
        refuse(400, std::string("changes: an object of settings is needed; expected ") + shape);
    co_return out;
  }
  if (changes->as_object().empty()) {
    out.response = refuse(400, "changes: empty; name at least one setting");
    co_return out;
  }
  bool to_peer = false;
  if (const auto* p = o.if_contains("apply_to_peer")) {
    if (!p->is_bool()) {
      out.response = refuse(400, "apply_to_peer: expected true or false");
      co_return out;
    }
    to_peer = p->as_bool();
  }
  std::string expected;
  if (const auto* e = o.if_contains("expected_version")) {
    if (!e->is_string()) {
      out.response = refuse(400, "expected_version: expected a string (the version read with GET)");
      co_return out;
    }
    expected = std::string(e->as_string());
  }
  if (to_peer && t.peer.empty()) {
    out.response = refuse(
        400, "apply_to_peer: the manager knows no peer of " + t.node + " in HA group " + t.group);
    co_return out;
  }
  std::vector<node_step> steps{{t.node}};
  if (to_peer) steps.push_back({t.peer});

  // 1. Checked and held on every target.
  bool all_ok = true, all_answered = true, field_errors = false;
  for (auto& st : steps) {
    proto::config_change_request rq{
        1, action_id, user, "manager", st.node == t.node ? expected : "", *changes};
    std::string subj = subject(t.group, st.node, "config_prepare"), body_text = proto::to_json(rq);
    auto r = co_await ask(request, std::move(subj), std::move(body_text), st.no_answer);
    st.answered = r.has_value();
    if (r) st.prepare = std::move(*r);
    all_answered = all_answered && st.answered;
    all_ok = all_ok && st.answered && st.prepare.ok;
    field_errors = field_errors || !st.prepare.errors.empty();
  }
  // config_commit / config_abort / config_restore of this change on one server. Arguments
  // trivially destroyed or referring to named objects: no temporary with a destructor is made in
  // the co_await expressions that call it (GCC 12 destroys those twice).
  auto act = [&](const char* verb, const std::string& node, std::string_view version,
                 std::string& why) -> asio::awaitable<std::optional<proto::config_change_reply>> {
    proto::config_action a{1, action_id, std::string(version), user};
    std::string subj = subject(t.group, node, verb), text = proto::to_json(a);
    co_return co_await ask(request, std::move(subj), std::move(text), why);
  };
  auto release_all = [&]() -> asio::awaitable<void> {
    for (auto& st : steps)
      if (st.answered && st.prepare.ok) {
        std::string why;
        co_await act("config_abort", st.node, "", why);
      }
  };
  auto nodes_view = [&] {
    json::array a;
    for (const auto& st : steps) a.push_back(st.view());
    return a;
  };
  if (!all_ok) {
    co_await release_all();
    const int status = field_errors ? 422 : !all_answered ? 504 : 409;
    std::string why = field_errors ? "settings refused: nothing was written on any server"
                      : !all_answered
                          ? "a server does not answer: nothing was written on any server"
                          : "refused: nothing was written on any server";
    for (const auto& st : steps)
      if (st.answered && !st.prepare.ok && st.prepare.errors.empty())
        why += "; " + st.node + ": " + st.prepare.text;
    out.response = reply(
        status, json::object{{"error", why}, {"action_id", action_id}, {"nodes", nodes_view()}});
    out.audit = "refused: " + why;
    co_return out;
  }
  if (dry_run) {
    co_await release_all();
    out.response = reply(
        200, json::object{{"dry_run", true}, {"action_id", action_id}, {"nodes", nodes_view()}});
    co_return out;
  }

  // 2. Written on every target; a failure undoes the ones written before it.
  for (std::size_t i = 0; i < steps.size(); ++i) {
    auto& st = steps[i];
    std::string why;
    auto r = co_await act("config_commit", st.node, "", why);
    st.committed = true;
    if (r)
      st.commit = std::move(*r);
    else
      st.commit.text = st.node + " does not answer the commit (" + why + ")";
    if (st.commit.ok) continue;
    for (std::size_t j = i + 1; j < steps.size(); ++j) {
      std::string w;
      co_await act("config_abort", steps[j].node, "", w);
    }
    for (std::size_t j = 0; j < i; ++j) {
      auto& done = steps[j];
      if (!done.commit.changed) continue;
      std::string w;
      auto rr = co_await act("config_restore", done.node, done.commit.previous_version, w);
      done.restored = true;
      if (rr)
        done.restore = std::move(*rr);
      else
        done.restore.text = done.node + " does not answer the restore (" + w + ")";
    }
    const std::string why_all =
        st.node + " could not write the change (" + st.commit.text +
        "); the servers written before it were brought back to their previous version";
    out.response = reply(
        502, json::object{{"error", why_all}, {"action_id", action_id}, {"nodes", nodes_view()}});
    out.audit = "failed: " + why_all;
    co_return out;
  }
  std::string keys;
  for (const auto& [k, x] : changes->as_object())
    keys += (keys.empty() ? "" : ", ") + std::string(k);
  out.audit = "written: " + keys + " on " + t.node + (to_peer ? " and " + t.peer : "");
  out.response = reply(
      200, json::object{{"dry_run", false}, {"action_id", action_id}, {"nodes", nodes_view()}});
  co_return out;
}

}  // namespace hasys::manager
