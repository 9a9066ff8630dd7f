#include "static_files.hpp"

#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace hasys::manager {

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string type_of(const fs::path& p) {
  const auto e = p.extension().string();
  if (e == ".html") return "text/html; charset=utf-8";
  if (e == ".js" || e == ".mjs") return "text/javascript; charset=utf-8";
  if (e == ".css") return "text/css; charset=utf-8";
  if (e == ".json") return "application/json";
  if (e == ".svg") return "image/svg+xml";
  if (e == ".png") return "image/png";
  if (e == ".ico") return "image/x-icon";
  if (e == ".woff2") return "font/woff2";
  if (e == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string etag_of(const std::string& body) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), d);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (int i = 0; i < 8; ++i) {
    out += hex[d[i] >> 4];
    out += hex[d[i] & 15];
  }
  return out + "\"";
}

}  // namespace

static_files::static_files(const fs::path& root) {
  if (root.empty()) return;
  if (!fs::is_regular_file(root / "index.html"))
    throw std::runtime_error("--web-root " + root.string() +
                             " has no index.html (build the web manager: scripts/build.sh)");
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() == ".gz") continue;
    const std::string url = "/" + fs::relative(e.path(), root).generic_string();
    file f;
    f.type = type_of(e.path());
    f.body = slurp(e.path());
    if (fs::path gz = e.path().string() + ".gz"; fs::is_regular_file(gz)) f.gzip = slurp(gz);
    f.etag = etag_of(f.body);
    // Vite names what it builds under assets/ by their content: they never change.
    f.immutable = url.starts_with("/assets/");
    files_.emplace(url, std::move(f));
  }
}

std::optional<http_response> static_files::get(const std::string& target,
                                               const std::string& accept_encoding,
                                               const std::string& if_none_match) const {
  if (files_.empty()) return std::nullopt;
  std::string path = target.substr(0, target.find_first_of("?#"));
  if (path.empty() || path == "/") path = "/index.html";
  // Files come from memory only, never from the disk at request time; a path climbing out is
  // still refused rather than answered with the page.
  if (path.find("/..") != std::string::npos || path.find('\\') != std::string::npos)
    return std::nullopt;
  auto it = files_.find(path);
  if (it == files_.end()) {
    const auto last = path.substr(path.rfind('/') + 1);
    if (last.find('.') != std::string::npos) return std::nullopt;  // a missing file: 404
    it = files_.find("/index.html");                               // an app route
  }
  const auto& f = it->second;
  http_response r;
  r.content_type = f.type;
  r.headers.emplace_back("Cache-Control",
                         f.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("ETag", f.etag);
  // The server adds nosniff, DENY framing and no-referrer to every answer; the page also says
  // it loads nothing from elsewhere.
  if (f.type.starts_with("text/html"))
    r.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
        "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  if (!if_none_match.empty() && if_none_match == f.etag) {
    r.status = 304;
    return r;
  }
  if (!f.gzip.empty()) {
    r.headers.emplace_back("Vary", "Accept-Encoding");
    if (accept_encoding.find("gzip") != std::string::npos) {
      r.headers.emplace_back("Content-Encoding", "gzip");
      r.body = f.gzip;
      return r;
    }
  }
  r.body = f.body;
  return r;
}

}  // namespace hasys::manager
