// Unsubscribed natsSubscriptions kept alive until nats.c's read loop can no longer touch them.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <vector>

namespace hasys::bus::detail {

// nats.c before 3.6 (Debian ships 3.4.1) looks a subscription up under the connection's subsMu,
// then uses it after releasing the lock without holding a reference. If we unsubscribe and
// destroy it in that window, the read loop locks freed memory: a crash, or a read loop hung
// for good on a garbage mutex (nats.c issue #637, fixed by #638). Seen here under subscription
// churn. So our reference is kept until the read loop has provably moved on:
// - nats.c counts every inbound message (inMsgs) under subsMu just before that lookup, and a
//   connection has one read loop, so once inMsgs has grown past its value at unsubscribe time
//   the call that might hold the pointer has returned;
// - or the connection is closed, which joins the read loop.
// Used on the connection's executor only.
class retired_subscriptions {
 public:
  explicit retired_subscriptions(natsConnection* nc) noexcept;
  ~retired_subscriptions();
  retired_subscriptions(const retired_subscriptions&) = delete;
  retired_subscriptions& operator=(const retired_subscriptions&) = delete;

  // sub has been unsubscribed; it is destroyed now if that is safe, else later.
  void retire(natsSubscription* sub);
  // Destroys those the read loop has passed. Cheap when nothing waits.
  void sweep() {
    if (!waiting_.empty()) sweep_now();
  }
  // The connection is closed (its read loop joined): destroy everything, now and from now on.
  void connection_closed() noexcept;

 private:
  struct entry {
    natsSubscription* sub;
    std::uint64_t in_msgs;  // the connection's inbound count when it was unsubscribed
  };
  void sweep_now();
  bool in_msgs(std::uint64_t& out) noexcept;

  natsConnection* nc_;
  natsStatistics* stats_ = nullptr;
  bool closed_ = false;
  std::vector<entry> waiting_;
};

}  // namespace hasys::bus::detail
