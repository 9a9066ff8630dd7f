// hasys-manager-api: the manager's HTTPS REST API (issue 11; SPEC M1-M9).
#include "manager_service.hpp"

#include <cstdio>
#include <string>

namespace {

void usage() {
  std::puts(
      "usage: hasys-manager-api [options]\n"
      "  --listen ADDR:PORT       HTTPS address (default 0.0.0.0:8443; port 0: any free port)\n"
      "  --db FILE                the manager database (default /var/lib/hasys/manager.db);\n"
      "                           a new one holds the user hasys / manager, to be changed at\n"
      "                           first login\n"
      "  --tls-cert FILE --tls-key FILE  the certificate and key (default\n"
      "                           /etc/hasys/manager/tls.{crt,key}); made self-signed at first\n"
      "                           start when neither exists\n"
      "  --tls-host NAME          the host name of a self-signed certificate (default "
      "hasys-manager)\n"
      "  --bus URL                the manager hub (default nats://127.0.0.1:4222)\n"
      "  --bus-credentials FILE   \"user:password\" for it (the hub's MANAGER account)\n"
      "  --strong-passwords       passwords need 8+ characters, a lower-case letter, a digit and\n"
      "                           a special character (M1)\n"
      "  --bcrypt-cost N          4..31 (default 12)\n"
      "  --session-idle SECONDS   a session ends after this long unused (default 900)\n"
      "  --port-file FILE         write the bound port here\n"
      "  --export-dir DIR         hasys-event-store's export folder (default\n"
      "                           /var/lib/hasys/exports); exports are sent from there only\n"
      "  --web-root DIR           the built web manager (web/ built into <build>/web), served\n"
      "                           at /; none: the API only\n"
      "  --metrics-token FILE     the bearer token of GET /metrics (made at the first start;\n"
      "                           default <database folder>/metrics.token)\n"
      "  --stream-write-timeout SECONDS  a live-stream client (a browser) that has not taken\n"
      "                           one message within this is disconnected (default 5)\n"
      "SIGTERM/SIGINT: exit.");
}

int number(const std::string& option, const std::string& v, int lo, int hi) {
  try {
    std::size_t used = 0;
    const int n = std::stoi(v, &used);
    if (used == v.size() && n >= lo && n <= hi) return n;
  } catch (const std::exception&) {
  }
  std::fprintf(stderr, "hasys-manager-api: %s %s is not %d..%d\n", option.c_str(), v.c_str(), lo,
               hi);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  hasys::manager::service_options o;
  o.rest.version = HASYS_VERSION;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hasys-manager-api: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--listen") {
      const std::string v = value();
      const auto colon = v.rfind(':');
      if (colon == std::string::npos) {
        std::fprintf(stderr, "hasys-manager-api: --listen %s is not ADDR:PORT\n", v.c_str());
        return 2;
      }
      o.listen_address = v.substr(0, colon);
      o.port = static_cast<unsigned short>(number(a, v.substr(colon + 1), 0, 65535));
    } else if (a == "--db") {
      o.database = value();
    } else if (a == "--tls-cert") {
      o.tls_cert = value();
    } else if (a == "--tls-key") {
      o.tls_key = value();
    } else if (a == "--tls-host") {
      o.tls_host = value();
    } else if (a == "--bus") {
      o.bus_url = value();
    } else if (a == "--bus-credentials") {
      o.bus_credentials = value();
    } else if (a == "--strong-passwords") {
      o.rest.strong_passwords = true;
    } else if (a == "--bcrypt-cost") {
      o.rest.bcrypt_cost = number(a, value(), 4, 31);
    } else if (a == "--session-idle") {
      o.rest.session_idle = std::chrono::seconds(number(a, value(), 1, 7 * 24 * 3600));
    } else if (a == "--port-file") {
      o.port_file = value();
    } else if (a == "--export-dir") {
      o.rest.export_dir = value();
    } else if (a == "--web-root") {
      o.rest.web_root = value();
    } else if (a == "--metrics-token") {
      o.metrics_token_file = value();
    } else if (a == "--stream-write-timeout") {
      o.stream_write_timeout = std::chrono::seconds(number(a, value(), 1, 300));
    } else if (a == "--help" || a == "-h") {
      return usage(), 0;
    } else {
      std::fprintf(stderr, "hasys-manager-api: unknown argument %s\n", a.c_str());
      return usage(), 2;
    }
  }
  try {
    boost::asio::io_context ioc(1);
    hasys::manager::manager_service s(ioc, o);
    s.start();
    ioc.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hasys-manager-api: %s\n", e.what());
    return 1;
  }
  return 0;
}
