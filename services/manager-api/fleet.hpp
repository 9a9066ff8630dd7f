// The live state of every HA group the manager hears (M4–M6): each node's latest status and
// metrics as it sent them, when they came, and 90 s of CPU and memory history per server.
// Pure: the caller passes the messages and the time. A node speaking another protocol version
// is kept and shown as such; it never breaks the view of the others.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hasys::manager {

class fleet {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds history_span{90};
  // A status older than this is stale: the node (or its link to the hub) is silent.
  static constexpr std::chrono::seconds stale_after{5};

  struct sample {
    std::int64_t unix_ms;
    double cpu_percent, memory_percent;  // negative: not known yet
  };
  struct node_state {
    std::string group, node;
    boost::json::object status, metrics;  // as sent; empty until the first
    clock::time_point status_at{}, metrics_at{};
    std::int64_t status_unix_ms = 0, metrics_unix_ms = 0;  // the manager's clock at receipt
    std::int64_t version = 0;                              // "v" of the latest message
    std::uint64_t change = 0;  // the fleet's change counter at its latest update
    bool swept_stale = false;  // sweep() has counted its silence as a change
    std::size_t id = 0;        // stable, dense: 0, 1, 2 ... in the order nodes were first heard
    std::deque<sample> history;
  };

  // hasys.<group>.<node>.status and hasys.<group>.<node>.metrics. Returns why a message was not
  // taken ("" when it was); refused ones are counted.
  std::string on_status(std::string_view subject, std::string_view data, clock::time_point now,
                        std::int64_t unix_ms = 0);
  std::string on_metrics(std::string_view subject, std::string_view data, clock::time_point now,
                         std::int64_t unix_ms);

  // Every group in scope (["*"]: all), by name, each with its nodes side by side — without the
  // bulky parts (history, file systems, facts), which one group's view has.
  boost::json::array groups(const std::vector<std::string>& scope, clock::time_point now) const;
  // One group in scope, whole, or null when unknown or out of scope.
  boost::json::value group(const std::string& name, const std::vector<std::string>& scope,
                           clock::time_point now) const;

  // One line of the overview (M5) per node: role, mode, health, links, CPU, MEM, processes,
  // traffic — what a stream carries for every node it may see.
  boost::json::object node_row(const std::string& group, const std::string& node,
                               clock::time_point now) const;
  // Every node in scope, in (group, node) order: f(const node_state&). For the streams, which
  // look at every node four times a second each: no copies.
  template <class F>
  void visit(const std::vector<std::string>& scope, F&& f) const {
    const bool all = scope.size() == 1 && scope.front() == "*";
    const std::string* last_group = nullptr;
    bool last_in = false;
    for (const auto& [key, n] : nodes_) {
      if (!last_group || *last_group != key.first) {
        last_group = &key.first;
        last_in = all || in_scope(scope, key.first);
      }
      if (last_in) f(n);
    }
  }
  // A group's view without the bulky parts, or null.
  boost::json::value group_summary(const std::string& name, clock::time_point now) const;

  // Every group in scope with the counter of its latest change (grows with every update of any
  // of its nodes): what a stream client has not seen yet is what changed after it looked.
  std::vector<std::pair<std::string, std::uint64_t>> changes(
      const std::vector<std::string>& scope) const;
  std::uint64_t change() const { return change_; }
  std::size_t ids() const { return nodes_.size(); }
  // Nodes that fell silent since the last sweep count as changed (their views say stale).
  void sweep(clock::time_point now);

  // The fleet in Prometheus text: groups, nodes, roles, links, failovers seen.
  void prometheus(std::string& out, clock::time_point now) const;

  std::size_t node_count() const { return nodes_.size(); }
  std::uint64_t refused() const { return refused_; }

  static bool in_scope(const std::vector<std::string>& scope, const std::string& group);

 private:
  std::string refuse(std::string why) {
    ++refused_;
    return why;
  }
  boost::json::object node_view(const node_state& n, clock::time_point now, bool full) const;
  boost::json::object group_view(const std::string& name, clock::time_point now, bool full) const;
  std::map<std::pair<std::string, std::string>, node_state> nodes_;  // (group, node)
  std::uint64_t refused_ = 0;
  std::uint64_t change_ = 0;
  std::map<std::string, std::uint64_t> failovers_;  // group -> a node became Active (seen here)
};

}  // namespace hasys::manager
