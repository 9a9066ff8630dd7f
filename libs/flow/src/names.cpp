// Names of the flow machine's enumerations, as they appear in status, events and JSON.
#include <hasys/flow/types.hpp>

namespace hasys::flow {

std::string_view to_string(resource_kind k) noexcept {
  switch (k) {
    case resource_kind::vip: return "vip";
    case resource_kind::shared_disk: return "shared_disk";
    case resource_kind::drbd: return "drbd";
    case resource_kind::application: return "application";
    case resource_kind::database: return "database";
    case resource_kind::wait: return "wait";
  }
  return "unknown";
}

std::string_view to_string(presence p) noexcept {
  switch (p) {
    case presence::unknown: return "unknown";
    case presence::present: return "present";
    case presence::absent: return "absent";
  }
  return "unknown";
}

std::string_view to_string(phase p) noexcept {
  switch (p) {
    case phase::idle: return "idle";
    case phase::running: return "running";
    case phase::done: return "done";
    case phase::failed: return "failed";
    case phase::releasing: return "releasing";
    case phase::released: return "released";
  }
  return "unknown";
}

std::string_view to_string(io_op o) noexcept {
  switch (o) {
    case io_op::check: return "check";
    case io_op::refresh: return "refresh";
    case io_op::release: return "release";
    case io_op::announce: return "announce";
  }
  return "unknown";
}

}  // namespace hasys::flow
