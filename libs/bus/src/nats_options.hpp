// Our options as nats.c's natsOptions, and nats.c status codes as texts and error codes.
#pragma once

#include <hasys/bus/bus.hpp>

#include <nats/nats.h>

#include <memory>
#include <string>
#include <string_view>

namespace hasys::bus::detail {

struct options_deleter {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
using options_ptr = std::unique_ptr<natsOptions, options_deleter>;

// Every connection callback gets `closure`. Throws std::runtime_error naming the option nats.c
// refused (a bad URL is only noticed by natsConnection_Connect).
struct connection_callbacks {
  natsConnectionHandler disconnected;
  natsConnectionHandler reconnected;
  natsConnectionHandler closed;
};
options_ptr make_nats_options(const options& o, const connection_callbacks& cbs, void* closure);

// The URL without "user:password@", fit for logs and error texts.
std::string redact_url(std::string_view url);

// nats.c's text for the last error on this thread, else the status's generic text.
std::string last_error_text(natsStatus s);

// Request and flush outcomes.
boost::system::error_code to_error_code(natsStatus s) noexcept;

}  // namespace hasys::bus::detail
