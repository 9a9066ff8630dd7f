// The node's configuration file as remote configuration sees it (issue 11): its text and
// version, the previous versions kept beside the state, and a new text put in its place whole.
// Plain blocking file I/O on small files; called on the heartbeat's slow thread.
#pragma once

#include <hasys/config/node_config.hpp>
#include <hasys/proto/config_messages.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hasys::heartbeat {

class config_files {
 public:
  static constexpr std::size_t kept = 20;  // previous versions kept

  config_files(std::filesystem::path file, std::filesystem::path history_dir)
      : file_(std::move(file)), history_(std::move(history_dir)) {}

  struct current {
    std::string text;
    std::string version;
    config::load_result parsed;  // parsed and validated as the daemons would at start
  };
  // Throws std::runtime_error naming the file when it cannot be read.
  current read() const;
  config::load_result parse(const std::string& text) const;
  // Keeps old_text in the history, then writes new_text over the file in one rename, with the
  // file's own permission bits. Throws std::runtime_error on failure (the file is then as it was).
  // Also leaves a marker that the daemons have yet to be told (applying()): a heartbeat killed
  // between writing the file and telling hasys-monitor and hasys-executor finds it at its next
  // start and tells them then; applied() removes it.
  void replace(const std::string& old_text, const std::string& new_text);
  bool applying() const;
  void applied();
  std::vector<proto::config_history_entry> history() const;  // newest first
  std::optional<std::string> find(const std::string& version) const;
  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  std::filesystem::path file_;
  std::filesystem::path history_;
};

}  // namespace hasys::heartbeat
