#include <hasys/events/stream.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace json = boost::json;

namespace hasys::events {

std::string stream_config_json(std::uint64_t max_bytes) {
  json::object o;
  o["name"] = stream_name;
  o["subjects"] = json::array{json::string(stream_subjects)};
  o["retention"] = "limits";
  o["storage"] = "file";
  o["discard"] = "old";
  o["max_bytes"] = static_cast<std::int64_t>(max_bytes);
  o["max_msgs"] = -1;
  o["max_age"] = 0;
  o["num_replicas"] = 1;
  o["duplicate_window"] = duplicate_window_ns;
  return json::serialize(o);
}

bool config_is(std::string_view info_reply, std::uint64_t max_bytes) {
  json::error_code ec;
  auto v = json::parse(info_reply, ec);
  if (ec || !v.is_object()) return false;
  const auto* have = v.as_object().if_contains("config");
  if (!have || !have->is_object()) return false;
  const auto want = json::parse(stream_config_json(max_bytes)).as_object();
  for (const auto& [key, value] : want) {
    const auto* h = have->as_object().if_contains(key);
    if (!h || *h != value) return false;
  }
  return true;
}

std::optional<api_error> error_of(std::string_view reply_body) {
  json::error_code ec;
  auto v = json::parse(reply_body, ec);
  if (ec || !v.is_object())
    return api_error{0, 0, "not a JetStream reply: " + std::string(reply_body.substr(0, 200))};
  const auto* e = v.as_object().if_contains("error");
  if (!e || !e->is_object()) return std::nullopt;
  api_error out;
  const auto& eo = e->as_object();
  if (const auto* c = eo.if_contains("code"); c && c->is_int64())
    out.code = static_cast<int>(c->as_int64());
  if (const auto* c = eo.if_contains("err_code"); c && c->is_int64())
    out.err_code = static_cast<int>(c->as_int64());
  if (const auto* d = eo.if_contains("description"); d && d->is_string())
    out.description = d->as_string();
  return out;
}

std::optional<pub_ack> pub_ack_of(std::string_view reply_body) {
  json::error_code ec;
  auto v = json::parse(reply_body, ec);
  if (ec || !v.is_object() || v.as_object().contains("error")) return std::nullopt;
  const auto& o = v.as_object();
  const auto* seq = o.if_contains("seq");
  if (!seq || !seq->is_number()) return std::nullopt;
  pub_ack a;
  a.seq = seq->is_uint64() ? seq->as_uint64()
                           : static_cast<std::uint64_t>(seq->to_number<std::int64_t>());
  if (const auto* d = o.if_contains("duplicate"); d && d->is_bool()) a.duplicate = d->as_bool();
  return a;
}

}  // namespace hasys::events
