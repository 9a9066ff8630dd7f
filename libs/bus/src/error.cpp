// The bus's error category, the text-error exception, and names of connection events.
#include <hasys/bus/bus.hpp>

#include <stdexcept>

namespace hasys::bus {

namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "hasys.bus"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::timeout:
        return "no reply within the request's timeout";
      case errc::no_responders:
        return "no responders: nobody subscribes to the request's subject";
      case errc::not_connected:
        return "not connected to the bus (reconnecting)";
      case errc::closed:
        return "the bus connection is closed";
      case errc::rejected:
        return "refused by nats.c: bad subject or payload over the server's max_payload";
    }
    return "unknown hasys.bus error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& bus_category() noexcept {
  static const category instance;
  return instance;
}

void throw_exception_from_error(const error_message& e, const boost::source_location&) {
  throw std::runtime_error(e.text);
}

std::string_view to_string(conn_event e) noexcept {
  switch (e) {
    case conn_event::connected:
      return "connected";
    case conn_event::disconnected:
      return "disconnected";
    case conn_event::reconnected:
      return "reconnected";
    case conn_event::closed:
      return "closed";
  }
  return "unknown";
}

}  // namespace hasys::bus
