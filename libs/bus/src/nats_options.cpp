// Our options as nats.c's natsOptions, and nats.c status codes as texts and error codes.
#include "nats_options.hpp"

#include <algorithm>
#include <stdexcept>

namespace hasys::bus::detail {

namespace {

void check(natsStatus s, const char* option) {
  if (s != NATS_OK) {
    throw std::runtime_error(std::string("bus: nats.c refused option ") + option + ": " +
                             last_error_text(s));
  }
}

}  // namespace

options_ptr make_nats_options(const options& o, const connection_callbacks& cbs, void* closure) {
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "create");
  options_ptr opts(raw);
  natsOptions* n = opts.get();
  check(natsOptions_SetURL(n, o.url.c_str()), "url");
  if (!o.user.empty() || !o.password.empty()) {
    check(natsOptions_SetUserInfo(n, o.user.c_str(), o.password.c_str()), "user/password");
  }
  if (!o.name.empty()) check(natsOptions_SetName(n, o.name.c_str()), "name");
  check(natsOptions_SetPingInterval(n, o.ping_interval.count()), "ping_interval");
  check(natsOptions_SetMaxPingsOut(n, o.max_pings_out), "max_pings_out");
  check(natsOptions_SetAllowReconnect(n, true), "allow_reconnect");
  check(natsOptions_SetMaxReconnect(n, -1), "max_reconnect");  // a local bus: never give up
  check(natsOptions_SetReconnectWait(n, o.reconnect_wait.count()), "reconnect_wait");
  check(natsOptions_SetTimeout(n, o.connect_timeout.count()), "connect_timeout");
  check(natsOptions_SetWriteDeadline(n, o.write_deadline.count()), "write_deadline");
  // One delivery thread for every subscription of the process instead of one per subscription;
  // our callbacks only copy and post, so it never lags.
  check(natsOptions_UseGlobalMessageDelivery(n, true), "global_message_delivery");
  check(natsOptions_SetDisconnectedCB(n, cbs.disconnected, closure), "disconnected_cb");
  check(natsOptions_SetReconnectedCB(n, cbs.reconnected, closure), "reconnected_cb");
  check(natsOptions_SetClosedCB(n, cbs.closed, closure), "closed_cb");
  return opts;
}

std::string redact_url(std::string_view url) {
  std::string out;
  for (std::size_t from = 0; from <= url.size();) {  // "nats://u:p@a:4222,nats://b:4222"
    const auto to = std::min(url.find(',', from), url.size());
    const auto one = url.substr(from, to - from);
    const auto scheme = one.find("://");
    const auto host_from = scheme == std::string_view::npos ? 0 : scheme + 3;
    const auto at = one.find('@', host_from);
    if (from > 0) out += ',';
    out += at == std::string_view::npos
               ? std::string(one)
               : std::string(one.substr(0, host_from)) + "***@" + std::string(one.substr(at + 1));
    from = to + 1;
  }
  return out;
}

std::string last_error_text(natsStatus s) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  if (last == s && text != nullptr && *text != '\0') return text;
  return natsStatus_GetText(s);
}

boost::system::error_code to_error_code(natsStatus s) noexcept {
  switch (s) {
    case NATS_OK:
      return {};
    case NATS_TIMEOUT:
      return errc::timeout;
    case NATS_NO_RESPONDERS:
      return errc::no_responders;
    case NATS_CONNECTION_CLOSED:
      return errc::closed;
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_INSUFFICIENT_BUFFER:
      return errc::not_connected;
    default:
      return errc::rejected;
  }
}

}  // namespace hasys::bus::detail
