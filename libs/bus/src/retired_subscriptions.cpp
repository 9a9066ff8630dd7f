// Unsubscribed natsSubscriptions kept alive until nats.c's read loop can no longer touch them.
#include "retired_subscriptions.hpp"

#include <algorithm>
#include <cstdint>

namespace hasys::bus::detail {

retired_subscriptions::retired_subscriptions(natsConnection* nc) noexcept : nc_(nc) {
  (void)natsStatistics_Create(&stats_);
}

retired_subscriptions::~retired_subscriptions() {
  // Only reached after connection_closed(); anything left would be a use-after-free risk, so it
  // is left allocated rather than destroyed.
  natsStatistics_Destroy(stats_);
}

bool retired_subscriptions::in_msgs(std::uint64_t& out) noexcept {
  return stats_ != nullptr && natsConnection_GetStats(nc_, stats_) == NATS_OK &&
         natsStatistics_GetCounts(stats_, &out, nullptr, nullptr, nullptr, nullptr) == NATS_OK;
}

void retired_subscriptions::retire(natsSubscription* sub) {
  if (closed_) {
    natsSubscription_Destroy(sub);
    return;
  }
  std::uint64_t now = 0;
  // Without the count (out of memory) it waits for the connection's close.
  waiting_.push_back({sub, in_msgs(now) ? now : UINT64_MAX});
}

void retired_subscriptions::sweep_now() {
  std::uint64_t now = 0;
  if (!in_msgs(now)) return;
  auto passed = [now](const entry& e) { return now > e.in_msgs; };
  for (const auto& e : waiting_) {
    if (passed(e)) natsSubscription_Destroy(e.sub);
  }
  std::erase_if(waiting_, passed);
}

void retired_subscriptions::connection_closed() noexcept {
  closed_ = true;
  for (const auto& e : waiting_) natsSubscription_Destroy(e.sub);
  waiting_.clear();
}

}  // namespace hasys::bus::detail
