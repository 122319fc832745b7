// FILE.csv's records (docs/data.md, "CSV records"), streamed: RFC 4180 (commas, optional
// double quotes with "" escapes, \n or \r\n, a header row; blank lines skipped). Only the
// records kept are held: all of them, or with max_samples a seeded selection sample drawn on a
// second pass, so that memory follows the records used, not the file. csv_records.cpp encodes
// them.
#include <fmt/format.h>

#include <cstring>
#include <set>

#include "partplan/common/error.hpp"
#include "partplan/data/splits.hpp"
#include "src/data/csv_table.hpp"
#include "src/data/sources.hpp"

namespace partplan::data::detail {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

namespace {

// RFC 4180 records from a stream, read in 1 MiB chunks, so that memory does not grow with the
// file: commas, fields in double quotes with "" escapes (which may span lines), records ended
// by \n, \r\n or a lone \r, a UTF-8 byte order mark skipped.
class RecordReader {
 public:
  RecordReader(std::istream& in, const std::string& path) : in_(in), path_(path), buf_(size_t{1} << 20) {
    fill();
    if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
  }

  /// The next record's fields into fields[0..*count) (strings reused between calls) and the
  /// line it starts on; false at the end of the stream. Throws DataError on a broken quote.
  bool next(std::vector<std::string>& fields, size_t* count, int64_t* first_line) {
    if (peek() < 0) return false;
    *first_line = line_;
    size_t k = 0;
    for (;;) {
      if (k == fields.size()) fields.emplace_back();
      std::string& field = fields[k++];
      field.clear();
      if (peek() == '"') {
        get();
        for (;;) {
          const int c = get();
          if (c < 0) throw DataError(fmt::format("{}:{}: unterminated quoted field: close its quote (a quote inside a quoted "
                                                  "field is written \"\")",
                                                  path_, *first_line));
          if (c == '"') {
            if (peek() != '"') break;
            get();  // "" is one quote
          } else if (c == '\n') {
            ++line_;
          }
          field.push_back(static_cast<char>(c));
        }
        const int after = peek();
        if (after >= 0 && after != ',' && after != '\n' && after != '\r')
          throw DataError(fmt::format("{}:{}: text after a closing quote; quote whole fields only", path_, line_));
      } else {
        read_unquoted(field);
      }
      const int c = get();
      if (c == ',') continue;
      if (c == '\r' && peek() == '\n') get();
      ++line_;
      break;
    }
    *count = k;
    return true;
  }

 private:
  bool fill() {
    if (eof_) return false;
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    end_ = static_cast<size_t>(in_.gcount());
    pos_ = 0;
    if (in_.bad()) throw IoError(fmt::format("cannot read '{}': read error", path_));
    if (end_ == 0) eof_ = true;
    return end_ > 0;
  }
  int peek() {
    if (pos_ == end_ && !fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  int get() {
    const int c = peek();
    if (c >= 0) ++pos_;
    return c;
  }
  // Up to the next comma, \r or \n (or the end), appended a chunk at a time.
  void read_unquoted(std::string& field) {
    for (;;) {
      if (pos_ == end_ && !fill()) return;
      size_t i = pos_;
      while (i < end_ && buf_[i] != ',' && buf_[i] != '\n' && buf_[i] != '\r') ++i;
      field.append(buf_.data() + pos_, i - pos_);
      pos_ = i;
      if (i < end_) return;
    }
  }

  std::istream& in_;
  const std::string& path_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_ = 1;
};

// Reads the stream that `open` returns: the header, then every record, checking each one's
// field count. `keep` (called once per record, in order) says which records to hold; with no
// `keep`, all are held. Called twice when a subset is drawn: once to count, once to keep.
Table read_csv(const std::function<std::unique_ptr<std::istream>()>& open, const std::string& path,
               const std::function<bool()>& keep, const LoadOptions& o) {
  Table t;
  const auto in = open();
  RecordReader reader(*in, path);
  std::vector<std::string> row;
  size_t n = 0;
  int64_t row_line = 0;
  bool first = true;
  while (reader.next(row, &n, &row_line)) {
    if (n == 1 && trim(row[0]).empty()) continue;  // blank line
    if (first) {
      for (size_t i = 0; i < n; ++i) t.header.emplace_back(trim(row[i]));
      std::set<std::string> seen;
      for (const auto& h : t.header)
        if (!seen.insert(h).second)
          throw DataError(fmt::format("{}: column '{}' appears twice in the header", path, h));
      first = false;
      continue;
    }
    if (n != t.cols())
      throw DataError(fmt::format(
          "{}:{}: {} fields, but the header has {}{}: fix or remove that record", path, row_line, n, t.cols(),
          n < t.cols() ? fmt::format(" (column {} '{}' onwards missing)", n + 1, t.header[n])
                       : fmt::format(" (column {} onwards extra)", t.cols() + 1)));
    ++t.records;
    if (keep && !keep()) continue;
    for (size_t i = 0; i < n; ++i) {
      t.cells.emplace_back(t.arena.size(), row[i].size());
      t.arena += row[i];
    }
    t.line.push_back(row_line);
    // What is held: the cells' text and two offsets per cell, then the encoded features.
    check_memory_bound(static_cast<int64_t>(t.arena.size() + t.cells.size() * (2 * sizeof(size_t) + 8)), o,
                       fmt::format("the {} records kept of CSV file '{}'", t.rows(), path));
  }
  if (t.header.empty()) throw DataError("'" + path + "' is empty: expected a header row and records");
  return t;
}

}  // namespace

Table read_records(const std::function<std::unique_ptr<std::istream>()>& open, const std::string& path,
                   const LoadOptions& o) {
  if (o.max_samples <= 0) return read_csv(open, path, nullptr, o);
  const int64_t records = read_csv(open, path, [] { return false; }, o).records;  // count only
  if (records <= o.max_samples) return read_csv(open, path, nullptr, o);
  data::SeededSelection pick(records, o.max_samples, subset_seed(o));
  Table t = read_csv(open, path, [&] { return pick.take(); }, o);
  if (t.records != records)
    throw IoError(fmt::format("'{}' changed while it was read ({} records, then {}): read it again when it is "
                              "no longer written to",
                              path, records, t.records));
  return t;
}

}  // namespace partplan::data::detail
