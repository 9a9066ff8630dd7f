// Event exports (E3): CSV (RFC 4180, UTF-8 with a byte-order mark so spreadsheet programs read
// Korean text right) and XLSX (libxlsxwriter in constant-memory mode: rows are written as they
// come, so a million rows never sit in memory). Blocking: run on the database lane.
#pragma once

#include <hasys/proto/event_store_messages.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace hasys::event_store {

class row_sink {
 public:
  virtual ~row_sink() = default;
  virtual void row(const proto::event_row& r) = 0;
  // Closes the file; the error, or "" when it was written whole.
  virtual std::string finish() = 0;
};

// Throws std::runtime_error saying why the file cannot be created.
std::unique_ptr<row_sink> csv_sink(const std::filesystem::path& file);
std::unique_ptr<row_sink> xlsx_sink(const std::filesystem::path& file);

}  // namespace hasys::event_store
