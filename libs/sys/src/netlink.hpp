// A minimal rtnetlink client: build one request, send it, collect the replies or the error.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::sys::detail {

// One request: the netlink header, the family header H, then attributes.
class netlink_request {
 public:
  netlink_request(std::uint16_t type, std::uint16_t flags, const void* family_header,
                  std::size_t family_header_size);
  template <class H>
  netlink_request(std::uint16_t type, std::uint16_t flags, const H& h)
      : netlink_request(type, flags, &h, sizeof h) {}

  void add(std::uint16_t attr_type, const void* data, std::size_t size);
  void add(std::uint16_t attr_type, std::span<const std::uint8_t> data) {
    add(attr_type, data.data(), data.size());
  }
  void add_u32(std::uint16_t attr_type, std::uint32_t v) { add(attr_type, &v, sizeof v); }
  void add_string(std::uint16_t attr_type, std::string_view s);  // NUL-terminated

  bool is_dump() const noexcept;
  nlmsghdr& header() noexcept { return *reinterpret_cast<nlmsghdr*>(buffer_.data()); }
  std::span<const std::byte> bytes() const noexcept { return buffer_; }

 private:
  std::vector<std::byte> buffer_;
};

// The outcome of a request: the kernel's errno as a system error code, and its extended-ack text.
struct netlink_status {
  boost::system::error_code ec;
  std::string kernel_message;  // NLMSGERR_ATTR_MSG, empty when the kernel sent none
};

// Sends req on a fresh NETLINK_ROUTE socket (in the calling thread's network namespace) and
// hands every reply message of the request (not the final ack/done) to on_reply. Requests get
// NLM_F_ACK added unless they are dumps.
netlink_status netlink_transact(netlink_request& req,
                                const std::function<void(const nlmsghdr&)>& on_reply = {});

// The attributes of a reply, by type (the last one wins); types above max are ignored.
class attribute_table {
 public:
  attribute_table(const void* first, std::size_t size, std::uint16_t max);
  const rtattr* get(std::uint16_t type) const noexcept {
    return type < attrs_.size() ? attrs_[type] : nullptr;
  }
  std::span<const std::uint8_t> bytes(std::uint16_t type) const noexcept;
  std::string_view string(std::uint16_t type) const noexcept;  // without the trailing NUL

 private:
  std::vector<const rtattr*> attrs_;
};

// The attributes after family header H in message m.
template <class H>
attribute_table attributes_after(const nlmsghdr& m, std::uint16_t max) {
  const auto* start = reinterpret_cast<const std::byte*>(NLMSG_DATA(&m)) + NLMSG_ALIGN(sizeof(H));
  const auto total =
      m.nlmsg_len > NLMSG_LENGTH(sizeof(H)) ? m.nlmsg_len - NLMSG_SPACE(sizeof(H)) : 0;
  return attribute_table(start, total, max);
}

// The family header of a reply, copied out (replies are only byte-aligned in our buffer's view).
template <class H>
bool family_header(const nlmsghdr& m, H& out) {
  if (m.nlmsg_len < NLMSG_LENGTH(sizeof(H))) return false;
  std::memcpy(&out, NLMSG_DATA(&m), sizeof(H));
  return true;
}

// "operation: strerror (kernel: text)" with the kernel's text only when there is one.
std::string describe_status(std::string_view what, const netlink_status& s);

// An address attribute (IFA_LOCAL, NDA_DST, ...) of the given family, if it has the right size.
std::optional<boost::asio::ip::address> address_from(std::uint8_t family, std::span<const std::uint8_t> b);

}  // namespace hasys::sys::detail
