// The monitor's messages: Boost.JSON's conversions of described structs do all the work.
#include <hasys/proto/messages.hpp>
#include <hasys/proto/monitor_messages.hpp>
#include <hasys/proto/registration_messages.hpp>
#include <hasys/proto/config_messages.hpp>

#include <openssl/sha.h>

#include <boost/json.hpp>

namespace hasys::proto {

namespace {
template <class T>
std::string serialize(const T& m) {
  return boost::json::serialize(boost::json::value_from(m));
}
}  // namespace

std::string health_subject(std::string_view group, std::string_view node) {
  return "hasys.local." + std::string(group) + "." + std::string(node) + ".health";
}
std::string restart_subject(std::string_view group, std::string_view node) {
  return "hasys.local." + std::string(group) + "." + std::string(node) + ".restart";
}
std::string metrics_subject(std::string_view group, std::string_view node) {
  return "hasys." + std::string(group) + "." + std::string(node) + ".metrics";
}

std::string registration_subject(std::string_view group, std::string_view node) {
  return "hasys.reg." + std::string(group) + "." + std::string(node);
}
std::string to_json(const registration_msg& m) { return serialize(m); }

std::string to_json(const health_msg& m) { return serialize(m); }
std::string to_json(const restart_request& m) { return serialize(m); }
std::string to_json(const restart_reply& m) { return serialize(m); }
std::string to_json(const metrics_msg& m) { return serialize(m); }
std::string to_json(const reboot_request& m) { return serialize(m); }
std::string to_json(const drbd_connect_request& m) { return serialize(m); }
std::string drbd_connect_subject(std::string_view group, std::string_view node) {
  return "hasys.local." + std::string(group) + "." + std::string(node) + ".drbd_connect";
}

}  // namespace hasys::proto

// ---- remote configuration (config_messages.hpp) ----
namespace hasys::proto {
std::string config_apply_subject(std::string_view node, std::string_view daemon) {
  return "hasys.local." + std::string(node) + ".config." + std::string(daemon);
}
std::string config_version_of(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}
std::string to_json(const config_state& m) { return serialize(m); }
std::string to_json(const config_change_request& m) { return serialize(m); }
std::string to_json(const config_action& m) { return serialize(m); }
std::string to_json(const config_change_reply& m) { return serialize(m); }
std::string to_json(const config_apply_request& m) { return serialize(m); }
std::string to_json(const config_daemon_outcome& m) { return serialize(m); }
}  // namespace hasys::proto
