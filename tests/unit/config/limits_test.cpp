// Every limit of the format, on both sides of the bound: names, periods, ports, addresses, sizes.
#include "config_fixture.hpp"

#include <functional>

using namespace hasys::config;
using namespace hasys::config::test;
using namespace std::chrono_literals;

namespace {

class limits_test : public config_test {
 protected:
  // validate() of the full config after a change.
  std::vector<std::string> after(const std::function<void(node_config&)>& change) const {
    node_config c = full_config();
    change(c);
    return lines_of(validate(c));
  }
  group_config& g(node_config& c) const { return c.groups.at(0); }
  template <class Node>
  Node& flow(node_config& c, std::size_t i) const {
    return std::get<Node>(c.groups.at(0).flow.at(i));
  }
  const std::vector<std::string> none{};
};

TEST_F(limits_test, group_names_hold_1_to_20_characters_of_the_name_alphabet) {
  EXPECT_EQ(after([&](auto& c) { g(c).name = std::string(20, 'G'); }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).name = std::string(21, 'G'); }), "group[0].name",
                        {"1..20 characters"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).name = "GROUP Linux"; }), "group[0].name",
                        {"\"GROUP Linux\" is not a valid group name"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).name = ""; }), "group[0].name", {"missing"}));
}

TEST_F(limits_test, server_names_hold_1_to_15_characters) {
  EXPECT_EQ(after([&](auto& c) { c.name = std::string(15, 'n'); }),
            std::vector<std::string>{"group[0].flow[0].interface_override: \"node-a\" is neither "
                                     "this node (nnnnnnnnnnnnnnn) nor the peer (node-b)"});
  EXPECT_TRUE(has_error(after([&](auto& c) { c.name = std::string(16, 'n'); }), "node.name",
                        {"is not a valid server name: 1..15 characters"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).peer_name = "node/b"; }), "group[0].peer",
                        {"\"node/b\""}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).peer_name = "node-a"; }), "group[0].peer",
                        {"\"node-a\" is this node's own name"}));
}

TEST_F(limits_test, polling_period_is_above_zero_and_below_100_seconds) {
  EXPECT_EQ(after([&](auto& c) { g(c).polling_period = 1ms; }), none);
  EXPECT_EQ(after([&](auto& c) { g(c).polling_period = 99999ms; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).polling_period = 0ms; }),
                        "group[0].polling_period", {"0s is out of range", "more than 0s"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).polling_period = 100s; }),
                        "group[0].polling_period", {"100s", "less than 100s"}));
}

TEST_F(limits_test, start_window_is_0_to_10_minutes) {  // R3, issue 18
  EXPECT_EQ(after([&](auto& c) { g(c).start_window = 0s; }), none);
  EXPECT_EQ(after([&](auto& c) { g(c).start_window = 600s; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).start_window = 601s; }), "group[0].start_window",
                        {"out of range"}));
}

TEST_F(limits_test, readiness_interval_is_0_or_a_minute_to_a_day) {  // issue 9
  EXPECT_EQ(after([&](auto& c) { g(c).readiness_interval = 0s; }), none);
  EXPECT_EQ(after([&](auto& c) { g(c).readiness_interval = 60s; }), none);
  EXPECT_EQ(after([&](auto& c) { g(c).readiness_interval = 24h; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).readiness_interval = 30s; }),
                        "group[0].readiness_interval", {"30s is too short", "at least 60 s"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).readiness_interval = 25h; }),
                        "group[0].readiness_interval", {"out of range"}));
}

TEST_F(limits_test, polling_count_is_1_to_99) {
  EXPECT_EQ(after([&](auto& c) { g(c).polling_count = 1; }), none);
  EXPECT_EQ(after([&](auto& c) { g(c).polling_count = 99; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).polling_count = 0; }), "group[0].polling_count",
                        {"0 is out of range 1..99"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).polling_count = 100; }), "group[0].polling_count",
                        {"100 is out of range 1..99"}));
}

TEST_F(limits_test, ports_are_1_to_65535) {
  EXPECT_EQ(after([&](auto& c) { g(c).public_net.port = 65535; }), none);
  EXPECT_EQ(after([&](auto& c) { g(c).public_net.port = 1; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).public_net.port = 0; }), "group[0].public.port",
                        {"0 is out of range 1..65535"}));
  EXPECT_TRUE(has_error(errors_of(replace_once(full_file(), "port = 29955", "port = 65536")),
                        "group[0].public.port", {"65536 is out of range 1..65535"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { c.manager.port = 0; }), "manager.port", {"0"}));
}

TEST_F(limits_test, two_links_of_a_group_on_one_address_need_two_ports) {
  auto lines = after([&](auto& c) {
    g(c).heartbeat->self_address = g(c).public_net.self_address;
    g(c).heartbeat->port = g(c).public_net.port;
  });
  EXPECT_TRUE(has_error(lines, "group[0].public.port", {"already used by group[0].heartbeat"}));
  EXPECT_EQ(after([&](auto& c) { g(c).heartbeat->self_address = g(c).public_net.self_address; }),
            none);
}

TEST_F(limits_test, addresses_are_ipv4_or_ipv6_of_one_family_and_differ) {
  EXPECT_EQ(after([&](auto& c) {
              g(c).heartbeat = link_config{"2001:db8::11", "2001:db8::12", 29954};
            }),
            none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).heartbeat->peer_address = "2001:db8::12"; }),
                        "group[0].heartbeat.peer", {"not of the same family"}));
  EXPECT_TRUE(has_error(after([&](auto& c) {
                          g(c).heartbeat = link_config{"2001:db8::1", "2001:db8:0::1", 1};
                        }),
                        "group[0].heartbeat.peer", {"the same address as self"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).public_net.self_address = "198.51.100.256"; }),
                        "group[0].public.self",
                        {"\"198.51.100.256\" is not an IPv4 or IPv6 address"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).gateway = "gateway.example"; }),
                        "group[0].gateway", {"\"gateway.example\""}));
  EXPECT_TRUE(has_error(after([&](auto& c) { c.manager.address = "1.2.3"; }), "manager.address",
                        {"\"1.2.3\""}));
}

TEST_F(limits_test, vip_takes_prefix_or_an_ipv4_netmask) {
  auto vip = [&](std::string_view lines) {
    return replace_once(full_file(), "prefix = 24\n", lines);
  };
  auto r = parse_text(vip("netmask = \"255.255.254.0\"\n"));
  ASSERT_TRUE(r.config) << PrintToString(lines_of(r.errors));
  EXPECT_EQ(std::get<vip_node>(r.config->groups[0].flow[0]).prefix_length, 23);
  EXPECT_EQ(errors_of(vip("prefix = 24\nnetmask = \"255.255.255.0\"\n")),
            std::vector<std::string>{"group[0].flow[0].netmask: give prefix or netmask, not both"});
  EXPECT_TRUE(has_error(errors_of(vip("")), "group[0].flow[0].prefix", {"missing"}));
  EXPECT_EQ(errors_of(vip("netmask = \"255.0.255.0\"\n")),
            std::vector<std::string>{"group[0].flow[0].netmask: \"255.0.255.0\" is not an IPv4 "
                                     "netmask like \"255.255.255.0\""});
  EXPECT_TRUE(has_error(errors_of(vip("prefix = 33\n")), "group[0].flow[0].prefix",
                        {"33 is out of range 1..32"}));
  EXPECT_TRUE(has_error(errors_of(vip("prefix = 0\n")), "group[0].flow[0].prefix", {"0"}));
}

TEST_F(limits_test, ipv6_vip_takes_prefix_up_to_128_and_no_netmask) {
  auto vip6 = [&](std::string_view mask) {
    return replace_once(replace_once(full_file(), "\"198.51.100.100\"", "\"2001:db8::100\""),
                        "prefix = 24\n", mask);
  };
  EXPECT_TRUE(parse_text(vip6("prefix = 64\n")).config);
  EXPECT_TRUE(parse_text(vip6("prefix = 128\n")).config);
  EXPECT_TRUE(has_error(errors_of(vip6("prefix = 129\n")), "group[0].flow[0].prefix", {"129"}));
  EXPECT_EQ(errors_of(vip6("netmask = \"255.255.255.0\"\n")),
            std::vector<std::string>{"group[0].flow[0].netmask: netmask is for IPv4 addresses; "
                                     "give prefix for an IPv6 address"});
}

TEST_F(limits_test, vip_is_not_an_address_of_the_node_itself) {
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<vip_node>(c, 0).ip = "198.51.100.11"; }),
                        "group[0].flow[0].ip", {"this node's own address"}));
}

TEST_F(limits_test, one_virtual_ip_belongs_to_one_flow_node) {
  auto lines = after([&](auto& c) {
    vip_node second = flow<vip_node>(c, 0);
    second.name = "vip2";
    second.ip = "198.51.100.0100";
    g(c).flow.push_back(second);
  });
  // A leading zero could mean octal to some tools: refused rather than guessed.
  EXPECT_TRUE(has_error(lines, "group[0].flow[6].ip",
                        {"\"198.51.100.0100\" is not an IPv4 or IPv6 address"}));
  lines = after([&](auto& c) {
    vip_node second = flow<vip_node>(c, 0);
    second.name = "vip2";
    g(c).flow.push_back(second);
  });
  EXPECT_TRUE(has_error(lines, "group[0].flow[6].ip",
                        {"\"198.51.100.100\" is already the virtual IP of group[0].flow[0]"}));
}

TEST_F(limits_test, flow_node_names_hold_at_most_10_bytes_and_are_unique) {
  EXPECT_EQ(after([&](auto& c) { flow<vip_node>(c, 0).name = std::string(10, 'v'); }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<vip_node>(c, 0).name = std::string(11, 'v'); }),
                        "group[0].flow[0].name", {"is 11 bytes; at most 10"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<wait_node>(c, 3).name = "web"; }),
                        "group[0].flow[3].name", {"\"web\" is already the name"}));
}

TEST_F(limits_test, interface_names_hold_at_most_15_bytes) {
  EXPECT_EQ(after([&](auto& c) { g(c).public_interface = std::string(15, 'e'); }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).public_interface = std::string(16, 'e'); }),
                        "group[0].public_interface", {"1..15 bytes"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<vip_node>(c, 0).interface = "eth 0"; }),
                        "group[0].flow[0].interface", {"\"eth 0\""}));
}

TEST_F(limits_test, interface_override_holds_at_most_211_bytes_naming_this_node_or_its_peer) {
  auto with = [&](const std::string& value) {
    return replace_once(full_file(), "\"node-a=eth0,node-b=ens192\"", "\"" + value + "\"");
  };
  std::string base = "node-a=eth0,node-b=ens192";
  EXPECT_TRUE(parse_text(with(base + std::string(211 - base.size(), ' '))).config);
  EXPECT_TRUE(has_error(errors_of(with(base + std::string(212 - base.size(), ' '))),
                        "group[0].flow[0].interface_override", {"is 212 bytes; at most 211"}));
  EXPECT_TRUE(has_error(errors_of(with("node-a=eth0,node-c=eth1")),
                        "group[0].flow[0].interface_override",
                        {"\"node-c\" is neither this node (node-a) nor the peer (node-b)"}));
  EXPECT_TRUE(has_error(errors_of(with("node-a:eth0")), "group[0].flow[0].interface_override",
                        {"\"node-a:eth0\" is not server=interface"}));
  EXPECT_TRUE(has_error(errors_of(with("node-a=eth0,node-a=eth1")),
                        "group[0].flow[0].interface_override", {"given twice"}));
}

TEST_F(limits_test, script_paths_hold_at_most_128_bytes) {
  std::string prefix = (dir_ / "s").string() + "/";
  std::string name128(128 - prefix.size(), 'x');
  auto p128 = write_script("s/" + name128);
  auto p129 = write_script("s/" + name128 + "y");
  ASSERT_EQ(p128.native().size(), 128U);
  EXPECT_EQ(after([&](auto& c) { flow<script_node>(c, 1).start = p128; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<script_node>(c, 1).start = p129; }),
                        "group[0].flow[1].start", {"is 129 bytes; at most 128"}));
}

TEST_F(limits_test, shared_disk_device_and_mount_point_hold_at_most_128_bytes) {
  std::string dev128 = "/dev/" + std::string(123, 'd');
  EXPECT_EQ(after([&](auto& c) { flow<shared_disk_node>(c, 4).device = dev128; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<shared_disk_node>(c, 4).device = dev128 + "d"; }),
                        "group[0].flow[4].device", {"129 bytes; at most 128"}));
  std::string mnt128 = "/srv/" + std::string(123, 'm');
  EXPECT_EQ(after([&](auto& c) { flow<shared_disk_node>(c, 4).mount_point = mnt128; }), none);
  EXPECT_TRUE(
      has_error(after([&](auto& c) { flow<shared_disk_node>(c, 4).mount_point = mnt128 + "m"; }),
                "group[0].flow[4].mount_point", {"129 bytes; at most 128"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<shared_disk_node>(c, 4).mount_point = "srv"; }),
                        "group[0].flow[4].mount_point", {"not an absolute path"}));
}

TEST_F(limits_test, wait_is_1_to_3600_seconds_within_its_timeout) {
  EXPECT_EQ(after([&](auto& c) {
              flow<wait_node>(c, 3).wait = 3600s;
              flow<wait_node>(c, 3).timeout = 3600s;
              g(c).flow_timeout = 2h;
            }),
            none);
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<wait_node>(c, 3).wait = 0s; }),
                        "group[0].flow[3].seconds", {"0 is out of range 1..3600"}));
  EXPECT_TRUE(has_error(errors_of(replace_once(full_file(), "seconds = 5", "seconds = 3601")),
                        "group[0].flow[3].seconds", {"3601 is out of range 1..3600"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<wait_node>(c, 3).wait = 60s; }),
                        "group[0].flow[3].timeout", {"30s is shorter than the wait (60 seconds)"}));
}

TEST_F(limits_test, node_timeouts_are_1_to_3600_seconds) {
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<vip_node>(c, 0).timeout = 999ms; }),
                        "group[0].flow[0].timeout", {"999ms is out of range"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<vip_node>(c, 0).timeout = 3601s; }),
                        "group[0].flow[0].timeout", {"3601s is out of range"}));
}

TEST_F(limits_test, flow_timeout_is_not_shorter_than_the_flow) {
  EXPECT_EQ(after([&](auto& c) { g(c).flow_timeout = 160s; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { g(c).flow_timeout = 60s; }), "group[0].flow_timeout",
                        {"60s is shorter than the sum of the flow's node timeouts and unmount confirmation "
                         "waits (160s)"}));
}

TEST_F(limits_test, seed_tunables_keep_their_ranges) {
  EXPECT_EQ(after([&](auto& c) {
              g(c).shared_disk_wait = 3600s;
              g(c).failover_condition_wait = 1s;
              g(c).drbd_reconnect_count = 99;
              g(c).common_start_wait = 0s;
              c.log.size_mb = 1024;
            }),
            none);
  auto lines = after([&](auto& c) {
    g(c).shared_disk_wait = 3601s;
    g(c).failover_condition_wait = 0s;
    g(c).drbd_reconnect_count = 100;
    g(c).drbd_reconnect_interval = 0s;
    g(c).common_start_wait = 3601s;
    c.log.size_mb = 1025;
  });
  EXPECT_TRUE(has_error(lines, "group[0].shared_disk_wait", {"3601s"}));
  EXPECT_TRUE(has_error(lines, "group[0].failover_condition_wait", {"0s"}));
  EXPECT_TRUE(has_error(lines, "group[0].drbd_reconnect_count", {"100 is out of range 0..99"}));
  EXPECT_TRUE(has_error(lines, "group[0].drbd_reconnect_interval", {"0s"}));
  EXPECT_TRUE(has_error(lines, "group[0].common_start_wait", {"3601s"}));
  EXPECT_TRUE(has_error(lines, "log.size_mb", {"1025 is out of range 1..1024"}));
  EXPECT_EQ(lines.size(), 6U) << PrintToString(lines);
}

TEST_F(limits_test, drbd_minor_and_resource_names) {
  EXPECT_EQ(after([&](auto& c) { flow<drbd_node>(c, 5).minor = 1048575; }), none);
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<drbd_node>(c, 5).minor = 1048576; }),
                        "group[0].flow[5].minor", {"1048576"}));
  EXPECT_TRUE(has_error(after([&](auto& c) { flow<drbd_node>(c, 5).resource = ""; }),
                        "group[0].flow[5].resource", {"missing"}));
}

TEST_F(limits_test, node_paths_are_absolute_and_the_bus_url_is_nats) {
  auto lines = after([&](auto& c) {
    c.state_dir = "var/lib/hasys";
    c.bus_url = "http://127.0.0.1:4222";
    c.manager.address.clear();
  });
  EXPECT_TRUE(has_error(lines, "node.state_dir", {"\"var/lib/hasys\" is not an absolute path"}));
  EXPECT_TRUE(has_error(lines, "node.bus_url", {"nats://"}));
  EXPECT_TRUE(has_error(lines, "manager.address", {"required when manager.enabled = true"}));
  EXPECT_EQ(lines.size(), 3U) << PrintToString(lines);
}

}  // namespace

// Issue 8: allowed, but not what this product is measured to hold: advice, never a refusal.
TEST_F(limits_test, fast_periods_and_a_count_of_one_get_advice_not_errors) {
  auto c = full_config();
  g(c).polling_period = 10ms;
  g(c).polling_count = 3;
  for (const auto& a : advise(c)) EXPECT_EQ(a.key.find("polling"), std::string::npos) << a.to_string();
  g(c).polling_period = 5ms;
  EXPECT_TRUE(validate(c).empty()) << "5 ms is allowed (D3)";
  auto lines = lines_of(advise(c));
  EXPECT_TRUE(has_error(lines, "group[0].polling_period", {"5ms is below 10ms", "docs/benchmarks.md"}));
  g(c).polling_period = 100ms;
  g(c).polling_count = 1;
  lines = lines_of(advise(c));
  EXPECT_TRUE(has_error(lines, "group[0].polling_count", {"no executor watchdog fits", "ADR 0005"}));
}
