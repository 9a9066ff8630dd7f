// hasys-labprobe as a lab test's client (see client_probe.hpp).
#include "client_probe.hpp"

#include <boost/json.hpp>

namespace hasys::lab {

client_probe::client_probe(const lab& l, std::chrono::seconds run_for, const std::string& address)
    : reader_(l.spawn(
          "gw", {(lab::build_dir() / "tools/labprobe/hasys-labprobe").string(), "--target", address,
                 "--for", std::to_string(run_for.count()) + "s", "--tcp-every", "20ms"})),
      run_for_(run_for) {}

double client_probe::longest_gap_ms() {
  auto line = reader_.wait_for([](std::string_view s) { return s.starts_with("{"); },
                               run_for_ + std::chrono::seconds(10));
  if (!line) return -1;
  boost::system::error_code ec;
  auto v = boost::json::parse(*line, ec);
  if (ec) return -1;
  const auto& g = v.at("icmp").at("largest_gap_ms");
  return g.is_null() ? 0 : g.to_number<double>();
}

}  // namespace hasys::lab
