// The process-wide pool for the few nats.c calls that block.
#include "thread_hop.hpp"

#include <nats/nats.h>

namespace hasys::bus::detail {

namespace {

// nats.c, and OpenSSL through it, registers its exit-time cleanup when first opened. Opening it
// before the pool exists makes the pool's destructor run first at exit, so its threads end
// (freeing OpenSSL's per-thread state) while OpenSSL is still there.
boost::asio::thread_pool* make_pool() {
  (void)nats_Open(-1);
  return new boost::asio::thread_pool(2);
}

}  // namespace

boost::asio::thread_pool& blocking_pool() {
  static const std::unique_ptr<boost::asio::thread_pool> pool(make_pool());
  return *pool;
}

}  // namespace hasys::bus::detail
