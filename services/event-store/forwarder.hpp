// hasys-event-store, node mode (issue 10, E5): forwards the node's EVENTS stream to the manager.
// A durable JetStream consumer ("forwarder", acknowledge-all) is pulled in batches; a batch goes
// to the manager's event store (hasys.mgr.evt.ingest.<node>, over the leaf link to the hub) and
// is acknowledged in the stream only after the manager said it is committed. A batch that could
// not be delivered is sent again, unchanged, until it is; the manager keeps (node, seq) once.
#pragma once

#include <hasys/config/node_config.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>

namespace hasys::event_store {

class forwarder {
 public:
  forwarder(boost::asio::io_context& ioc, const config::node_config& cfg);
  ~forwarder();
  void start();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::event_store
