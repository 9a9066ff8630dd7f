// Publishes that wait for the connection to be attached.
#include <hasys/bus/bus.hpp>
#include <hasys/bus/outbox.hpp>

namespace hasys::bus {

void outbox::publish(std::string subject, std::string data) {
  if (connection_) {
    connection_->publish(subject, data);
  } else if (waiting_.size() < capacity_) {
    waiting_.emplace_back(std::move(subject), std::move(data));
  } else {
    ++dropped_;
  }
}

void outbox::attach(connection& c) {
  connection_ = &c;
  for (const auto& [subject, data] : waiting_) c.publish(subject, data);
  waiting_.clear();
}

}  // namespace hasys::bus
