// The seed's file-drop commands (R7): an empty HA_*.DAT file created in the command directory
// (every group) or in its <group>/ subfolder (that group only) runs the matching command.
#pragma once

#include <hasys/cluster/types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hasys::heartbeat {

// HA_MANUAL_FAILOVER.DAT -> manual_failover, HA_FORCE_FAILOVER_BACKUP.DAT -> partition_standby,
// HA_FORCE_FAILOVER_ONLINE.DAT -> partition_active, HA_STRONG_FAILOVER_BACKUP.DAT ->
// forced_standby, HA_STRONG_FAILOVER_ONLINE.DAT -> forced_active.
std::optional<cluster::command_kind> command_of_file(std::string_view file_name);

class command_files {
 public:
  // on_command(group or "" for every group, kind, file name)
  using handler = std::function<void(const std::string& group, cluster::command_kind, const std::string& file)>;
  // Creates the folders; files found there at start are stale and removed (reported through
  // on_stale), never run.
  command_files(boost::asio::any_io_executor ex, std::filesystem::path dir,
                std::vector<std::string> groups, handler on_command,
                std::function<void(const std::string& file)> on_stale);
  ~command_files();
  boost::asio::awaitable<void> run();  // inotify watch until stop()
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace hasys::heartbeat
