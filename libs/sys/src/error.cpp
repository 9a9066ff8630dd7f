// The error category of libs/sys.
#include <hasys/sys/error.hpp>

namespace hasys::sys {

namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "hasys.sys"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::address_absent:
        return "the address is not on the interface (expired or removed)";
      case errc::prefix_mismatch:
        return "the address is on the interface with another prefix length";
      case errc::no_ethernet_address:
        return "the interface has no Ethernet (6-byte) hardware address";
      case errc::bad_reply:
        return "malformed netlink reply";
      case errc::no_reply:
        return "no netlink reply from the kernel in time";
    }
    return "unknown hasys.sys error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& sys_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace hasys::sys
