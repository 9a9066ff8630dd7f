// The event store's messages: Boost.JSON's conversions of described structs.
#include <hasys/proto/event_store_messages.hpp>

#include <boost/json.hpp>

namespace hasys::proto {

std::string ingest_subject(std::string_view node) {
  return "hasys.mgr.evt.ingest." + std::string(node);
}

std::string to_json(const ingest_request& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string to_json(const export_request& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string to_json(const export_reply& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string itsm_subject(std::string_view group, std::string_view node) {
  return "hasys.itsm." + std::string(group) + "." + std::string(node);
}
std::string to_json(const stored_event& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string to_json(const fault_rules& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string to_json(const fault_rules_reply& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string to_json(const event_query& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string to_json(const event_page& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
std::string to_json(const ingest_reply& m) {
  return boost::json::serialize(boost::json::value_from(m));
}

}  // namespace hasys::proto
