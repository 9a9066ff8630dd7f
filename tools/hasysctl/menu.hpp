// The seed's numbered node menu (M10) as a loop over lines of input: it shows the items, asks for
// the group, the role and a confirmation, and calls a menu_operations, which hasysctl backs with
// the bus and systemd and the tests fake.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::ctl {

// What the items do. Each returns the text to show for people (may span lines).
class menu_operations {
 public:
  virtual ~menu_operations() = default;
  // Items 1 and 2: start or stop the node's hasys processes (hasys-node.target).
  virtual std::string node_processes(bool start) = 0;
  // Items 3, 4 and 5: one operator command verb to the group's heartbeat daemon.
  virtual std::string heartbeat_command(const std::string& group, std::string_view verb) = 0;
  // Items 6 and 7: the group's common start / stop program, run by the executor (W8).
  virtual std::string common_program(const std::string& group, bool start) = 0;
  // Item 8: what hasysctl status shows for every group of the node.
  virtual std::string information() = 0;
};

// Who the menu runs on: shown in its header; the groups are offered when an item needs one.
struct menu_node {
  std::string name;
  std::vector<std::string> groups;
  std::string version;
};

// Shows the menu and reads one answer per line from in until item 9 or the end of input; both
// return exit_ok. A wrong answer is explained and asked again; an empty answer to a follow-up
// question (group, role) goes back to the menu; only "y" or "yes" confirms. echo_answers writes
// each answer after its prompt, for input that is no terminal (a pipe), so the output reads like a
// session.
int run_menu(std::istream& in, std::ostream& out, const menu_node& node, menu_operations& ops,
             bool echo_answers = false);

}  // namespace hasys::ctl
