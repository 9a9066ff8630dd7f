// hasys-event-store: node mode forwards the node's EVENTS stream to the manager; manager mode
// keeps the events of every node in SQLite (issue 10, E1-E6).
#include "forwarder.hpp"
#include "manager_store.hpp"

#include <hasys/config/node_config.hpp>

#include <cstdio>
#include <string>

namespace {

void usage() {
  std::puts(
      "usage: hasys-event-store [--config FILE]\n"
      "       hasys-event-store --manager --db FILE [--bus URL] [--bus-credentials FILE]\n"
      "  --config FILE   node mode: the node configuration (default /etc/hasys/node.toml); the\n"
      "                  node's EVENTS stream is forwarded to the manager and acknowledged there\n"
      "                  only once the manager has committed it\n"
      "  --manager       manager mode: keep the events the nodes forward in the database\n"
      "  --db FILE       the SQLite event database (created when missing)\n"
      "  --bus URL       the manager hub's nats-server (default nats://127.0.0.1:4222)\n"
      "  --bus-credentials FILE  \"user:password\" for it\n"
      "  --export-dir DIR  where exports are written (default: <database folder>/exports)\n"
      "  --retention-days N  delete events received more than N days ago (default 90; 0: never)\n"
      "SIGTERM/SIGINT: exit.");
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file = "/etc/hasys/node.toml";
  bool manager = false;
  hasys::event_store::manager_options mo;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hasys-event-store: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--config")
      config_file = value();
    else if (a == "--manager")
      manager = true;
    else if (a == "--db")
      mo.database = value();
    else if (a == "--bus")
      mo.bus_url = value();
    else if (a == "--bus-credentials")
      mo.bus_credentials = value();
    else if (a == "--export-dir")
      mo.export_dir = value();
    else if (a == "--retention-days") {
      const std::string v = value();
      try {
        std::size_t used = 0;
        mo.retention_days = std::stoi(v, &used);
        if (used != v.size() || mo.retention_days < 0 || mo.retention_days > 36500)
          throw std::out_of_range(v);
      } catch (const std::exception&) {
        std::fprintf(stderr, "hasys-event-store: --retention-days %s is not 0..36500\n", v.c_str());
        return 2;
      }
    } else if (a == "--help" || a == "-h")
      return usage(), 0;
    else
      return std::fprintf(stderr, "hasys-event-store: unknown argument %s\n", a.c_str()), usage(),
             2;
  }
  try {
    boost::asio::io_context ioc(1);
    if (manager) {
      if (mo.database.empty()) {
        std::fprintf(stderr, "hasys-event-store: --manager needs --db FILE\n");
        return 2;
      }
      hasys::event_store::manager_store s(ioc, mo);
      s.start();
      ioc.run();
      return 0;
    }
    auto loaded = hasys::config::load_file(config_file);
    if (!loaded.config) {
      std::fprintf(stderr, "hasys-event-store: %s is not valid:\n", config_file.c_str());
      for (const auto& e : loaded.errors) std::fprintf(stderr, "  %s\n", e.to_string().c_str());
      return 2;
    }
    hasys::event_store::forwarder f(ioc, *loaded.config);
    f.start();
    ioc.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hasys-event-store: %s\n", e.what());
    return 1;
  }
  return 0;
}
