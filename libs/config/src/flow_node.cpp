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

bool same_mount_point(const std::filesystem::path& a, const std::filesystem::path& b) {
  auto key = [](const std::filesystem::path& p) {
    auto n = p.lexically_normal();
    return n.has_filename() || n == n.root_path() ? n : n.parent_path();
  };
  return !a.empty() && !b.empty() && key(a) == key(b);
}

duration unmount_wait(const group_config& g, const std::filesystem::path& mount_point) {
  for (const auto& d : g.monitor.disks)
    if (d.unmount_confirm && same_mount_point(d.mount_point, mount_point))
      return g.shared_disk_wait;
  return {};
}

duration flow_time_needed(const group_config& g) {
  duration sum{};
  for (const auto& n : g.flow) {
    sum += timeout_of(n);
    if (const auto* d = std::get_if<shared_disk_node>(&n)) sum += unmount_wait(g, d->mount_point);
    if (const auto* d = std::get_if<drbd_node>(&n)) sum += unmount_wait(g, d->mount_point);
  }
  return sum;
}

duration default_flow_timeout(const group_config& g) {
  return std::max<duration>(flow_time_needed(g) + std::chrono::seconds(10),
                            std::chrono::seconds(60));
}

}  // namespace hasys::config
