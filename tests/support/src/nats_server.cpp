// A real nats-server for tests: start, learn the port from the ports file, stop, restart.
#include <hasys/test/nats_server.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/inotify.h>
#include <unistd.h>

#ifndef HASYS_NATS_SERVER
#define HASYS_NATS_SERVER "nats-server"
#endif

namespace hasys::test {

namespace {

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "hasys-nats-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("nats_server: mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  return pattern;
}

std::filesystem::path server_binary() {
  if (const char* env = std::getenv("HASYS_NATS_SERVER"); env != nullptr && *env != '\0') {
    return env;
  }
  return HASYS_NATS_SERVER;
}

std::string tail(const std::string& text, std::size_t n = 4000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// Closes an inotify descriptor on every path out of start().
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

nats_server::nats_server(nats_server_options o) : options_(std::move(o)), dir_(make_temp_dir()) {
  try {
    start(std::nullopt);
  } catch (...) {
    process_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

nats_server::~nats_server() {
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string nats_server::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

bool nats_server::running() { return process_ && process_->running(); }

void nats_server::start(std::optional<std::uint16_t> port) {
  std::vector<std::string> args{"-a", "127.0.0.1", "-p", port ? std::to_string(*port) : "-1",
                                "--ports_file_dir", dir_.string()};
  if (!options_.config.empty()) {
    const auto conf = dir_ / "nats.conf";
    std::ofstream(conf) << options_.config;
    args.insert(args.begin(), {"-c", conf.string()});
  }
  if (!options_.user.empty()) args.insert(args.end(), {"--user", options_.user});
  if (!options_.password.empty()) args.insert(args.end(), {"--pass", options_.password});
  if (options_.jetstream) {
    args.insert(args.end(), {"-js", "--store_dir", (dir_ / "jetstream").string()});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());

  fd_guard watch{::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)};
  if (watch.fd >= 0) ::inotify_add_watch(watch.fd, dir_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO);
  process_.emplace(child_process::spec{server_binary(), args, dir_ / "nats-server.log"});

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  for (;;) {
    if (auto p = read_ports_file()) {
      port_ = *p;
      return;
    }
    if (!process_->running()) {
      throw std::runtime_error("nats_server: nats-server " +
                               describe_wait_status(*process_->wait_exit({})) +
                               " before it was ready; its log:\n" + tail(log()));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw std::runtime_error("nats_server: no ports file in " + dir_.string() + " after " +
                               std::to_string(options_.start_timeout.count()) +
                               " ms; its log:\n" + tail(log()));
    }
    pollfd fds[2] = {{watch.fd, POLLIN, 0}, {process_->exit_fd(), POLLIN, 0}};
    // Without inotify or pidfd, wake every 10 ms to look again.
    const bool can_sleep = watch.fd >= 0 && process_->exit_fd() >= 0;
    ::poll(fds, 2, can_sleep ? static_cast<int>(left.count()) : 10);
    char drain[4096];
    while (watch.fd >= 0 && ::read(watch.fd, drain, sizeof drain) > 0) {
    }
  }
}

// nats-server writes "<dir>/<argv0>_<pid>.ports" once every listener is up:
// {"nats":["nats://127.0.0.1:41234"], ...} (2.9; later versions may say "client").
std::optional<std::uint16_t> nats_server::read_ports_file() const {
  const std::string suffix = "_" + std::to_string(process_->pid()) + ".ports";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.ends_with(suffix)) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code jec;
    const auto doc = boost::json::parse(text.str(), jec);
    if (jec || !doc.is_object()) return std::nullopt;  // being written: wait for the next event
    const auto* client = doc.as_object().if_contains("nats");
    if (client == nullptr) client = doc.as_object().if_contains("client");
    if (client == nullptr || !client->is_array() || client->as_array().empty()) return std::nullopt;
    const auto* url = client->as_array()[0].if_string();
    if (url == nullptr) return std::nullopt;
    const auto colon = std::string_view(*url).rfind(':');
    return static_cast<std::uint16_t>(std::stoi(std::string(url->subview(colon + 1))));
  }
  return std::nullopt;
}

void nats_server::stop() {
  if (!process_) return;
  if (process_->running()) process_->signal(SIGCONT);  // a frozen server cannot handle SIGTERM
  process_->stop(std::chrono::seconds(10));
  process_.reset();
}

void nats_server::restart() {
  stop();
  start(port_);
}

void nats_server::freeze() {
  if (process_) process_->signal(SIGSTOP);
}

void nats_server::thaw() {
  if (process_) process_->signal(SIGCONT);
}

std::string nats_server::log() const {
  std::ifstream in(dir_ / "nats-server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace hasys::test
