// ICMP echo to one address over a raw socket; every echo reply of ours is a success.
#pragma once

#include <netinet/in.h>

#include <cstdint>

#include "success_log.hpp"
#include "unique_fd.hpp"

namespace hasys::labprobe {

class icmp_pinger {
 public:
  explicit icmp_pinger(in_addr target);  // throws std::system_error without CAP_NET_RAW

  int fd() const { return fd_.get(); }
  void send();                     // one echo request, the next sequence number
  void receive(success_log& log);  // reads every pending datagram, records our echo replies

  std::uint64_t sent() const { return sent_; }
  std::uint64_t send_errors() const { return send_errors_; }

 private:
  unique_fd fd_;
  in_addr target_;
  std::uint16_t id_;
  std::uint16_t sequence_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t send_errors_ = 0;
};

}  // namespace hasys::labprobe
