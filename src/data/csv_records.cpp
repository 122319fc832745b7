// FILE.csv: TON_IoT-style tabular records (docs/data.md, "CSV records").
// The file is read once into memory and split into cells (RFC 4180: commas, optional double
// quotes with "" escapes, \n or \r\n, a header row; blank lines skipped). Which columns are the
// label, dropped, kept or forced categorical is the user's (CsvOptions, `data.csv.*`). Every
// column that is neither the label nor dropped becomes one feature in [0,1]:
//   numeric      every non-missing cell parses as a number: missing/NaN cells read as 0 (TON_IoT
//                writes "-" for "none", e.g. no HTTP transaction), then min-max over the finite
//                values to [0,1] (after sign(v) log(1+|v|) with scaling log-minmax); +inf -> 1,
//                -inf -> 0, or with nonfinite "error" a NaN/inf cell fails the load; constant -> 0;
//   ip           every non-missing cell is an IPv4 or IPv6 address: rank among the distinct
//                addresses in numeric order (IPv4 as ::ffff:a.b.c.d, missing first) / (K-1);
//   categorical  anything else: rank among the distinct strings in byte order / (K-1).
// Features are laid out row-major into a zero-padded 1xHxW image (S x S by default, S the
// smallest square that fits) or kept as a flat vector, whichever the model's input takes.
// To support another cell kind, add a classifier next to parse_number/parse_ip and an encoder.
#include <arpa/inet.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/data/splits.hpp"
#include "src/data/sources.hpp"

namespace fs = std::filesystem;

namespace partplan::data::detail {
namespace {

struct Table {
  std::string text;
  std::deque<std::string> unescaped;  // quoted fields that contained "" escapes
  std::vector<std::string> header;
  std::vector<std::string_view> cells;  // row-major, header.size() per row
  std::vector<int64_t> line;            // first line number of each row (1-based)
  size_t cols() const { return header.size(); }
  size_t rows() const { return cols() ? cells.size() / cols() : 0; }
  std::string_view at(size_t r, size_t c) const { return cells[r * cols() + c]; }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

using common::iequals;

// Cells that mean "no value": empty, "-" (TON_IoT's), "?", and NaN/NA/N/A/null/none in any case.
bool is_missing(std::string_view s) {
  if (s.empty() || s == "-" || s == "?") return true;
  for (std::string_view m : {"nan", "na", "n/a", "null", "none"})
    if (iequals(s, m)) return true;
  return false;
}

bool parse_number(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

using IpKey = std::array<unsigned char, 16>;

bool parse_ip(std::string_view s, IpKey* key) {
  if (s.size() > 45) return false;
  char buf[46];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char v4[4];
  if (inet_pton(AF_INET, buf, v4) == 1) {
    key->fill(0);
    (*key)[10] = (*key)[11] = 0xff;  // IPv4-mapped IPv6: ::ffff:a.b.c.d
    std::memcpy(key->data() + 12, v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, buf, key->data()) == 1;
}

Table parse_csv(std::string text, const std::string& path) {
  Table t;
  t.text = std::move(text);
  const std::string& s = t.text;
  size_t pos = s.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // UTF-8 byte order mark
  int64_t line = 1;
  bool first = true;
  std::vector<std::string_view> row;
  while (pos < s.size()) {
    row.clear();
    const int64_t row_line = line;
    for (;;) {
      std::string_view field;
      if (pos < s.size() && s[pos] == '"') {
        const size_t start = pos + 1;
        size_t i = start;
        bool escaped = false;
        for (;;) {
          if (i >= s.size()) throw DataError(fmt::format("{}:{}: unterminated quoted field", path, row_line));
          if (s[i] == '"') {
            if (i + 1 < s.size() && s[i + 1] == '"') {
              escaped = true;
              i += 2;
              continue;
            }
            break;
          }
          if (s[i] == '\n') ++line;
          ++i;
        }
        field = std::string_view(s).substr(start, i - start);
        if (escaped) {
          std::string u;
          for (size_t k = 0; k < field.size(); ++k) {
            u.push_back(field[k]);
            if (field[k] == '"') ++k;  // skip the second quote of ""
          }
          t.unescaped.push_back(std::move(u));
          field = t.unescaped.back();
        }
        pos = i + 1;
        if (pos < s.size() && s[pos] != ',' && s[pos] != '\n' && s[pos] != '\r')
          throw DataError(fmt::format("{}:{}: text after a closing quote; quote whole fields only", path, line));
      } else {
        const size_t end = s.find_first_of(",\r\n", pos);
        const size_t stop = end == std::string::npos ? s.size() : end;
        field = std::string_view(s).substr(pos, stop - pos);
        pos = stop;
      }
      row.push_back(field);
      if (pos < s.size() && s[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < s.size() && s[pos] == '\r') ++pos;
      if (pos < s.size() && s[pos] == '\n') ++pos;
      ++line;
      break;
    }
    if (row.size() == 1 && trim(row[0]).empty()) continue;  // blank line
    if (first) {
      for (auto f : row) t.header.emplace_back(trim(f));
      std::set<std::string> seen;
      for (const auto& h : t.header)
        if (!seen.insert(h).second)
          throw DataError(fmt::format("{}: column '{}' appears twice in the header", path, h));
      first = false;
      continue;
    }
    if (row.size() != t.cols())
      throw DataError(fmt::format(
          "{}:{}: {} fields, but the header has {}{}: fix or remove that record", path, row_line, row.size(), t.cols(),
          row.size() < t.cols() ? fmt::format(" (column {} '{}' onwards missing)", row.size() + 1, t.header[row.size()])
                                : fmt::format(" (column {} onwards extra)", t.cols() + 1)));
    t.cells.insert(t.cells.end(), row.begin(), row.end());
    t.line.push_back(row_line);
  }
  if (t.header.empty()) throw DataError("'" + path + "' is empty: expected a header row and records");
  return t;
}

std::string column_list(const std::vector<std::string>& names) { return common::first_names(names, 12); }

// Rank of each value among the sorted distinct values, divided by (K-1).
template <typename Key>
std::vector<double> ordinal(const std::vector<Key>& keys, int64_t* distinct) {
  std::map<Key, int64_t> rank;
  for (const auto& k : keys) rank.emplace(k, 0);
  int64_t r = 0;
  for (auto& kv : rank) kv.second = r++;
  *distinct = r;
  std::vector<double> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(r > 1 ? static_cast<double>(rank[k]) / static_cast<double>(r - 1) : 0.0);
  return out;
}

}  // namespace

Dataset load_csv(const std::string& path, const LoadOptions& o) {
  std::error_code ec;
  const auto file_bytes = fs::file_size(path, ec);
  if (ec) throw IoError("cannot read '" + path + "': " + ec.message());
  check_memory_bound(static_cast<int64_t>(file_bytes), o, "CSV file '" + path + "'");
  return load_csv_text(common::read_file(path), path, o);
}

Dataset load_csv_text(std::string text, const std::string& path, const LoadOptions& o) {
  check_memory_bound(static_cast<int64_t>(text.size()), o, "CSV file '" + path + "'");
  const Table t = parse_csv(std::move(text), path);
  if (t.rows() == 0) throw DataError("'" + path + "' has a header but no records");

  // Label, dropped, kept and categorical columns (CsvOptions).
  auto column_index = [&](const std::string& name) -> int64_t {
    const auto it = std::find(t.header.begin(), t.header.end(), name);
    return it == t.header.end() ? -1 : it - t.header.begin();
  };
  auto must_exist = [&](const std::string& name, const char* setting) {
    const int64_t c = column_index(name);
    if (c < 0)
      throw UsageError(fmt::format("column '{}' (data.csv.{}) is not in '{}'; its columns: {}", name, setting, path,
                                   column_list(t.header)));
    return c;
  };
  std::string label_name;
  if (o.csv.label == "auto") {
    if (column_index("label") >= 0) label_name = "label";
  } else if (!o.csv.label.empty()) {
    label_name = o.csv.label;
    if (column_index(label_name) < 0)
      throw UsageError(
          fmt::format("label column '{}' (data.csv.label) is not in '{}'; its columns: {}; set "
                      "data.csv.label to one of them, or \"\" for none",
                      label_name, path, column_list(t.header)));
  }
  const int64_t label_col = label_name.empty() ? -1 : column_index(label_name);
  std::set<int64_t> dropped;
  for (const auto& name : o.csv.drop) {
    if (name == "auto") {
      // TON_IoT has two targets: the binary `label` and the attack `type`. Neither may leak.
      const std::string other = label_name == "label" ? "type" : label_name == "type" ? "label" : "";
      if (!other.empty() && column_index(other) >= 0) dropped.insert(column_index(other));
    } else {
      dropped.insert(must_exist(name, "drop"));
    }
  }
  if (!o.csv.keep.empty()) {
    std::set<int64_t> kept;
    for (const auto& name : o.csv.keep) {
      const int64_t c = must_exist(name, "keep");
      if (c == label_col)
        throw UsageError(
            fmt::format("column '{}' is both the label (data.csv.label) and a feature (data.csv.keep): "
                        "remove it from one of them",
                        name));
      kept.insert(c);
    }
    for (int64_t c = 0; c < static_cast<int64_t>(t.cols()); ++c)
      if (!kept.count(c)) dropped.insert(c);
  }
  dropped.erase(label_col);
  std::set<int64_t> forced_categorical;
  for (const auto& name : o.csv.categorical) forced_categorical.insert(must_exist(name, "categorical"));
  const bool log_scale = o.csv.scaling == CsvScaling::kLogMinMax;

  // Rows kept.
  const int64_t all_rows = static_cast<int64_t>(t.rows());
  std::vector<int64_t> rows;
  if (o.max_samples > 0 && o.max_samples < all_rows)
    rows = seeded_subset(all_rows, o.max_samples, subset_seed(o));
  else
    for (int64_t r = 0; r < all_rows; ++r) rows.push_back(r);
  const int64_t n = static_cast<int64_t>(rows.size());

  Dataset d;
  d.report.rows = all_rows;
  std::vector<std::vector<double>> features;  // per feature column, per kept row
  std::vector<std::string> constant_cols, missing_cols, infinite_cols;
  for (size_t c = 0; c < t.cols(); ++c) {
    ColumnEncoding enc;
    enc.name = t.header[c];
    if (static_cast<int64_t>(c) == label_col) {
      enc.kind = "label";
      d.report.columns.push_back(enc);
      continue;
    }
    if (dropped.count(static_cast<int64_t>(c))) {
      enc.kind = "dropped";
      d.report.columns.push_back(enc);
      continue;
    }
    std::vector<std::string_view> cells;
    cells.reserve(rows.size());
    for (auto r : rows) cells.push_back(trim(t.at(static_cast<size_t>(r), c)));

    bool numeric = !forced_categorical.count(static_cast<int64_t>(c)), ip = numeric;
    int64_t present = 0;
    for (auto s : cells) {
      if (is_missing(s)) continue;
      ++present;
      double v;
      IpKey key;
      if (numeric && !parse_number(s, &v)) numeric = false;
      if (ip && !parse_ip(s, &key)) ip = false;
      if (!numeric && !ip) break;
    }
    std::vector<double> values;
    values.reserve(cells.size());
    if (numeric) {
      enc.kind = "numeric";
      enc.log_scaled = log_scale;
      double lo = INFINITY, hi = -INFINITY;
      std::vector<double> raw;
      raw.reserve(cells.size());
      for (size_t i = 0; i < cells.size(); ++i) {
        const auto s = cells[i];
        double v = NAN;
        if (!is_missing(s)) parse_number(s, &v);
        // "nan" reads as missing under the counting rule; under "error" it is refused with inf.
        if (o.csv.nonfinite == NonFinite::kError && (iequals(s, "nan") || std::isinf(v)))
          throw DataError(
              fmt::format("{}:{}: column {} '{}' holds '{}', not a finite number: fix the record, or set "
                          "data.csv.nonfinite = \"count\" to read NaN as missing and +-inf as the "
                          "column's max/min (counted in the plan)",
                          path, t.line[static_cast<size_t>(rows[i])], c + 1, enc.name, s));
        if (log_scale && std::isfinite(v)) v = std::copysign(std::log1p(std::fabs(v)), v);
        raw.push_back(v);
        // A missing cell reads as 0, so 0 belongs to the range it is scaled over.
        const double as_read = std::isnan(v) ? 0.0 : v;
        if (std::isfinite(as_read)) {
          lo = std::min(lo, as_read);
          hi = std::max(hi, as_read);
        }
      }
      enc.constant = !(hi > lo);
      // Recorded in the column's own units, so that a reader can decode a field.
      auto unscaled = [&](double x) { return log_scale ? std::copysign(std::expm1(std::fabs(x)), x) : x; };
      enc.min = std::isfinite(lo) ? unscaled(lo) : 0.0;
      enc.max = std::isfinite(hi) ? unscaled(hi) : 0.0;
      for (double v : raw) {
        if (std::isnan(v)) {
          ++enc.missing;
          values.push_back(enc.constant ? 0.0 : (0.0 - lo) / (hi - lo));
        } else if (std::isinf(v)) {
          ++enc.infinite;
          values.push_back(v > 0 ? 1.0 : 0.0);
        } else {
          values.push_back(enc.constant ? 0.0 : (v - lo) / (hi - lo));
        }
      }
    } else if (ip && present > 0) {
      enc.kind = "ip";
      std::vector<std::pair<int, IpKey>> keys;  // missing (0) sorts before any address (1)
      keys.reserve(cells.size());
      for (auto s : cells) {
        IpKey key{};
        const bool missing = is_missing(s);
        if (!missing) parse_ip(s, &key);
        keys.emplace_back(missing ? 0 : 1, key);
      }
      values = ordinal(keys, &enc.categories);
      enc.constant = enc.categories < 2;
    } else {
      enc.kind = "categorical";
      values = ordinal(cells, &enc.categories);
      enc.constant = enc.categories < 2;
    }
    if (enc.constant) constant_cols.push_back(enc.name);
    if (enc.missing) missing_cols.push_back(fmt::format("{} ({})", enc.name, enc.missing));
    if (enc.infinite) infinite_cols.push_back(fmt::format("{} ({})", enc.name, enc.infinite));
    enc.feature = static_cast<int64_t>(features.size());
    features.push_back(std::move(values));
    d.report.columns.push_back(enc);
  }
  const int64_t f = static_cast<int64_t>(features.size());
  if (f == 0)
    throw DataError(
        fmt::format("'{}' has no feature columns left after the label and dropped columns: check "
                    "data.csv.label, data.csv.drop and data.csv.keep",
                    path));

  // Labels.
  if (label_col >= 0) {
    std::vector<std::string_view> cells;
    bool integers = true;
    for (auto r : rows) {
      const auto s = trim(t.at(static_cast<size_t>(r), static_cast<size_t>(label_col)));
      if (s.empty())
        throw DataError(fmt::format("{}:{}: empty label in column '{}': fill it in or drop the record", path,
                                    t.line[static_cast<size_t>(r)], label_name));
      int64_t v = 0;
      const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
      integers = integers && res.ec == std::errc() && res.ptr == s.data() + s.size() && v >= 0;
      cells.push_back(s);
    }
    d.labels = at::empty({n}, at::kLong);
    auto* out = d.labels.data_ptr<int64_t>();
    if (integers) {
      for (int64_t i = 0; i < n; ++i) std::from_chars(cells[i].data(), cells[i].data() + cells[i].size(), out[i]);
    } else {
      std::map<std::string_view, int64_t> index;
      for (auto s : cells) index.emplace(s, 0);
      int64_t k = 0;
      for (auto& kv : index) {
        kv.second = k++;
        d.class_names.emplace_back(kv.first);
      }
      for (int64_t i = 0; i < n; ++i) out[i] = index[cells[static_cast<size_t>(i)]];
    }
    for (auto& enc : d.report.columns)
      if (enc.kind == "label") enc.categories = integers ? 0 : static_cast<int64_t>(d.class_names.size());
  }

  if (o.record_features > 0 && f != o.record_features)
    throw UsageError(
        fmt::format("the model was trained on records of {} features (its archive's record_features), but "
                    "'{}' encodes {} per record: set data.csv.keep, data.csv.drop or data.csv.label so "
                    "that the {} columns it was trained on remain",
                    o.record_features, path, f, o.record_features));
  // Layout.
  SampleShape shape;
  const auto& req = o.sample_shape;
  if (req.empty()) {
    int64_t side = 1;
    while (side * side < f) ++side;
    shape = {1, side, side};
  } else if (req.size() == 1) {
    if (req[0] != f)
      throw UsageError(
          fmt::format("the model takes flat vectors of {} values, but '{}' encodes {} features per "
                      "record: set data.csv.keep, data.csv.drop or data.csv.label so that {} columns "
                      "remain (see the column list in docs/data.md)",
                      req[0], path, f, req[0]));
    shape = req;
  } else if (req.size() == 3 && req[0] == 1) {
    if (req[1] * req[2] < f)
      throw UsageError(
          fmt::format("'{}' encodes {} features per record, more than the {} cells of the model "
                      "input {}: drop columns with data.csv.drop or data.csv.keep",
                      path, f, req[1] * req[2], common::format_shape(req)));
    // A padded grid fits any shorter record: only the archive's record_features can tell a
    // record model from, say, an image model fed a table by mistake.
    if (req[1] * req[2] > f && o.record_features == 0)
      log::warn("CSV: {} features laid out in the model's {} cells, zero-padded; its archive does not say what "
                "record length it was trained on (\"record_features\" in partplan.json): check that it takes "
                "these records in this layout",
                f, req[1] * req[2]);
    shape = req;
  } else {
    throw UsageError(
        fmt::format("CSV records become 1-channel images or flat vectors, but the model's per-sample "
                    "shape is {}",
                    common::format_shape(req)));
  }
  const int64_t per_sample = common::numel(shape);
  check_memory_bound(4 * n * per_sample + 8 * n, o,
                     fmt::format("{} CSV records of {}", n, common::format_shape(shape)));
  std::vector<int64_t> full{n};
  full.insert(full.end(), shape.begin(), shape.end());
  d.samples = at::zeros(full, at::kFloat);
  auto* out = d.samples.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j)
      out[i * per_sample + j] = static_cast<float>(features[static_cast<size_t>(j)][static_cast<size_t>(i)]);

  auto note = [&](const std::string& text) {
    d.report.notes.push_back(text);
    log::warn("{}", text);
  };
  if (!constant_cols.empty())
    note(fmt::format("CSV: {} constant column(s) encoded as 0: {}", constant_cols.size(), column_list(constant_cols)));
  if (!missing_cols.empty())
    note(fmt::format("CSV: missing or NaN numeric cells read as 0 in: {}", column_list(missing_cols)));
  if (!infinite_cols.empty())
    note(fmt::format("CSV: infinite numeric cells encoded as 1 (+inf) or 0 (-inf) in: {}", column_list(infinite_cols)));
  std::vector<std::string> dropped_names;
  for (auto c : dropped) dropped_names.push_back(t.header[static_cast<size_t>(c)]);
  if (!dropped_names.empty()) log::info("CSV: dropped column(s): {}", column_list(dropped_names));

  d.description = fmt::format(
      "CSV '{}' ({} of {} records, {} features as {}, {})", path, n, all_rows, f, common::format_shape(shape),
      label_col < 0
          ? std::string("unlabelled")
          : fmt::format("label '{}'{}", label_name,
                        d.class_names.empty() ? std::string() : fmt::format(" ({} classes)", d.class_names.size())));
  d.record_features = f;
  if (o.progress) o.progress(n, n);
  return d;
}

}  // namespace partplan::data::detail
