// The web manager's files (issue 12): the built single-page app, read once at start and served
// from memory with cache headers — hashed assets for a year, the page itself revalidated — a
// gzip copy when the build made one and the browser takes it, and the security headers of a
// page that loads nothing from elsewhere.
#pragma once

#include "http_types.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace hasys::manager {

class static_files {
 public:
  // Reads every file under root (none: the manager serves the API only). Throws
  // std::runtime_error when root is given but has no index.html.
  explicit static_files(const std::filesystem::path& root = {});
  bool enabled() const noexcept { return !files_.empty(); }
  std::size_t count() const noexcept { return files_.size(); }
  // GET/HEAD of a path outside /api/: the file, index.html for an app route (no dot in its last
  // segment), or nothing (404).
  std::optional<http_response> get(const std::string& target, const std::string& accept_encoding,
                                   const std::string& if_none_match) const;

 private:
  struct file {
    std::string type, body, gzip, etag;
    bool immutable = false;
  };
  std::map<std::string, file> files_;  // by URL path: "/index.html", "/assets/app-1a2b.js"
};

}  // namespace hasys::manager
