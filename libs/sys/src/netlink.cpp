// The rtnetlink request/reply exchange: one socket per request, extended acks, strict dumps.
#include "netlink.hpp"

#include "unique_fd.hpp"

#include <hasys/sys/error.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace hasys::sys::detail {

namespace {

constexpr std::size_t receive_buffer_size = std::size_t{64} * 1024;
constexpr timeval reply_timeout{5, 0};

std::uint32_t next_sequence() {
  static std::atomic<std::uint32_t> seq{1};
  return seq.fetch_add(1, std::memory_order_relaxed);
}

boost::system::error_code last_errno() { return {errno, boost::system::system_category()}; }

unique_fd open_route_socket(boost::system::error_code& ec) {
  unique_fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) {
    ec = last_errno();
    return fd;
  }
  const int on = 1;
  // Best effort: older kernels lack these; the exchange works without them.
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof on);
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &reply_timeout, sizeof reply_timeout);
  return fd;
}

// The error message of an NLMSG_ERROR carrying extended-ack attributes.
std::string extack_message(const nlmsghdr& m) {
  if ((m.nlmsg_flags & NLM_F_ACK_TLVS) == 0) return {};
  const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(&m));
  // With NLM_F_CAPPED the original request is echoed as its header only.
  std::size_t offset = NLMSG_ALIGN(sizeof(nlmsgerr));
  if ((m.nlmsg_flags & NLM_F_CAPPED) == 0)
    offset += NLMSG_ALIGN(err->msg.nlmsg_len) - sizeof(nlmsghdr);
  const std::size_t payload = m.nlmsg_len - NLMSG_HDRLEN;
  if (offset >= payload) return {};
  const auto* start = reinterpret_cast<const std::byte*>(NLMSG_DATA(&m)) + offset;
  attribute_table attrs(start, payload - offset, NLMSGERR_ATTR_MAX);
  return std::string(attrs.string(NLMSGERR_ATTR_MSG));
}

}  // namespace

netlink_request::netlink_request(std::uint16_t type, std::uint16_t flags, const void* family_header,
                                 std::size_t family_header_size)
    : buffer_(NLMSG_SPACE(family_header_size)) {
  auto& h = header();
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(family_header_size));
  h.nlmsg_type = type;
  h.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
  std::memcpy(NLMSG_DATA(&h), family_header, family_header_size);
}

void netlink_request::add(std::uint16_t attr_type, const void* data, std::size_t size) {
  const std::size_t at = NLMSG_ALIGN(header().nlmsg_len);
  buffer_.resize(at + RTA_SPACE(size));
  auto* attr = reinterpret_cast<rtattr*>(buffer_.data() + at);
  attr->rta_type = attr_type;
  attr->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
  if (size > 0) std::memcpy(RTA_DATA(attr), data, size);
  header().nlmsg_len = static_cast<std::uint32_t>(at + RTA_LENGTH(size));
}

void netlink_request::add_string(std::uint16_t attr_type, std::string_view s) {
  std::string z(s);
  add(attr_type, z.c_str(), z.size() + 1);
}

bool netlink_request::is_dump() const noexcept {
  const auto& h = *reinterpret_cast<const nlmsghdr*>(buffer_.data());
  return (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
}

netlink_status netlink_transact(netlink_request& req,
                                const std::function<void(const nlmsghdr&)>& on_reply) {
  netlink_status status;
  unique_fd fd = open_route_socket(status.ec);
  if (!fd) return status;
  const bool dump = req.is_dump();
  auto& h = req.header();
  h.nlmsg_seq = next_sequence();
  if (!dump) h.nlmsg_flags |= NLM_F_ACK;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  const auto out = req.bytes();
  if (::sendto(fd.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    status.ec = last_errno();
    return status;
  }
  std::vector<std::byte> buffer(receive_buffer_size);
  for (;;) {
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd.get(), &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      status.ec = (errno == EAGAIN || errno == EWOULDBLOCK) ? make_error_code(errc::no_reply)
                                                            : last_errno();
      return status;
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0 || n == 0) {
      status.ec = make_error_code(errc::bad_reply);
      return status;
    }
    auto len = static_cast<unsigned int>(n);
    for (auto* m = reinterpret_cast<const nlmsghdr*>(buffer.data()); NLMSG_OK(m, len);
         m = NLMSG_NEXT(m, len)) {
      if (m->nlmsg_seq != h.nlmsg_seq) continue;
      if (m->nlmsg_type == NLMSG_ERROR) {
        if (m->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
          status.ec = make_error_code(errc::bad_reply);
          return status;
        }
        const int err = static_cast<const nlmsgerr*>(NLMSG_DATA(m))->error;
        if (err != 0) status.ec = {-err, boost::system::system_category()};
        status.kernel_message = extack_message(*m);
        return status;
      }
      if (m->nlmsg_type == NLMSG_DONE) {
        int err = 0;
        if (m->nlmsg_len >= NLMSG_LENGTH(sizeof err)) std::memcpy(&err, NLMSG_DATA(m), sizeof err);
        if (err < 0) status.ec = {-err, boost::system::system_category()};
        return status;
      }
      if (on_reply) on_reply(*m);
    }
  }
}

attribute_table::attribute_table(const void* first, std::size_t size, std::uint16_t max)
    : attrs_(static_cast<std::size_t>(max) + 1, nullptr) {
  auto len = static_cast<int>(size);
  for (auto* a = static_cast<const rtattr*>(first); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    const auto type = static_cast<std::uint16_t>(a->rta_type & NLA_TYPE_MASK);
    if (type <= max) attrs_[type] = a;
  }
}

std::span<const std::uint8_t> attribute_table::bytes(std::uint16_t type) const noexcept {
  const rtattr* a = get(type);
  if (a == nullptr) return {};
  return {static_cast<const std::uint8_t*>(RTA_DATA(a)), RTA_PAYLOAD(a)};
}

std::string_view attribute_table::string(std::uint16_t type) const noexcept {
  const auto b = bytes(type);
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const auto nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

std::string describe_status(std::string_view what, const netlink_status& s) {
  std::string text(what);
  text += ": ";
  text += s.ec.message();
  if (!s.kernel_message.empty()) text += " (kernel: " + s.kernel_message + ")";
  return text;
}

std::optional<boost::asio::ip::address> address_from(std::uint8_t family,
                                                     std::span<const std::uint8_t> b) {
  if (family == AF_INET && b.size() == 4) {
    boost::asio::ip::address_v4::bytes_type v4;
    std::copy(b.begin(), b.end(), v4.begin());
    return boost::asio::ip::address_v4(v4);
  }
  if (family == AF_INET6 && b.size() == 16) {
    boost::asio::ip::address_v6::bytes_type v6;
    std::copy(b.begin(), b.end(), v6.begin());
    return boost::asio::ip::address_v6(v6);
  }
  return std::nullopt;
}

}  // namespace hasys::sys::detail
