// hasys-event-store, manager mode (issue 10): takes the nodes' event batches off the hub's bus,
// commits them to the event database, answers each batch once it is committed.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace hasys::event_store {

struct manager_options {
  std::filesystem::path database;
  std::string bus_url = "nats://127.0.0.1:4222";
  std::filesystem::path bus_credentials;
  std::filesystem::path export_dir;  // exports are written here; empty: <database folder>/exports
  int retention_days = 90;           // E3: events received longer ago are deleted; 0: kept forever
};

class manager_store {
 public:
  manager_store(boost::asio::io_context& ioc, manager_options o);
  ~manager_store();
  void start();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::event_store
