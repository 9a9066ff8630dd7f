// What nats.c's threads hold to reach io-side state: an executor and a weak reference, behind a
// gate the owner shuts so that nothing is posted once it has gone.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <mutex>
#include <utility>

namespace hasys::bus::detail {

template <class State>
class post_gate {
 public:
  post_gate(boost::asio::any_io_executor ex, std::weak_ptr<State> state)
      : ex_(std::move(ex)), state_(std::move(state)) {}

  // Called on a nats.c thread: f(State&) runs later on the executor, if the state still lives.
  // Posting happens under the lock, so after shut() returns no new handler reaches the
  // executor (the io_context may then be destroyed safely).
  template <class F>
  void post(F f) noexcept {
    try {
      std::lock_guard lock(mutex_);
      if (!open_) return;
      boost::asio::post(ex_, [state = state_, f = std::move(f)]() mutable {
        if (auto s = state.lock()) f(*s);
      });
    } catch (...) {
      // Out of memory on a foreign thread: this one message or event is lost.
    }
  }

  void shut() noexcept {
    std::lock_guard lock(mutex_);
    open_ = false;
  }

 private:
  std::mutex mutex_;
  bool open_ = true;
  boost::asio::any_io_executor ex_;
  std::weak_ptr<State> state_;
};

// The closure handed to nats.c: a heap-held owning pointer, deleted by the last callback
// nats.c makes for that object (closed for a connection, on-complete for a subscription).
template <class State>
using gate_closure = std::shared_ptr<post_gate<State>>;

template <class State>
post_gate<State>& gate_of(void* closure) noexcept {
  return **static_cast<gate_closure<State>*>(closure);
}

}  // namespace hasys::bus::detail
