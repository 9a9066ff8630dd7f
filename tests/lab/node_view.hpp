// What lab scenario tests read from a node: its status (hasysctl status --json), waits on its
// status (hasysctl wait), and its live event stream (hasysctl events --follow --json).
#pragma once

#include "lab.hpp"

#include <hasys/proto/messages.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

// At the top of every lab test: the netns lab needs root; without it the test says why and skips.
#define SKIP_UNLESS_ROOT() \
  if (auto why = ::hasys::lab::lab::skip_unless_root()) GTEST_SKIP() << *why

namespace hasys::lab {

// The node's status for a group; nothing when its heartbeat daemon does not answer.
std::optional<proto::status_msg> status_of(const lab& l, std::string_view node,
                                           std::string_view group = "lab");

// hasysctl wait with the given conditions ("--role", "active", ...); true when met in time.
bool wait_status(const lab& l, std::string_view node, std::vector<std::string> conditions,
                 std::chrono::milliseconds timeout, std::string_view group = "lab");

// The node's events as they happen, parsed.
class event_stream {
 public:
  event_stream(const lab& l, std::string_view node);
  // The first event with this code not returned yet, or nothing by the deadline. Events of the
  // node's daemons reach the stream each through its own outbox, so one that happened first
  // may come a moment after another's: those skipped are kept for later calls.
  std::optional<proto::event_msg> wait_for(std::string_view code,
                                           std::chrono::milliseconds timeout);
  // Every event that arrives within the window (the window is the observation, not a wait for
  // something that could be awaited).
  std::vector<proto::event_msg> collect_for(std::chrono::milliseconds window);
  const std::string& transcript() const { return reader_.transcript(); }

 private:
  line_reader reader_;
  std::vector<proto::event_msg> skipped_;
};

// A lab command or hasysctl call must succeed; on failure the message shows what it printed.
#define ASSERT_OK(command)                                                                       \
  do {                                                                                           \
    const auto result_ = (command);                                                              \
    ASSERT_TRUE(result_.ok()) << #command << " exited " << result_.exit << ":\n" << result_.out; \
  } while (false)

// Codes of events that mean a role moved.
bool is_role_change(const proto::event_msg& e);

// What the client (gw namespace) reads from the name service at address:8080: the name of the
// node that answers, or "" when nobody does within 2 s.
std::string client_reads(const lab& l, const std::string& address);

// A power failure of a node: every process of its namespace killed, its links down (its kernel
// stops answering for the virtual IP, as a dead server's would).
void crash(const lab& l, std::string_view node);

// Appends TOML (e.g. more [[group.flow]] nodes, or group keys before the first table of the
// group) to each node's node.toml, then restarts its executor and heartbeat with it.
void reconfigure(const lab& l, const std::vector<std::string>& nodes, const std::string& toml);

// Writes an executable shell script into the lab's folder and returns its absolute path.
std::string write_script(const lab& l, const std::string& name, const std::string& body);

class vip_watch;
// The node is Active, holds `address` alone (sampled), and the client reads its name there.
void expect_serving(const lab& l, const vip_watch& w, const std::string& node,
                    const std::string& address = "198.51.100.100", const std::string& group = "lab",
                    std::chrono::milliseconds within = std::chrono::seconds(10));

// Before a fault (issue 18): `active` serves the address alone and `standby` is Standby next to it,
// hearing it — a fault is then judged from a steady pair, however slowly the lab came up.
void expect_settled(const lab& l, const vip_watch& w, const std::string& active, const std::string& standby,
                    const std::string& address = "198.51.100.100", const std::string& group = "lab",
                    std::chrono::milliseconds within = std::chrono::seconds(20));

// The hasysctl binary of the build, and a node's config path in the lab.
std::string hasysctl_path();
std::string node_config(const lab& l, std::string_view node);

}  // namespace hasys::lab
