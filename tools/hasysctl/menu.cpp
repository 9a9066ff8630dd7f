// The numbered node menu: items, follow-up questions (group, role, confirmation) and their answers,
// over line-by-line input; what the items do is behind menu_operations.
#include "menu.hpp"

#include <algorithm>
#include <cctype>
#include <istream>
#include <optional>
#include <ostream>

#include "cli.hpp"

namespace hasys::ctl {

namespace {

constexpr std::string_view rule = "--------------------------------------------------\n";

constexpr std::string_view items[] = {
    "HA Process Start",
    "HA Process Stop",
    "Manual Failover",
    "Forced Failover(Forcious)",
    "Stop maintenance",
    "Master Start Program Startup",
    "Master Stop Program Startup",
    "HA Process Information Display",
    "Exit",
};

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// "1".."n" as a number, else 0.
std::size_t number(std::string_view s, std::size_t n) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), digit)) return 0;
  const std::size_t v = std::stoul(std::string(s));
  return v >= 1 && v <= n ? v : 0;
}

class menu_session {
 public:
  menu_session(std::istream& in, std::ostream& out, const menu_node& node, menu_operations& ops,
               bool echo)
      : in_(in), out_(out), node_(node), ops_(ops), echo_(echo) {}

  int run() {
    for (;;) {
      show_menu();
      auto answer = ask("Enter configuration option : ");
      if (!answer || *answer == "9") break;
      const std::size_t item = number(*answer, 8);
      if (item == 0) {
        out_ << '"' << *answer << "\" is not an option: enter a number from 1 to 9.\n";
        continue;
      }
      run_item(item);
      if (eof_) break;
    }
    out_ << '\n';
    return exit_ok;
  }

 private:
  void show_menu() {
    out_ << "\n+ HASYS " << node_.version << " +\n"
         << rule << "Node: " << node_.name
         << (node_.groups.size() == 1 ? "   Group: " : "   Groups: ") << joined(node_.groups)
         << '\n'
         << rule;
    for (std::size_t i = 0; i < std::size(items); ++i) out_ << i + 1 << ". " << items[i] << '\n';
    out_ << rule;
  }

  // Prints the prompt and reads one line, trimmed; nothing at the end of input.
  std::optional<std::string> ask(std::string_view prompt) {
    out_ << prompt << std::flush;
    std::string line;
    if (!std::getline(in_, line)) {
      eof_ = true;
      return std::nullopt;
    }
    if (echo_) out_ << line << '\n';
    return trimmed(line);
  }

  bool confirm(const std::string& question) {
    auto a = ask(question + " (y/N) : ");
    if (a && (lower(*a) == "y" || lower(*a) == "yes")) return true;
    out_ << "Cancelled: nothing was done.\n";
    return false;
  }

  // The groups an item addresses: the only one, or the one (or all) the operator picks.
  std::optional<std::vector<std::string>> pick_groups() {
    const auto& g = node_.groups;
    if (g.size() <= 1) return g;
    for (;;) {
      out_ << "Groups of node " << node_.name << ":\n";
      for (std::size_t i = 0; i < g.size(); ++i) out_ << "  " << i + 1 << ". " << g[i] << '\n';
      out_ << "  " << g.size() + 1 << ". all\n";
      auto a = ask("Select group (empty: back to the menu) : ");
      if (!a || a->empty()) return std::nullopt;
      if (const std::size_t n = number(*a, g.size() + 1)) {
        if (n <= g.size()) return std::vector{g[n - 1]};
        return g;
      }
      if (lower(*a) == "all") return g;
      if (std::find(g.begin(), g.end(), *a) != g.end()) return std::vector{*a};
      out_ << '"' << *a << "\" is not a group here: enter a number from 1 to " << g.size() + 1
           << ", a group name or \"all\".\n";
    }
  }

  // Item 4's question: the role this node is forced into; true for Active.
  std::optional<bool> pick_role() {
    for (;;) {
      out_ << "Force this node into which role?\n  1. Active\n  2. Standby\n";
      auto a = ask("Select role (empty: back to the menu) : ");
      if (!a || a->empty()) return std::nullopt;
      const std::string w = lower(*a);
      if (w == "1" || w == "a" || w == "active") return true;
      if (w == "2" || w == "s" || w == "standby") return false;
      out_ << '"' << *a << "\" is not a role: enter 1 (Active) or 2 (Standby).\n";
    }
  }

  static std::string groups_text(const std::vector<std::string>& g) {
    return (g.size() == 1 ? "group " : "groups ") + joined(g);
  }

  void send(const std::vector<std::string>& groups, std::string_view verb) {
    for (const auto& g : groups) out_ << g << ": " << ops_.heartbeat_command(g, verb) << '\n';
  }

  void processes(bool start) {
    if (confirm(std::string(start ? "Start" : "Stop") + " the HA processes of node " + node_.name +
                " (hasys-node.target)?"))
      out_ << ops_.node_processes(start) << '\n';
  }

  void manual_failover() {
    auto g = pick_groups();
    if (g && confirm("Manual failover of " + groups_text(*g) +
                     ": swap the Active and Standby roles of the two nodes?"))
      send(*g, "manual_failover");
  }

  void forced_failover() {
    auto g = pick_groups();
    if (!g) return;
    auto active = pick_role();
    if (!active) return;
    if (confirm("Forced failover of " + groups_text(*g) + ": make node " + node_.name +
                (*active ? " Active" : " Standby") +
                " without checking failover conditions (applications may be affected)?"))
      send(*g, *active ? "forced_active" : "forced_standby");
  }

  void stop_maintenance() {
    auto g = pick_groups();
    if (g && confirm("Stop maintenance of " + groups_text(*g) + ": back to AUTO failover?"))
      send(*g, "stop_maintenance");
  }

  void common_program(bool start) {
    auto g = pick_groups();
    if (!g || !confirm("Run the common " + std::string(start ? "start" : "stop") + " program of " +
                       groups_text(*g) + " on node " + node_.name + "?"))
      return;
    for (const auto& name : *g) out_ << name << ": " << ops_.common_program(name, start) << '\n';
  }

  void run_item(std::size_t item) {
    switch (item) {
      case 1:
        processes(true);
        break;
      case 2:
        processes(false);
        break;
      case 3:
        manual_failover();
        break;
      case 4:
        forced_failover();
        break;
      case 5:
        stop_maintenance();
        break;
      case 6:
        common_program(true);
        break;
      case 7:
        common_program(false);
        break;
      default:
        out_ << ops_.information();
        break;
    }
  }

  std::istream& in_;
  std::ostream& out_;
  const menu_node& node_;
  menu_operations& ops_;
  bool echo_;
  bool eof_ = false;
};

}  // namespace

int run_menu(std::istream& in, std::ostream& out, const menu_node& node, menu_operations& ops,
             bool echo_answers) {
  return menu_session(in, out, node, ops, echo_answers).run();
}

}  // namespace hasys::ctl
