// The CSV reader's output, shared by csv_reader.cpp (RFC 4180 records streamed from a file)
// and csv_records.cpp (the records encoded as features). Internal to src/data.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "partplan/data/dataset.hpp"

namespace partplan::data::detail {

// The records kept from the file: their cells, unescaped, in one arena.
struct Table {
  std::vector<std::string> header;
  std::string arena;                          // every kept cell's text, back to back
  std::vector<std::pair<size_t, size_t>> cells;  // (offset, length) in arena, row-major, cols() per row
  std::vector<int64_t> line;                  // first line number of each kept row (1-based)
  int64_t records = 0;                        // records in the file (kept or not)
  size_t cols() const { return header.size(); }
  size_t rows() const { return line.size(); }
  std::string_view at(size_t r, size_t c) const {
    const auto [off, len] = cells[r * cols() + c];
    return std::string_view(arena).substr(off, len);
  }
};

/// s without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);

/// The records of the stream that `open` returns (called once, or twice with max_samples):
/// all of them, or with options.max_samples a seeded subset in file order, drawn by selection
/// sampling on a second pass, so that memory follows the records kept. Throws DataError on a
/// malformed file (broken quote, wrong field count, repeated header name, no header), IoError
/// on a read error or a file that changed between the passes, and the memory bound's error.
Table read_records(const std::function<std::unique_ptr<std::istream>()>& open, const std::string& path,
                   const LoadOptions& options);

}  // namespace partplan::data::detail
