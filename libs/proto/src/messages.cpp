// Boost.JSON conversions of the bus messages: the one place where their field names live.
#include <hasys/proto/messages.hpp>
#include <hasys/proto/registration_messages.hpp>
#include <hasys/proto/config_messages.hpp>
#include <hasys/proto/event_store_messages.hpp>
#include <hasys/proto/monitor_messages.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace json = boost::json;

namespace hasys::proto {

namespace {

struct category final : boost::system::error_category {
  const char* name() const noexcept override { return "hasys.proto"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::bad_json: return "not valid JSON";
      case errc::unsupported_version: return "unsupported message version";
      case errc::bad_field: return "a field is missing or has the wrong type";
    }
    return "unknown error";
  }
};

struct field_error {};  // thrown inside conversions, turned into errc::bad_field

const json::value& at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) throw field_error{};
  return *v;
}

template <class T>
T get(const json::object& o, std::string_view key) {
  auto r = json::try_value_to<T>(at(o, key));
  if (!r) throw field_error{};
  return *r;
}

template <class T>
T get_or(const json::object& o, std::string_view key, T fallback) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  auto r = json::try_value_to<T>(*v);
  if (!r) throw field_error{};
  return *r;
}

const json::object& obj(const json::value& v) {
  if (!v.is_object()) throw field_error{};
  return v.get_object();
}

cluster::role role_of(const std::string& s) {
  auto r = cluster::role_from_string(s);
  if (!r) throw field_error{};
  return *r;
}

cluster::failover_mode mode_of(const std::string& s) {
  if (s == "auto") return cluster::failover_mode::automatic;
  if (s == "manual") return cluster::failover_mode::manual;
  throw field_error{};
}

cluster::severity severity_of(const std::string& s) {
  for (auto v : {cluster::severity::information, cluster::severity::warning, cluster::severity::critical})
    if (cluster::to_string(v) == s) return v;
  throw field_error{};
}

flow_phase phase_of(const std::string& s) {
  for (auto v : {flow_phase::idle, flow_phase::running, flow_phase::done, flow_phase::failed,
                 flow_phase::released, flow_phase::releasing})
    if (to_string(v) == s) return v;
  throw field_error{};
}

json::string str(std::string_view s) { return json::string(s); }

}  // namespace

// ---- conversions (found by ADL from value_from / value_to) ----

void tag_invoke(json::value_from_tag, json::value& jv, const link_view& m) {
  json::object o{{"configured", m.configured}, {"up", m.up}, {"sent", m.sent},
                 {"send_errors", m.send_errors}, {"received", m.received}};
  if (m.last_seen_ms_ago) o["last_seen_ms_ago"] = *m.last_seen_ms_ago;
  jv = std::move(o);
}
link_view tag_invoke(json::value_to_tag<link_view>, const json::value& jv) {
  const auto& o = obj(jv);
  link_view m;
  m.configured = get<bool>(o, "configured");
  m.up = get<bool>(o, "up");
  if (auto* v = o.if_contains("last_seen_ms_ago"); v && !v->is_null())
    m.last_seen_ms_ago = get<std::int64_t>(o, "last_seen_ms_ago");
  m.sent = get_or<std::uint64_t>(o, "sent", 0);
  m.send_errors = get_or<std::uint64_t>(o, "send_errors", 0);
  m.received = get_or<std::uint64_t>(o, "received", 0);
  return m;
}

void tag_invoke(json::value_from_tag, json::value& jv, const peer_view& m) {
  jv = json::object{{"name", m.name}, {"alive", m.alive}, {"role", str(cluster::to_string(m.role))},
                    {"mode", str(cluster::to_string(m.mode))}, {"epoch", m.epoch},
                    {"boot_id", m.boot_id}, {"gateway_ok", m.gateway_ok}, {"healthy", m.healthy},
                    {"health_failing", m.health_failing}, {"active_priority", m.active_priority}, {"held", m.held},
                    {"clock_unix_ms", m.clock_unix_ms}};
}
peer_view tag_invoke(json::value_to_tag<peer_view>, const json::value& jv) {
  const auto& o = obj(jv);
  peer_view m;
  m.name = get<std::string>(o, "name");
  m.alive = get<bool>(o, "alive");
  m.role = role_of(get<std::string>(o, "role"));
  m.mode = mode_of(get<std::string>(o, "mode"));
  m.epoch = get<std::uint64_t>(o, "epoch");
  m.boot_id = get_or<std::uint64_t>(o, "boot_id", 0);
  m.gateway_ok = get_or(o, "gateway_ok", false);
  m.healthy = get_or(o, "healthy", false);
  m.health_failing = get_or(o, "health_failing", 0);
  m.active_priority = get_or(o, "active_priority", false);
  m.held = get_or(o, "held", false);
  m.clock_unix_ms = get_or<std::int64_t>(o, "clock_unix_ms", 0);
  return m;
}

template <class T>
std::vector<T> list_or_empty(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  auto r = json::try_value_to<std::vector<T>>(*v);
  if (!r) throw field_error{};
  return *r;
}

std::map<std::string, std::uint64_t> counters_or_empty(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  auto r = json::try_value_to<std::map<std::string, std::uint64_t>>(*v);
  if (!r) throw field_error{};
  return *r;
}

void tag_invoke(json::value_from_tag, json::value& jv, const flow_view& m) {
  jv = json::object{{"pending", m.pending}, {"want_up", m.want_up}, {"epoch", m.epoch},
                    {"observed", m.observed}, {"detail", m.detail}, {"standalone", m.standalone},
                    {"executor_connected", m.executor_connected}, {"holding", m.holding},
                    {"resources", json::value_from(m.resources)},
                    {"executor_counters", json::value_from(m.executor_counters)},
                    {"ready", m.ready}, {"ready_unix_ms", m.ready_unix_ms}};
}
flow_view tag_invoke(json::value_to_tag<flow_view>, const json::value& jv) {
  const auto& o = obj(jv);
  flow_view m;
  m.pending = get<bool>(o, "pending");
  m.want_up = get<bool>(o, "want_up");
  m.epoch = get<std::uint64_t>(o, "epoch");
  m.observed = get_or<std::string>(o, "observed", "");
  m.detail = get_or<std::string>(o, "detail", "");
  m.standalone = get_or(o, "standalone", false);
  m.executor_connected = get_or(o, "executor_connected", false);
  m.holding = get_or(o, "holding", false);
  m.resources = list_or_empty<resource_status>(o, "resources");
  m.executor_counters = counters_or_empty(o, "executor_counters");
  m.ready = get_or<std::string>(o, "ready", "");
  m.ready_unix_ms = get_or<std::int64_t>(o, "ready_unix_ms", 0);
  return m;
}

void tag_invoke(json::value_from_tag, json::value& jv, const status_msg& m) {
  json::object dropped;
  for (const auto& [k, v] : m.dropped) dropped[k] = v;
  jv = json::object{
      {"v", schema_version}, {"group", m.group}, {"node", m.node},
      {"time_unix_ms", m.time_unix_ms}, {"boot_id", m.boot_id},
      {"role", str(cluster::to_string(m.role))}, {"mode", str(cluster::to_string(m.mode))},
      {"epoch", m.epoch}, {"role_for_ms", m.role_for_ms}, {"healthy", m.healthy},
      {"held", m.held}, {"handover", m.handover}, {"handover_request", m.handover_request},
      {"active_priority", m.active_priority}, {"period_ms", m.period_ms}, {"count", m.count},
      {"gateway", json::object{{"configured", m.gateway_configured}, {"address", m.gateway},
                               {"ok", m.gateway_ok}}},
      {"links", json::object{{"heartbeat", json::value_from(m.heartbeat_link)},
                             {"public", json::value_from(m.public_link)}}},
      {"peer", json::value_from(m.peer)}, {"flow", json::value_from(m.flow)},
      {"dropped", std::move(dropped)}, {"jitter", json::value_from(m.jitter)},
      {"health", json::value_from(m.health)}};
}
status_msg tag_invoke(json::value_to_tag<status_msg>, const json::value& jv) {
  const auto& o = obj(jv);
  status_msg m;
  m.group = get<std::string>(o, "group");
  m.node = get<std::string>(o, "node");
  m.time_unix_ms = get<std::int64_t>(o, "time_unix_ms");
  m.boot_id = get_or<std::uint64_t>(o, "boot_id", 0);
  m.role = role_of(get<std::string>(o, "role"));
  m.mode = mode_of(get<std::string>(o, "mode"));
  m.epoch = get<std::uint64_t>(o, "epoch");
  m.role_for_ms = get_or<std::int64_t>(o, "role_for_ms", 0);
  m.healthy = get<bool>(o, "healthy");
  m.held = get_or(o, "held", false);
  m.handover = get_or(o, "handover", false);
  m.handover_request = get_or(o, "handover_request", false);
  m.active_priority = get_or(o, "active_priority", false);
  m.period_ms = get_or<std::int64_t>(o, "period_ms", 0);
  m.count = get_or(o, "count", 0);
  const auto& gw = obj(at(o, "gateway"));
  m.gateway_configured = get<bool>(gw, "configured");
  m.gateway = get_or<std::string>(gw, "address", "");
  m.gateway_ok = get<bool>(gw, "ok");
  const auto& links = obj(at(o, "links"));
  m.heartbeat_link = json::value_to<link_view>(at(links, "heartbeat"));
  m.public_link = json::value_to<link_view>(at(links, "public"));
  m.peer = json::value_to<peer_view>(at(o, "peer"));
  m.flow = json::value_to<flow_view>(at(o, "flow"));
  if (auto* d = o.if_contains("dropped"))
    for (const auto& [k, v] : obj(*d)) m.dropped[std::string(k)] = json::value_to<std::uint64_t>(v);
  if (auto* j = o.if_contains("jitter"); j && !j->is_null()) {
    auto r = json::try_value_to<jitter_view>(*j);
    if (!r) throw field_error{};
    m.jitter = *r;
  }
  if (auto* h = o.if_contains("health"); h && !h->is_null()) {
    auto r = json::try_value_to<health_view>(*h);
    if (!r) throw field_error{};
    m.health = *r;
  }
  return m;
}

void tag_invoke(json::value_from_tag, json::value& jv, const heartbeat_metrics_msg& m) {
  json::object dropped;
  for (const auto& [k, v] : m.dropped) dropped[k] = v;
  jv = json::object{{"v", schema_version}, {"group", m.group}, {"node", m.node}, {"time_unix_ms", m.time_unix_ms},
                    {"period_ms", m.period_ms}, {"count", m.count}, {"jitter", json::value_from(m.jitter)},
                    {"links", json::object{{"heartbeat", json::value_from(m.heartbeat_link)},
                                           {"public", json::value_from(m.public_link)}}},
                    {"dropped", std::move(dropped)}};
}
heartbeat_metrics_msg tag_invoke(json::value_to_tag<heartbeat_metrics_msg>, const json::value& jv) {
  const auto& o = obj(jv);
  heartbeat_metrics_msg m;
  m.group = get<std::string>(o, "group");
  m.node = get<std::string>(o, "node");
  m.time_unix_ms = get<std::int64_t>(o, "time_unix_ms");
  m.period_ms = get_or<std::int64_t>(o, "period_ms", 0);
  m.count = get_or(o, "count", 0);
  auto j = json::try_value_to<jitter_view>(at(o, "jitter"));
  if (!j) throw field_error{};
  m.jitter = *j;
  const auto& links = obj(at(o, "links"));
  m.heartbeat_link = json::value_to<link_view>(at(links, "heartbeat"));
  m.public_link = json::value_to<link_view>(at(links, "public"));
  if (auto* d = o.if_contains("dropped"))
    for (const auto& [k, v] : obj(*d)) m.dropped[std::string(k)] = json::value_to<std::uint64_t>(v);
  return m;
}

void tag_invoke(json::value_from_tag, json::value& jv, const event_msg& m) {
  json::object details;
  for (const auto& [k, v] : m.details) details[k] = v;
  jv = json::object{{"v", schema_version}, {"time_unix_ms", m.time_unix_ms},
                    {"time", iso8601(m.time_unix_ms)}, {"group", m.group}, {"node", m.node},
                    {"source", m.source}, {"severity", str(cluster::to_string(m.level))},
                    {"code", m.code}, {"text", m.text}, {"details", std::move(details)}};
}
event_msg tag_invoke(json::value_to_tag<event_msg>, const json::value& jv) {
  const auto& o = obj(jv);
  event_msg m;
  m.time_unix_ms = get<std::int64_t>(o, "time_unix_ms");
  m.group = get<std::string>(o, "group");
  m.node = get<std::string>(o, "node");
  m.source = get_or<std::string>(o, "source", "");
  m.level = severity_of(get<std::string>(o, "severity"));
  m.code = get<std::string>(o, "code");
  m.text = get<std::string>(o, "text");
  if (auto* d = o.if_contains("details"))
    for (const auto& [k, v] : obj(*d)) m.details[std::string(k)] = json::value_to<std::string>(v);
  return m;
}

void tag_invoke(json::value_from_tag, json::value& jv, const command_request& m) {
  jv = json::object{{"v", schema_version}, {"origin", m.origin}, {"user", m.user},
                    {"action_id", m.action_id}, {"dry_run", m.dry_run}};
}
command_request tag_invoke(json::value_to_tag<command_request>, const json::value& jv) {
  const auto& o = obj(jv);
  return {get_or<std::string>(o, "origin", ""), get_or<std::string>(o, "user", ""),
          get_or<std::string>(o, "action_id", ""), get_or<bool>(o, "dry_run", false)};
}

void tag_invoke(json::value_from_tag, json::value& jv, const command_reply& m) {
  json::object o{{"v", schema_version}, {"accepted", m.accepted}, {"text", m.text}};
  if (m.dry_run) {  // only a preview's answer says so
    o["dry_run"] = true;
    o["role_after"] = m.role_after;
  }
  jv = std::move(o);
}
command_reply tag_invoke(json::value_to_tag<command_reply>, const json::value& jv) {
  const auto& o = obj(jv);
  return {get<bool>(o, "accepted"), get<std::string>(o, "text"), get_or<bool>(o, "dry_run", false),
          get_or<std::string>(o, "role_after", "")};
}

void tag_invoke(json::value_from_tag, json::value& jv, const desired_state& m) {
  jv = json::object{{"v", schema_version}, {"group", m.group}, {"epoch", m.epoch}, {"up", m.up},
                    {"handover", m.handover}, {"heartbeat_boot", m.heartbeat_boot},
                    {"watchdog_ms", m.watchdog_ms}, {"announce", m.announce},
                    {"sent_mono_ns", m.sent_mono_ns}, {"decided_mono_ns", m.decided_mono_ns},
                    {"peer_heard_mono_ns", m.peer_heard_mono_ns}};
}
desired_state tag_invoke(json::value_to_tag<desired_state>, const json::value& jv) {
  const auto& o = obj(jv);
  desired_state m;
  m.group = get<std::string>(o, "group");
  m.epoch = get<std::uint64_t>(o, "epoch");
  m.up = get<bool>(o, "up");
  m.handover = get_or(o, "handover", false);
  m.heartbeat_boot = get_or<std::uint64_t>(o, "heartbeat_boot", 0);
  m.watchdog_ms = get_or<std::int64_t>(o, "watchdog_ms", 0);
  m.announce = get_or<std::uint64_t>(o, "announce", 0);
  m.sent_mono_ns = get_or<std::int64_t>(o, "sent_mono_ns", 0);
  m.decided_mono_ns = get_or<std::int64_t>(o, "decided_mono_ns", 0);
  m.peer_heard_mono_ns = get_or<std::int64_t>(o, "peer_heard_mono_ns", 0);
  return m;
}

void tag_invoke(json::value_from_tag, json::value& jv, const observed_state& m) {
  jv = json::object{{"v", schema_version}, {"group", m.group}, {"epoch", m.epoch}, {"up", m.up},
                    {"phase", str(to_string(m.phase))}, {"detail", m.detail}, {"holding", m.holding},
                    {"resources", json::value_from(m.resources)}, {"counters", json::value_from(m.counters)},
                    {"ready", m.ready}, {"ready_unix_ms", m.ready_unix_ms}};
}
observed_state tag_invoke(json::value_to_tag<observed_state>, const json::value& jv) {
  const auto& o = obj(jv);
  observed_state m;
  m.group = get<std::string>(o, "group");
  m.epoch = get<std::uint64_t>(o, "epoch");
  m.up = get<bool>(o, "up");
  m.phase = phase_of(get<std::string>(o, "phase"));
  m.detail = get_or<std::string>(o, "detail", "");
  m.holding = get_or(o, "holding", false);
  m.resources = list_or_empty<resource_status>(o, "resources");
  m.counters = counters_or_empty(o, "counters");
  m.ready = get_or<std::string>(o, "ready", "");
  m.ready_unix_ms = get_or<std::int64_t>(o, "ready_unix_ms", 0);
  return m;
}

// ---- public functions ----

const boost::system::error_category& proto_category() noexcept {
  static const category c;
  return c;
}

std::string_view to_string(flow_phase p) noexcept {
  switch (p) {
    case flow_phase::idle: return "idle";
    case flow_phase::running: return "running";
    case flow_phase::done: return "done";
    case flow_phase::failed: return "failed";
    case flow_phase::released: return "released";
    case flow_phase::releasing: return "releasing";
  }
  return "unknown";
}

namespace {
template <class T>
std::string serialize_message(const T& m) {
  return json::serialize(json::value_from(m));
}
}  // namespace

std::string to_json(const status_msg& m) { return serialize_message(m); }
std::string to_json(const heartbeat_metrics_msg& m) { return serialize_message(m); }
std::string to_json(const event_msg& m) { return serialize_message(m); }
std::string to_json(const command_request& m) { return serialize_message(m); }
std::string to_json(const command_reply& m) { return serialize_message(m); }
std::string to_json(const desired_state& m) { return serialize_message(m); }
std::string to_json(const observed_state& m) { return serialize_message(m); }

template <class T>
boost::system::result<T> from_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return make_error_code(errc::bad_json);
  const auto* ver = v.get_object().if_contains("v");
  if (!ver || !ver->is_int64()) return make_error_code(errc::bad_field);
  if (ver->get_int64() < 1 || ver->get_int64() > schema_version)
    return make_error_code(errc::unsupported_version);
  try {
    return json::value_to<T>(v);
  } catch (const field_error&) {
    return make_error_code(errc::bad_field);
  } catch (const std::exception&) {  // value_to of a nested field with the wrong type
    return make_error_code(errc::bad_field);
  }
}

template boost::system::result<status_msg> from_json<status_msg>(std::string_view);
template boost::system::result<heartbeat_metrics_msg> from_json<heartbeat_metrics_msg>(std::string_view);
template boost::system::result<event_msg> from_json<event_msg>(std::string_view);
template boost::system::result<command_request> from_json<command_request>(std::string_view);
template boost::system::result<command_reply> from_json<command_reply>(std::string_view);
template boost::system::result<desired_state> from_json<desired_state>(std::string_view);
template boost::system::result<observed_state> from_json<observed_state>(std::string_view);
template boost::system::result<health_msg> from_json<health_msg>(std::string_view);
template boost::system::result<restart_request> from_json<restart_request>(std::string_view);
template boost::system::result<restart_reply> from_json<restart_reply>(std::string_view);
template boost::system::result<metrics_msg> from_json<metrics_msg>(std::string_view);
template boost::system::result<reboot_request> from_json<reboot_request>(std::string_view);
template boost::system::result<drbd_connect_request> from_json<drbd_connect_request>(std::string_view);
template boost::system::result<registration_msg> from_json<registration_msg>(std::string_view);
template boost::system::result<config_state> from_json<config_state>(std::string_view);
template boost::system::result<config_change_request> from_json<config_change_request>(std::string_view);
template boost::system::result<config_action> from_json<config_action>(std::string_view);
template boost::system::result<config_change_reply> from_json<config_change_reply>(std::string_view);
template boost::system::result<config_apply_request> from_json<config_apply_request>(std::string_view);
template boost::system::result<config_daemon_outcome> from_json<config_daemon_outcome>(std::string_view);
template boost::system::result<ingest_request> from_json<ingest_request>(std::string_view);
template boost::system::result<ingest_reply> from_json<ingest_reply>(std::string_view);
template boost::system::result<event_query> from_json<event_query>(std::string_view);
template boost::system::result<event_page> from_json<event_page>(std::string_view);
template boost::system::result<export_request> from_json<export_request>(std::string_view);
template boost::system::result<export_reply> from_json<export_reply>(std::string_view);
template boost::system::result<fault_rules> from_json<fault_rules>(std::string_view);
template boost::system::result<stored_event> from_json<stored_event>(std::string_view);
template boost::system::result<fault_rules_reply> from_json<fault_rules_reply>(std::string_view);

void duration_histogram::add(std::chrono::nanoseconds d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (counts.size() != histogram_bounds_us.size() + 1) counts.assign(histogram_bounds_us.size() + 1, 0);
  std::size_t i = 0;
  while (i < histogram_bounds_us.size() && us > histogram_bounds_us[i]) ++i;
  ++counts[i];
  ++count;
  max_us = std::max(max_us, us);
}

std::int64_t duration_histogram::percentile_us(double p) const noexcept {
  if (count == 0 || counts.empty()) return 0;
  const auto want = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= std::max<std::uint64_t>(want, 1))
      return i < histogram_bounds_us.size() ? std::min(histogram_bounds_us[i], max_us) : max_us;
  }
  return max_us;
}

std::int64_t unix_ms_now() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso8601(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

}  // namespace hasys::proto
