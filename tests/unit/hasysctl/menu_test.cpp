// The numbered node menu driven line by line, as through a pipe: each item reaches the right
// operation with the right verb, only "y" confirms, wrong answers are asked again, several groups
// are offered, and the end of input leaves the menu with 0.
#include "menu.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace ctl = hasys::ctl;

namespace {

// Records every call as one line: "processes start", "cmd lab manual_failover", "common lab stop".
class fake_operations final : public ctl::menu_operations {
 public:
  std::vector<std::string> calls;
  std::string node_processes(bool start) override {
    calls.push_back(std::string("processes ") + (start ? "start" : "stop"));
    return "processes done";
  }
  std::string heartbeat_command(const std::string& group, std::string_view verb) override {
    calls.push_back("cmd " + group + " " + std::string(verb));
    return "accepted: " + std::string(verb);
  }
  std::string common_program(const std::string& group, bool start) override {
    calls.push_back("common " + group + (start ? " start" : " stop"));
    return "accepted: common program";
  }
  std::string information() override {
    calls.push_back("information");
    return "group lab  (status text)\n";
  }
};

struct outcome {
  int exit = -1;
  std::string out;
  std::vector<std::string> calls;
};

outcome drive(const std::string& input, std::vector<std::string> groups = {"lab"}) {
  fake_operations ops;
  std::istringstream in(input);
  std::ostringstream out;
  const int rc = ctl::run_menu(in, out, {"node-a", std::move(groups), "0.1.0"}, ops);
  return {rc, out.str(), ops.calls};
}

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

using calls = std::vector<std::string>;

}  // namespace

TEST(menu, shows_the_seed_items_with_the_node_and_its_group_in_the_header) {
  auto r = drive("9\n");
  EXPECT_EQ(r.exit, 0);
  EXPECT_NE(r.out.find("Node: node-a   Group: lab"), std::string::npos) << r.out;
  for (auto item :
       {"1. HA Process Start", "2. HA Process Stop", "3. Manual Failover",
        "4. Forced Failover(Forcious)", "5. Stop maintenance", "6. Master Start Program Startup",
        "7. Master Stop Program Startup", "8. HA Process Information Display", "9. Exit"})
    EXPECT_NE(r.out.find(item), std::string::npos) << item;
  EXPECT_EQ(count(r.out, "Enter configuration option : "), 1u);
  EXPECT_TRUE(r.calls.empty());
}

TEST(menu, manual_failover_sends_the_manual_failover_verb_after_confirmation) {
  auto r = drive("3\ny\n9\n");
  EXPECT_EQ(r.exit, 0);
  EXPECT_EQ(r.calls, calls{"cmd lab manual_failover"});
  EXPECT_NE(r.out.find("lab: accepted: manual_failover"), std::string::npos) << r.out;
}

TEST(menu, forced_failover_asks_the_role_and_sends_forced_active_or_forced_standby) {
  EXPECT_EQ(drive("4\n1\ny\n9\n").calls, calls{"cmd lab forced_active"});
  EXPECT_EQ(drive("4\n2\nyes\n9\n").calls, calls{"cmd lab forced_standby"});
  EXPECT_EQ(drive("4\nActive\nY\n").calls, calls{"cmd lab forced_active"});
  EXPECT_EQ(drive("4\nstandby\ny\n").calls, calls{"cmd lab forced_standby"});
}

TEST(menu, stop_maintenance_sends_the_stop_maintenance_verb) {
  EXPECT_EQ(drive("5\ny\n9\n").calls, calls{"cmd lab stop_maintenance"});
}

TEST(menu, master_start_and_stop_run_the_common_programs) {
  auto start = drive("6\ny\n9\n");
  EXPECT_EQ(start.calls, calls{"common lab start"});
  EXPECT_NE(start.out.find("lab: accepted: common program"), std::string::npos) << start.out;
  EXPECT_EQ(drive("7\ny\n9\n").calls, calls{"common lab stop"});
}

TEST(menu, ha_process_start_and_stop_reach_the_node_processes) {
  auto start = drive("1\ny\n9\n");
  EXPECT_EQ(start.calls, calls{"processes start"});
  EXPECT_NE(start.out.find("processes done"), std::string::npos);
  EXPECT_EQ(drive("2\ny\n9\n").calls, calls{"processes stop"});
}

TEST(menu, information_display_shows_the_status_without_asking) {
  auto r = drive("8\n9\n");
  EXPECT_EQ(r.calls, calls{"information"});
  EXPECT_NE(r.out.find("group lab  (status text)"), std::string::npos);
  EXPECT_EQ(r.out.find("(y/N)"), std::string::npos) << "item 8 changes nothing: no confirmation";
}

TEST(menu, any_answer_but_yes_to_the_confirmation_does_nothing) {
  for (std::string item : {"1", "2", "3", "5", "6", "7"}) {
    for (std::string answer : {"n", "N", "", "no", "maybe"}) {
      auto r = drive(item + "\n" + answer + "\n9\n");
      EXPECT_TRUE(r.calls.empty()) << "item " << item << ", answer \"" << answer << "\"";
      EXPECT_NE(r.out.find("Cancelled: nothing was done."), std::string::npos);
      EXPECT_EQ(r.exit, 0);
    }
  }
  EXPECT_TRUE(drive("4\n1\nn\n9\n").calls.empty());
}

TEST(menu, an_invalid_option_is_explained_and_the_menu_shown_again) {
  auto r = drive("x\n0\n10\n\n3\ny\n9\n");
  EXPECT_EQ(r.calls, calls{"cmd lab manual_failover"});
  EXPECT_NE(r.out.find("\"x\" is not an option: enter a number from 1 to 9."), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"0\" is not an option"), std::string::npos);
  EXPECT_NE(r.out.find("\"10\" is not an option"), std::string::npos);
  EXPECT_EQ(count(r.out, "Enter configuration option : "), 6u);
  EXPECT_EQ(count(r.out, "9. Exit"), 6u);
}

TEST(menu, an_invalid_role_is_asked_again_and_an_empty_one_goes_back) {
  auto r = drive("4\nleader\n2\ny\n9\n");
  EXPECT_EQ(r.calls, calls{"cmd lab forced_standby"});
  EXPECT_NE(r.out.find("\"leader\" is not a role"), std::string::npos) << r.out;
  EXPECT_TRUE(drive("4\n\n9\n").calls.empty());
}

TEST(menu, with_two_groups_the_operator_picks_one_of_them_or_all) {
  const std::vector<std::string> two{"web", "db"};
  auto header = drive("9\n", two);
  EXPECT_NE(header.out.find("Node: node-a   Groups: web, db"), std::string::npos) << header.out;
  auto one = drive("3\n2\ny\n9\n", two);
  EXPECT_EQ(one.calls, calls{"cmd db manual_failover"});
  EXPECT_NE(one.out.find("  1. web\n  2. db\n  3. all\n"), std::string::npos) << one.out;
  EXPECT_EQ(drive("3\n3\ny\n9\n", two).calls,
            (calls{"cmd web manual_failover", "cmd db manual_failover"}));
  EXPECT_EQ(drive("5\nall\ny\n", two).calls,
            (calls{"cmd web stop_maintenance", "cmd db stop_maintenance"}));
  EXPECT_EQ(drive("6\nweb\ny\n", two).calls, calls{"common web start"});
  EXPECT_EQ(drive("7\n1\ny\n", two).calls, calls{"common web stop"});
  EXPECT_EQ(drive("4\n2\n1\ny\n", two).calls, calls{"cmd db forced_active"});
}

TEST(menu, with_two_groups_an_unknown_group_is_asked_again_and_an_empty_one_goes_back) {
  const std::vector<std::string> two{"web", "db"};
  auto r = drive("3\n4\nmail\n1\ny\n9\n", two);
  EXPECT_EQ(r.calls, calls{"cmd web manual_failover"});
  EXPECT_NE(r.out.find("\"4\" is not a group here: enter a number from 1 to 3"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"mail\" is not a group here"), std::string::npos);
  auto back = drive("3\n\n9\n", two);
  EXPECT_TRUE(back.calls.empty());
  EXPECT_EQ(count(back.out, "Enter configuration option : "), 2u);
}

TEST(menu, the_end_of_input_leaves_with_0_wherever_it_comes) {
  for (std::string input : {"", "8\n", "3\n", "4\n1\n", "3\n1", "x\n"}) {
    auto r = drive(input, {"web", "db"});
    EXPECT_EQ(r.exit, 0) << "input \"" << input << "\"";
  }
  EXPECT_TRUE(drive("3\n").calls.empty()) << "no confirmation read: nothing done";
  EXPECT_TRUE(drive("4\n1\n").calls.empty());
  EXPECT_EQ(drive("8").calls, calls{"information"}) << "a last line without newline still counts";
}

TEST(menu, answers_are_echoed_after_their_prompt_only_when_asked) {
  fake_operations ops;
  std::istringstream in("3\ny\n9\n");
  std::ostringstream out;
  EXPECT_EQ(ctl::run_menu(in, out, {"node-a", {"lab"}, "0.1.0"}, ops, true), 0);
  EXPECT_NE(out.str().find("Enter configuration option : 3\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("(y/N) : y\nlab: accepted"), std::string::npos) << out.str();
  EXPECT_EQ(drive("3\ny\n9\n").out.find("Enter configuration option : 3"), std::string::npos);
}
