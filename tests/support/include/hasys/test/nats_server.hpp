// A real nats-server for tests: fresh temp dir, ephemeral loopback port, always cleaned up.
#pragma once

#include <hasys/test/child_process.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hasys::test {

struct nats_server_options {
  std::string user, password;  // both set: clients must authenticate (--user/--pass)
  std::string config;          // nats-server configuration text, written to dir()/nats.conf
  bool jetstream = false;      // -js with its store in dir()/jetstream
  std::vector<std::string> extra_args;
  std::chrono::milliseconds start_timeout{10000};
};

// Runs `nats-server -a 127.0.0.1 -p -1 --ports_file_dir DIR` and waits (inotify + pidfd, with a
// deadline) for the ports file to learn the port. The binary is $HASYS_NATS_SERVER, else the
// one CMake found, else nats-server from PATH. Throws std::runtime_error, with the server's log,
// when it does not come up.
class nats_server {
 public:
  explicit nats_server(nats_server_options o = {});
  nats_server(const nats_server&) = delete;
  nats_server& operator=(const nats_server&) = delete;
  ~nats_server();  // kills the server, removes the directory

  std::string url() const;  // nats://127.0.0.1:<port>
  std::uint16_t port() const noexcept { return port_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return process_ ? process_->pid() : -1; }
  bool running();

  void stop();     // SIGTERM (graceful: clients see the connection close), wait for the exit
  void restart();  // stop if running, then start again on the same port
  void freeze();   // SIGSTOP: a hung server that keeps its sockets open
  void thaw();     // SIGCONT
  std::string log() const;  // everything the server wrote so far

 private:
  void start(std::optional<std::uint16_t> port);
  std::optional<std::uint16_t> read_ports_file() const;

  nats_server_options options_;
  std::filesystem::path dir_;
  std::optional<child_process> process_;
  std::uint16_t port_ = 0;
};

}  // namespace hasys::test
