// Boot ids: a number that grows at every start of a daemon, even across clock steps, so a peer's
// replay guard can refuse packets recorded before our restart (B1).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace hasys::daemon {

// max(wall clock in ns, the last id in `file` + 1), written back to `file` (atomically).
// Throws std::runtime_error naming the file when it cannot be written.
std::uint64_t next_boot_id(const std::filesystem::path& file);

// Writes text to `file` whole or not at all: to file.tmp first (its folder created, the file made
// with `mode`, e.g. 0600 for a secret), then renamed over it. Throws
// std::runtime_error naming the file when it cannot.
void write_file_atomically(const std::filesystem::path& file, std::string_view text,
                           unsigned mode = 0644);

// A small persisted number (e.g. a peer's last boot id); 0 when absent or unreadable.
std::uint64_t read_number(const std::filesystem::path& file);
void write_number(const std::filesystem::path& file, std::uint64_t value);

}  // namespace hasys::daemon
