#include "event_export.hpp"

#include <xlsxwriter.h>

#include <fstream>
#include <stdexcept>

namespace hasys::event_store {

namespace {

const char* headers[] = {"time",  "group", "server",   "severity",
                         "event", "code",  "received", "node seq"};

std::string severity_text(cluster::severity s) { return std::string(cluster::to_string(s)); }

class csv final : public row_sink {
 public:
  explicit csv(const std::filesystem::path& file) : out_(file, std::ios::binary | std::ios::trunc) {
    if (!out_) throw std::runtime_error("cannot create " + file.string());
    out_ << "\xEF\xBB\xBF";
    for (std::size_t i = 0; i < std::size(headers); ++i) out_ << (i ? "," : "") << headers[i];
    out_ << "\r\n";
  }
  void row(const proto::event_row& r) override {
    const std::string fields[] = {proto::iso8601(r.event.time_unix_ms),
                                  r.event.group,
                                  r.event.node,
                                  severity_text(r.event.level),
                                  r.event.text,
                                  r.event.code,
                                  proto::iso8601(r.received_unix_ms),
                                  r.node + ":" + std::to_string(r.seq)};
    for (std::size_t i = 0; i < std::size(fields); ++i) {
      if (i) out_ << ',';
      quote(fields[i]);
    }
    out_ << "\r\n";
  }
  std::string finish() override {
    out_.flush();
    return out_ ? "" : "writing the CSV file failed (disk full?)";
  }

 private:
  void quote(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) {
      out_ << s;
      return;
    }
    out_ << '"';
    for (char c : s) {
      if (c == '"') out_ << '"';
      out_ << c;
    }
    out_ << '"';
  }
  std::ofstream out_;
};

class xlsx final : public row_sink {
 public:
  explicit xlsx(const std::filesystem::path& file) {
    lxw_workbook_options o{};
    o.constant_memory = LXW_TRUE;
    book_ = workbook_new_opt(file.c_str(), &o);
    if (!book_) throw std::runtime_error("cannot create " + file.string());
    sheet_ = workbook_add_worksheet(book_, "events");
    bold_ = workbook_add_format(book_);
    format_set_bold(bold_);
    const double widths[] = {26, 14, 14, 12, 60, 18, 26, 16};
    for (lxw_col_t c = 0; c < std::size(widths); ++c)
      worksheet_set_column(sheet_, c, c, widths[c], nullptr);
    for (lxw_col_t c = 0; c < std::size(headers); ++c)
      worksheet_write_string(sheet_, 0, c, headers[c], bold_);
    worksheet_freeze_panes(sheet_, 1, 0);
  }
  ~xlsx() override {
    if (book_) workbook_close(book_);
  }
  void row(const proto::event_row& r) override {
    ++row_;
    const std::string fields[] = {proto::iso8601(r.event.time_unix_ms),
                                  r.event.group,
                                  r.event.node,
                                  severity_text(r.event.level),
                                  r.event.text,
                                  r.event.code,
                                  proto::iso8601(r.received_unix_ms),
                                  r.node + ":" + std::to_string(r.seq)};
    for (lxw_col_t c = 0; c < std::size(fields); ++c)
      if (worksheet_write_string(sheet_, row_, c, fields[c].c_str(), nullptr) != LXW_NO_ERROR &&
          error_.empty())
        error_ = "a row could not be written to the XLSX file";
  }
  std::string finish() override {
    const lxw_error e = workbook_close(book_);
    book_ = nullptr;
    if (e != LXW_NO_ERROR && error_.empty())
      error_ = std::string("the XLSX file was not written: ") + lxw_strerror(e);
    return error_;
  }

 private:
  lxw_workbook* book_ = nullptr;
  lxw_worksheet* sheet_ = nullptr;
  lxw_format* bold_ = nullptr;
  lxw_row_t row_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<row_sink> csv_sink(const std::filesystem::path& file) {
  return std::make_unique<csv>(file);
}
std::unique_ptr<row_sink> xlsx_sink(const std::filesystem::path& file) {
  return std::make_unique<xlsx>(file);
}

}  // namespace hasys::event_store
