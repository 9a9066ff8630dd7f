// Errors of the system primitives: the library's own codes, and diagnostics naming the object.
#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

#include <string>
#include <type_traits>

namespace hasys::sys {

// Failures the kernel has no errno for. Kernel errors keep their system category (EPERM,
// ENODEV, EADDRNOTAVAIL...), so callers can compare with boost::system::errc values.
enum class errc {
  address_absent = 1,   // refresh of an address that is not (or no longer) on the interface
  prefix_mismatch,      // the address is on the interface, but with another prefix length
  no_ethernet_address,  // the interface has no 6-byte hardware address (loopback, tun, ...)
  bad_reply,            // a netlink reply the library could not parse
  no_reply,             // the kernel did not answer a netlink request in time
};

const boost::system::error_category& sys_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), sys_category()};
}

// Filled by the overloads that take it (boost.mysql style): a sentence for people that names the
// operation, the interface and the address, and the kernel's own extended-ack text when it sent
// one. Empty on success.
struct diagnostics {
  std::string message;
};

}  // namespace hasys::sys

template <>
struct boost::system::is_error_code_enum<hasys::sys::errc> : std::true_type {};
