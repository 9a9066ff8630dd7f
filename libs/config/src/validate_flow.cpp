// validate() for the resource flow: each node type's fields, and names and addresses across nodes.
#include "checker.hpp"

#include <set>

namespace hasys::config {

namespace {

struct flow_checker {
  checker& c;
  const node_config& node;
  const group_config& group;
  std::string key;  // "group[0].flow[2]"

  void operator()(const vip_node& n) const {
    bool ip_ok = c.address(key + ".ip", n.ip);
    if (ip_ok) {
      bool v4 = rules::family_of(n.ip) == rules::ip_family::v4;
      c.range(key + ".prefix", n.prefix_length, v4 ? rules::prefix_v4 : rules::prefix_v6);
      check_not_own_address(n.ip);
    }
    c.interface(key + ".interface", n.interface);
    c.range(key + ".lease", std::chrono::duration_cast<duration>(n.lease), rules::vip_lease);
    std::set<std::string> seen;
    for (const auto& o : n.overrides) {
      std::string k = key + ".interface_override";
      if (auto why = node_name::problem(o.server))
        c.add(k, *why);
      else if (!node.name.empty() && !group.peer_name.empty() && o.server != node.name &&
               o.server != group.peer_name)
        c.add(k, rules::quoted(o.server) + " is neither this node (" + node.name +
                     ") nor the peer (" + group.peer_name + ")");
      if (!seen.insert(o.server).second) c.add(k, rules::quoted(o.server) + " is given twice");
      if (!rules::valid_interface(o.interface)) c.interface(k, o.interface);
    }
    c.bytes(key + ".interface_override", rules::format_overrides(n.overrides),
            rules::override_bytes, false);
  }

  void operator()(const script_node& n) const {
    c.script(key + ".start", n.start);
    c.script(key + ".stop", n.stop);
    c.user(key + ".user", n.user);
  }

  void operator()(const wait_node& n) const {
    c.range(key + ".seconds", n.wait.count(), rules::wait_seconds);
    if (n.timeout < n.wait)
      c.add(key + ".timeout", rules::format_duration(n.timeout) + " is shorter than the wait (" +
                                  std::to_string(n.wait.count()) + " seconds)");
  }

  void operator()(const shared_disk_node& n) const {
    c.bytes(key + ".device", n.device, rules::path_bytes, true);
    c.absolute_path(key + ".mount_point", n.mount_point, true, rules::path_bytes);
    if (!n.fs_type.empty() && (n.fs_type.size() > rules::fs_type_bytes ||
                               n.fs_type.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyz0123456789._") != std::string::npos))
      c.add(key + ".fs_type",
            rules::quoted(n.fs_type) + " is not a file system type: 1..15 of a-z 0-9 . _");
  }

  void operator()(const drbd_node& n) const {
    if (n.resource.empty())
      c.add(key + ".resource", "missing (required)");
    else if (n.resource.size() > 63 || !is_name_alphabet(n.resource))
      c.add(key + ".resource",
            rules::quoted(n.resource) +
                " is not a DRBD resource name: 1..63 characters of A-Z a-z 0-9 _ . -");
    c.range(key + ".minor", n.minor, rules::drbd_minor);
    c.absolute_path(key + ".mount_point", n.mount_point, false, rules::path_bytes);
  }

  void check_not_own_address(const std::string& ip) const {
    auto canonical = rules::canonical_ip(ip);
    for (const auto* l : {group.heartbeat ? &*group.heartbeat : nullptr, &group.public_net})
      if (l && rules::canonical_ip(l->self_address) == canonical)
        c.add(key + ".ip", rules::quoted(ip) + " is this node's own address on a peer network");
  }
};

}  // namespace

void check_flow(checker& c, const node_config& node, const group_config& g,
                const std::string& key) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < g.flow.size(); ++i) {
    const auto& n = g.flow[i];
    std::string k = key + "[" + std::to_string(i) + "]";
    const std::string& name = name_of(n);
    c.bytes(k + ".name", name, rules::flow_name_bytes, true);
    if (!name.empty() && !names.insert(name).second)
      c.add(k + ".name", rules::quoted(name) + " is already the name of another node of this flow");
    c.range(k + ".timeout", timeout_of(n), rules::node_timeout);
    std::visit(flow_checker{c, node, g, k}, n);
  }
}

}  // namespace hasys::config
