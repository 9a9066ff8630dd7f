// hasys-manager-api's shell: the HTTPS server, the manager database on its lane, and the hub
// connection that keeps the fleet's live state (issue 11).
#pragma once

#include "api.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace hasys::manager {

struct service_options {
  std::string listen_address = "0.0.0.0";
  unsigned short port = 8443;
  std::filesystem::path database = "/var/lib/hasys/manager.db";
  std::filesystem::path tls_cert = "/etc/hasys/manager/tls.crt";
  std::filesystem::path tls_key = "/etc/hasys/manager/tls.key";
  std::string tls_host = "hasys-manager";
  std::string bus_url = "nats://127.0.0.1:4222";
  std::filesystem::path bus_credentials;
  std::filesystem::path port_file;
  std::filesystem::path metrics_token_file;  // empty: <database folder>/metrics.token
  // A stream client that has not taken one message within this is dropped.
  std::chrono::seconds stream_write_timeout{5};
  manager::api::options rest;
};

class manager_service {
 public:
  manager_service(boost::asio::io_context& ioc, service_options o);  // throws: start-up errors
  ~manager_service();
  void start();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hasys::manager
