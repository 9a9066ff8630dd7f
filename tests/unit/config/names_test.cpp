// group_name and node_name: the seed's limits, checked once when the value is made.
#include <hasys/config/names.hpp>

#include <gtest/gtest.h>

using namespace hasys::config;

TEST(names, group_name_takes_1_to_20_characters_of_the_name_alphabet) {
  EXPECT_TRUE(group_name::make("GROUP-Linux_1.a"));
  EXPECT_TRUE(group_name::make(std::string(20, 'g')));
  EXPECT_FALSE(group_name::make(std::string(21, 'g')));
  EXPECT_FALSE(group_name::make(""));
  EXPECT_FALSE(group_name::make("GROUP Linux"));
  EXPECT_FALSE(group_name::make("grüppe"));
  EXPECT_EQ(group_name::make("g1")->str(), "g1");
}

TEST(names, node_name_takes_1_to_15_characters) {
  EXPECT_TRUE(node_name::make(std::string(15, 'n')));
  EXPECT_FALSE(node_name::make(std::string(16, 'n')));
  EXPECT_FALSE(node_name::make("node/a"));
}

TEST(names, problem_names_the_value_and_the_rule) {
  EXPECT_EQ(node_name::problem("node a"),
            "\"node a\" is not a valid server name: 1..15 characters of A-Z a-z 0-9 _ . -");
  EXPECT_NE(group_name::problem(std::string(21, 'g')).value_or("").find("1..20"),
            std::string::npos);
  EXPECT_FALSE(group_name::problem("ok"));
}

TEST(names, default_name_is_empty_and_names_compare_by_value) {
  EXPECT_TRUE(node_name{}.empty());
  EXPECT_EQ(*node_name::make("a"), *node_name::make("a"));
  EXPECT_LT(*node_name::make("a"), *node_name::make("b"));
  EXPECT_TRUE(*node_name::make("a") == std::string_view("a"));
}
