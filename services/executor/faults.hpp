// Fault injection for tests (`hasys-executor --faults FILE`, never set in production): a system
// call of the executor can be made to fail or to answer late, per operation and flow node, by
// writing rules into FILE while the executor runs. Read at every operation; absent file: none.
//
//   # <operation>[@<flow node>] fail <message>   |   <operation>[@<flow node>] delay <ms>
//   release@vip fail Operation not permitted
//   check delay 2000
//
// Operations: check, refresh, release, add, remove, probe, announce.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace hasys::executor {

struct fault {
  std::chrono::milliseconds delay{};  // the reply comes this much later (the lane is held up)
  std::optional<std::string> fail;    // the operation fails with this text and changes nothing
};

class fault_plan {
 public:
  fault_plan() = default;
  explicit fault_plan(std::filesystem::path file) : file_(std::move(file)) {}
  bool enabled() const noexcept { return !file_.empty(); }
  const std::filesystem::path& file() const noexcept { return file_; }
  // The rule for this operation on this flow node (a rule naming the node wins over one without).
  fault lookup(std::string_view operation, std::string_view node) const;

 private:
  std::filesystem::path file_;
};

}  // namespace hasys::executor
