// Accessors common to every resource flow node, and the flow's overall timeout.
#include <hasys/config/node_config.hpp>

#include <algorithm>

namespace hasys::config {

namespace {
template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;
}  // namespace

std::string_view type_name(const flow_node& n) {
  return std::visit(overloaded{
                        [](const vip_node&) -> std::string_view { return "vip"; },
                        [](const script_node& s) -> std::string_view {
                          return s.kind == script_kind::database ? "database" : "application";
                        },
                        [](const wait_node&) -> std::string_view { return "wait"; },
                        [](const shared_disk_node&) -> std::string_view { return "shared_disk"; },
                        [](const drbd_node&) -> std::string_view { return "drbd"; },
                    },
                    n);
}

const std::string& name_of(const flow_node& n) {
  return std::visit([](const auto& x) -> const std::string& { return x.name; }, n);
}

bool stop_on_error_of(const flow_node& n) {
  return std::visit([](const auto& x) { return x.stop_on_error; }, n);
}

duration timeout_of(const flow_node& n) {
  return std::visit([](const auto& x) { return x.timeout; }, n);
}

const std::string& interface_for(const vip_node& n, std::string_view server) noexcept {
  for (const auto& o : n.overrides)
    if (o.server == server) return o.interface;
  return n.interface;
}

duration default_flow_timeout(const std::vector<flow_node>& flow) {
  duration sum{};
  for (const auto& n : flow) sum += timeout_of(n);
  return std::max<duration>(sum + std::chrono::seconds(10), std::chrono::seconds(60));
}

}  // namespace hasys::config
