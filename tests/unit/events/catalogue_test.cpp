// The event catalogue (issue 10, E1): complete (every code raised in the sources is in it),
// unique, in both languages, and the Korean text keeps the event's bracket.
#include <hasys/events/catalogue.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
namespace events = hasys::events;
namespace proto = hasys::proto;

TEST(event_catalogue, every_code_raised_in_the_sources_is_in_it) {
  // A code is raised as `"code", "Title...` (the texts begin with a capital letter).
  const std::regex raised(R"re("([a-z]+(?:_[a-z0-9]+)*)",\s*(?:std::string\()?"[A-Z])re");
  std::set<std::string> found;
  for (const char* root : {"libs", "services"}) {
    for (const auto& f : fs::recursive_directory_iterator(fs::path(HASYS_SOURCE_DIR) / root)) {
      if (f.path().extension() != ".cpp") continue;
      std::stringstream text;
      text << std::ifstream(f.path()).rdbuf();
      const std::string s = text.str();
      for (std::sregex_iterator it(s.begin(), s.end(), raised), end; it != end; ++it)
        // Prometheus metric names with their help text look the same; they are not events.
        if (!(*it)[1].str().starts_with("hasys_")) found.insert((*it)[1].str());
    }
  }
  EXPECT_GT(found.size(), 50u) << "the scan finds the codes";
  for (const auto& code : found)
    EXPECT_NE(events::find(code), nullptr) << code << " is not in the catalogue";
  for (const char* dynamic : {"cpu_over", "cpu_normal", "memory_over", "memory_normal",
                              "program_ok", "program_failed", "standby_ready", "standby_not_ready"})
    EXPECT_NE(events::find(dynamic), nullptr) << dynamic;
}

TEST(event_catalogue, codes_are_unique_and_every_one_has_a_korean_title) {
  std::set<std::string_view> codes;
  for (const auto& e : events::catalogue()) {
    EXPECT_TRUE(codes.insert(e.code).second) << e.code << " twice";
    EXPECT_FALSE(e.ko.empty()) << e.code;
  }
}

TEST(event_catalogue, the_korean_text_keeps_the_bracket) {
  proto::event_msg e;
  e.code = "peer_lost";
  e.text = "Subnode is not responding [node-b]";
  EXPECT_EQ(events::korean_text(e), "상대 노드가 응답하지 않습니다 [node-b]");
  e.code = "program_failed";
  e.text = "Application start program failed [app: exit 1]";
  EXPECT_EQ(events::korean_text(e),
            "프로그램 실행 실패 [Application start program failed [app: exit 1]]");
  e.code = "no_such_code";
  EXPECT_EQ(events::korean_text(e), e.text);
}
