#include "config_files.hpp"

#include <hasys/daemon/boot_id.hpp>
#include <hasys/proto/messages.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace hasys::heartbeat {

namespace {
// History files: <unix ms>-<version>.toml, so a listing sorts by time.
struct history_name {
  std::int64_t unix_ms = 0;
  std::string version;
};
std::optional<history_name> parse_name(const fs::path& p) {
  if (p.extension() != ".toml") return std::nullopt;
  const std::string stem = p.stem().string();
  const auto dash = stem.find('-');
  if (dash == std::string::npos || dash == 0) return std::nullopt;
  try {
    return history_name{std::stoll(stem.substr(0, dash)), stem.substr(dash + 1)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}
}  // namespace

config_files::current config_files::read() const {
  std::ifstream in(file_, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file_.string());
  std::ostringstream text;
  text << in.rdbuf();
  current c;
  c.text = text.str();
  c.version = proto::config_version_of(c.text);
  c.parsed = parse(c.text);
  return c;
}

config::load_result config_files::parse(const std::string& text) const {
  return config::parse(text, file_.parent_path());
}

void config_files::replace(const std::string& old_text, const std::string& new_text) {
  fs::create_directories(history_);
  daemon::write_file_atomically(history_ / (std::to_string(proto::unix_ms_now()) + "-" +
                                            proto::config_version_of(old_text) + ".toml"),
                                old_text, 0600);
  daemon::write_file_atomically(history_ / "applying", proto::config_version_of(new_text) + "\n",
                                0600);
  struct stat st {};
  const unsigned mode = ::stat(file_.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0644;
  daemon::write_file_atomically(file_, new_text, mode);
  auto all = history();
  for (std::size_t i = kept; i < all.size(); ++i) {
    std::error_code ec;
    fs::remove(history_ / (std::to_string(all[i].saved_unix_ms) + "-" + all[i].version + ".toml"),
               ec);
  }
}

bool config_files::applying() const { return fs::exists(history_ / "applying"); }

void config_files::applied() {
  std::error_code ec;
  fs::remove(history_ / "applying", ec);
}

std::vector<proto::config_history_entry> config_files::history() const {
  std::vector<proto::config_history_entry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(history_, ec))
    if (auto n = parse_name(e.path())) out.push_back({n->version, n->unix_ms});
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.saved_unix_ms > b.saved_unix_ms; });
  return out;
}

std::optional<std::string> config_files::find(const std::string& version) const {
  for (const auto& h : history())
    if (h.version == version) {
      std::ifstream in(history_ / (std::to_string(h.saved_unix_ms) + "-" + h.version + ".toml"),
                       std::ios::binary);
      if (!in) return std::nullopt;
      std::ostringstream text;
      text << in.rdbuf();
      return text.str();
    }
  return std::nullopt;
}

}  // namespace hasys::heartbeat
