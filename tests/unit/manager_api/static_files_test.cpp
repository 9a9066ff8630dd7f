// The web manager's files (issue 12): cache headers, gzip twins, app routes, 404s, ETags.
#include "static_files.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>

namespace fs = std::filesystem;
using hasys::manager::http_response;
using hasys::manager::static_files;

namespace {

std::string header(const http_response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

struct web_root : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("hasys-web-" + std::to_string(::getpid()));
  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir / "assets");
    std::ofstream(dir / "index.html") << "<!doctype html><title>hasys</title>";
    std::ofstream(dir / "assets" / "index-AbC123.js") << "console.log(1)";
    std::ofstream(dir / "assets" / "index-AbC123.js.gz") << "GZIP";
  }
  void TearDown() override { fs::remove_all(dir); }
};

TEST_F(web_root, the_page_is_revalidated_and_hashed_assets_are_kept_a_year) {
  static_files web(dir);
  auto page = web.get("/", "", "");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(*page, "Cache-Control"), "no-cache");
  EXPECT_NE(header(*page, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  auto js = web.get("/assets/index-AbC123.js", "", "");
  ASSERT_TRUE(js);
  EXPECT_EQ(header(*js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js->body, "console.log(1)");
}

TEST_F(web_root, a_browser_taking_gzip_gets_the_twin) {
  static_files web(dir);
  auto js = web.get("/assets/index-AbC123.js", "gzip, deflate, br", "");
  ASSERT_TRUE(js);
  EXPECT_EQ(header(*js, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(*js, "Vary"), "Accept-Encoding");
  EXPECT_EQ(js->body, "GZIP");
  EXPECT_FALSE(web.get("/assets/index-AbC123.js.gz", "", ""));  // the twin is not a file of its own
}

TEST_F(web_root, app_routes_get_the_page_and_missing_files_nothing) {
  static_files web(dir);
  auto route = web.get("/group/lab?x=1", "", "");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->body, "<!doctype html><title>hasys</title>");
  EXPECT_FALSE(web.get("/assets/missing.js", "", ""));
  EXPECT_FALSE(web.get("/../etc/passwd", "", ""));
  EXPECT_FALSE(web.get("/assets/../../etc/passwd.txt", "", ""));
}

TEST_F(web_root, an_unchanged_page_is_a_304) {
  static_files web(dir);
  auto first = web.get("/", "", "");
  ASSERT_TRUE(first);
  const auto etag = header(*first, "ETag");
  ASSERT_FALSE(etag.empty());
  auto again = web.get("/", "", etag);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
}

TEST_F(web_root, no_root_serves_nothing_and_a_root_without_the_page_is_refused) {
  EXPECT_FALSE(static_files().get("/", "", ""));
  fs::remove(dir / "index.html");
  EXPECT_THROW(static_files{dir}, std::runtime_error);
}

}  // namespace
