// Reading a lab node through hasysctl: status, waits and the event stream.
#include "node_view.hpp"

#include "vip_watch.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <utility>
#include <fstream>

namespace hasys::lab {

using namespace std::chrono_literals;

std::string hasysctl_path() { return (lab::build_dir() / "tools/hasysctl/hasysctl").string(); }

std::string node_config(const lab& l, std::string_view node) {
  return (l.dir() / std::string(node) / "node.toml").string();
}

std::optional<proto::status_msg> status_of(const lab& l, std::string_view node,
                                           std::string_view group) {
  auto r = l.ctl(node, "status", "--json", "--group", std::string(group));
  if (!r.ok()) return std::nullopt;
  auto s = proto::from_json<proto::status_msg>(r.out.substr(0, r.out.find('\n')));
  if (!s) return std::nullopt;
  return *s;
}

bool wait_status(const lab& l, std::string_view node, std::vector<std::string> conditions,
                 std::chrono::milliseconds timeout, std::string_view group) {
  std::vector<std::string> args{"ctl",
                                std::string(node),
                                "wait",
                                "--group",
                                std::string(group),
                                "--timeout",
                                std::to_string(timeout.count()) + "ms"};
  args.insert(args.end(), conditions.begin(), conditions.end());
  return l.run_args(args, timeout + 10s).ok();
}

event_stream::event_stream(const lab& l, std::string_view node)
    : reader_(l.spawn(node, {hasysctl_path(), "--config", node_config(l, node), "events",
                             "--follow", "--json"})) {
  // Subscribed only once it says so: an event published before would be missed.
  EXPECT_TRUE(reader_.wait_for("following events", 10s)) << reader_.transcript();
}

std::optional<proto::event_msg> event_stream::wait_for(std::string_view code,
                                                       std::chrono::milliseconds timeout) {
  for (auto it = skipped_.begin(); it != skipped_.end(); ++it) {
    if (it->code != code) continue;
    auto e = std::move(*it);
    skipped_.erase(it);
    return e;
  }
  auto line = reader_.wait_for(
      [&](std::string_view l) {
        auto e = proto::from_json<proto::event_msg>(l);
        if (e && e->code == code) return true;
        if (e) skipped_.push_back(std::move(*e));
        return false;
      },
      timeout);
  if (!line) return std::nullopt;
  return *proto::from_json<proto::event_msg>(*line);
}

std::vector<proto::event_msg> event_stream::collect_for(std::chrono::milliseconds window) {
  std::vector<proto::event_msg> out = std::exchange(skipped_, {});
  const auto end = std::chrono::steady_clock::now() + window;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    auto line = reader_.next_line(left);
    if (!line) break;
    if (auto e = proto::from_json<proto::event_msg>(*line)) out.push_back(*e);
  }
  return out;
}

std::string client_reads(const lab& l, const std::string& address) {
  auto r = l.exec("gw", "timeout 2 bash -c 'exec 3<>/dev/tcp/" + address + "/8080; cat <&3'", 5s);
  auto out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return r.ok() ? out : "";
}

void crash(const lab& l, std::string_view node) {
  auto r = l.run("crash", std::string(node));
  ASSERT_TRUE(r.ok()) << r.out;
}

void reconfigure(const lab& l, const std::vector<std::string>& nodes, const std::string& toml) {
  for (const auto& n : nodes) {
    std::ofstream out(node_config(l, n), std::ios::app);
    out << "\n" << toml << "\n";
  }
  for (const auto& n : nodes)
    for (const char* d : {"heartbeat", "executor"}) l.run("kill", n, d);
  for (const auto& n : nodes)
    for (const char* d : {"executor", "heartbeat"}) {
      auto r = l.run("start", n, d);
      EXPECT_TRUE(r.ok()) << "start " << d << " on " << n << ": " << r.out;
    }
}

std::string write_script(const lab& l, const std::string& name, const std::string& body) {
  const auto path = l.dir() / name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                std::filesystem::perms::others_exec);
  return path.string();
}

void expect_serving(const lab& l, const vip_watch& w, const std::string& node,
                    const std::string& address, const std::string& group,
                    std::chrono::milliseconds within) {
  ASSERT_TRUE(wait_status(l, node, {"--role", "active"}, within, group))
      << node << " never became Active";
  ASSERT_TRUE(w.wait_sole_holder(node, within)) << node << " does not hold " << address << " alone";
  EXPECT_EQ(client_reads(l, address), "node-" + node);
}

void expect_settled(const lab& l, const vip_watch& w, const std::string& active, const std::string& standby,
                    const std::string& address, const std::string& group, std::chrono::milliseconds within) {
  ASSERT_NO_FATAL_FAILURE(expect_serving(l, w, active, address, group, within));
  ASSERT_TRUE(wait_status(l, standby, {"--role", "standby", "--peer-role", "active", "--peer-alive", "yes"}, within,
                          group))
      << standby << " is not Standby next to " << active;
  ASSERT_TRUE(wait_status(l, active, {"--role", "active", "--peer-role", "standby", "--peer-alive", "yes"}, within,
                          group))
      << active << " does not see " << standby << " Standby";
}

bool is_role_change(const proto::event_msg& e) {
  for (auto code : {"activating", "active", "deactivating", "standby", "failed", "peer_lost",
                    "both_active", "resources_released"})
    if (e.code == code) return true;
  return false;
}

}  // namespace hasys::lab
