// FILE.csv: TON_IoT-style tabular records (docs/data.md, "CSV records"), encoded as features.
// csv_reader.cpp streams the file and holds only the records kept. Which columns are the
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
// The steps: read_records (csv_reader.cpp), then encode_records: select_columns, infer_kind, encode_<kind> per
// feature column, encode_labels, choose_layout, lay_out. To support another cell kind, add a
// ColumnKind, its test in infer_kind (beside parse_number/parse_ip) and an encoder.
#include <arpa/inet.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <map>
#include <set>
#include <string_view>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/data/splits.hpp"
#include "src/data/csv_table.hpp"
#include "src/data/sources.hpp"

namespace fs = std::filesystem;

namespace partplan::data::detail {
namespace {

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

// Which column is the label and which are dropped or forced categorical (CsvOptions).
struct ColumnRoles {
  std::string label_name;  // "" when the records are unlabelled
  int64_t label = -1;      // its column, -1 for none
  std::set<int64_t> dropped, categorical;
};

ColumnRoles select_columns(const Table& t, const std::string& path, const CsvOptions& csv) {
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
  ColumnRoles r;
  if (csv.label == "auto") {
    if (column_index("label") >= 0) r.label_name = "label";
  } else if (!csv.label.empty()) {
    r.label_name = csv.label;
    if (column_index(r.label_name) < 0)
      throw UsageError(
          fmt::format("label column '{}' (data.csv.label) is not in '{}'; its columns: {}; set "
                      "data.csv.label to one of them, or \"\" for none",
                      r.label_name, path, column_list(t.header)));
  }
  r.label = r.label_name.empty() ? -1 : column_index(r.label_name);
  for (const auto& name : csv.drop) {
    if (name == "auto") {
      // TON_IoT has two targets: the binary `label` and the attack `type`. Neither may leak.
      const std::string other = r.label_name == "label" ? "type" : r.label_name == "type" ? "label" : "";
      if (!other.empty() && column_index(other) >= 0) r.dropped.insert(column_index(other));
    } else {
      r.dropped.insert(must_exist(name, "drop"));
    }
  }
  if (!csv.keep.empty()) {
    std::set<int64_t> kept;
    for (const auto& name : csv.keep) {
      const int64_t c = must_exist(name, "keep");
      if (c == r.label)
        throw UsageError(
            fmt::format("column '{}' is both the label (data.csv.label) and a feature (data.csv.keep): "
                        "remove it from one of them",
                        name));
      kept.insert(c);
    }
    for (int64_t c = 0; c < static_cast<int64_t>(t.cols()); ++c)
      if (!kept.count(c)) r.dropped.insert(c);
  }
  r.dropped.erase(r.label);
  for (const auto& name : csv.categorical) r.categorical.insert(must_exist(name, "categorical"));
  return r;
}

// A feature column's kind from its cells: numeric if every non-missing cell is a number (a
// column with none is numeric too), ip if every one is an address (at least one), else
// categorical; forced categorical by data.csv.categorical.
ColumnKind infer_kind(const std::vector<std::string_view>& cells, bool forced_categorical) {
  if (forced_categorical) return ColumnKind::kCategorical;
  bool numeric = true, ip = true;
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
  if (numeric) return ColumnKind::kNumeric;
  return ip && present > 0 ? ColumnKind::kIp : ColumnKind::kCategorical;
}

// Numeric cells to [0,1]: missing/NaN read as 0, min-max over the finite values (after
// sign(v) log(1+|v|) with log scaling), +inf -> 1, -inf -> 0; fills enc's range and counts.
// Throws DataError on a NaN/inf cell with nonfinite "error" (t and column c name the cell).
std::vector<double> encode_numeric(const std::vector<std::string_view>& cells, const Table& t, size_t c,
                                   const std::string& path, const CsvOptions& csv, ColumnEncoding& enc) {
  const bool log_scale = csv.scaling == CsvScaling::kLogMinMax;
  enc.log_scaled = log_scale;
  double lo = INFINITY, hi = -INFINITY;
  std::vector<double> raw;
  raw.reserve(cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto s = cells[i];
    double v = NAN;
    if (!is_missing(s)) parse_number(s, &v);
    // "nan" reads as missing under the counting rule; under "error" it is refused with inf.
    if (csv.nonfinite == NonFinite::kError && (iequals(s, "nan") || std::isinf(v)))
      throw DataError(
          fmt::format("{}:{}: column {} '{}' holds '{}', not a finite number: fix the record, or set "
                      "data.csv.nonfinite = \"count\" to read NaN as missing and +-inf as the "
                      "column's max/min (counted in the plan)",
                      path, t.line[i], c + 1, enc.name, s));
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
  std::vector<double> values;
  values.reserve(raw.size());
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
  return values;
}

// Addresses to their rank in numeric order (missing first) / (K-1).
std::vector<double> encode_ip(const std::vector<std::string_view>& cells, ColumnEncoding& enc) {
  std::vector<std::pair<int, IpKey>> keys;  // missing (0) sorts before any address (1)
  keys.reserve(cells.size());
  for (auto s : cells) {
    IpKey key{};
    const bool missing = is_missing(s);
    if (!missing) parse_ip(s, &key);
    keys.emplace_back(missing ? 0 : 1, key);
  }
  auto values = ordinal(keys, &enc.categories);
  enc.constant = enc.categories < 2;
  return values;
}

// Strings to their rank in byte order / (K-1).
std::vector<double> encode_categorical(const std::vector<std::string_view>& cells, ColumnEncoding& enc) {
  auto values = ordinal(cells, &enc.categories);
  enc.constant = enc.categories < 2;
  return values;
}

// The label column into d.labels (int64, one per row): non-negative integers as they are,
// anything else as the rank of its string, with d.class_names in that order. Returns the
// number of named classes (0 for integer labels). Throws DataError on an empty label.
int64_t encode_labels(const Table& t, int64_t col, const std::string& name, const std::string& path, Dataset& d) {
  const int64_t n = static_cast<int64_t>(t.rows());
  std::vector<std::string_view> cells;
  bool integers = true;
  for (size_t r = 0; r < t.rows(); ++r) {
    const auto s = trim(t.at(r, static_cast<size_t>(col)));
    if (s.empty())
      throw DataError(
          fmt::format("{}:{}: empty label in column '{}': fill it in or drop the record", path, t.line[r], name));
    int64_t v = 0;
    const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    integers = integers && res.ec == std::errc() && res.ptr == s.data() + s.size() && v >= 0;
    cells.push_back(s);
  }
  d.labels = at::empty({n}, at::kLong);
  auto* out = d.labels.data_ptr<int64_t>();
  if (integers) {
    for (int64_t i = 0; i < n; ++i) std::from_chars(cells[i].data(), cells[i].data() + cells[i].size(), out[i]);
    return 0;
  }
  std::map<std::string_view, int64_t> index;
  for (auto s : cells) index.emplace(s, 0);
  int64_t k = 0;
  for (auto& kv : index) {
    kv.second = k++;
    d.class_names.emplace_back(kv.first);
  }
  for (int64_t i = 0; i < n; ++i) out[i] = index[cells[static_cast<size_t>(i)]];
  return static_cast<int64_t>(d.class_names.size());
}

// The per-sample shape that f features take: the model's (a flat vector of exactly f, or a
// 1xHxW grid with room for f), or the smallest square grid when the model says nothing.
// Throws UsageError where the record does not fit the model.
SampleShape choose_layout(int64_t f, const std::string& path, const LoadOptions& o) {
  if (o.record_features > 0 && f != o.record_features)
    throw UsageError(
        fmt::format("the model was trained on records of {} features (its archive's record_features), but "
                    "'{}' encodes {} per record: set data.csv.keep, data.csv.drop or data.csv.label so "
                    "that the {} columns it was trained on remain",
                    o.record_features, path, f, o.record_features));
  const auto& req = o.sample_shape;
  if (req.empty()) {
    int64_t side = 1;
    while (side * side < f) ++side;
    return {1, side, side};
  }
  if (req.size() == 1) {
    if (req[0] != f)
      throw UsageError(
          fmt::format("the model takes flat vectors of {} values, but '{}' encodes {} features per "
                      "record: set data.csv.keep, data.csv.drop or data.csv.label so that {} columns "
                      "remain (see the column list in docs/data.md)",
                      req[0], path, f, req[0]));
    return req;
  }
  if (req.size() == 3 && req[0] == 1) {
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
    return req;
  }
  throw UsageError(
      fmt::format("CSV records become 1-channel images or flat vectors, but the model's per-sample "
                  "shape is {}",
                  common::format_shape(req)));
}

// The features (per column, per row) laid out row-major into zero-padded samples of `shape`.
at::Tensor lay_out(const std::vector<std::vector<double>>& features, int64_t n, const SampleShape& shape,
                   const LoadOptions& o) {
  const int64_t f = static_cast<int64_t>(features.size());
  const int64_t per_sample = common::numel(shape);
  check_memory_bound(4 * n * per_sample + 8 * n, o, fmt::format("{} CSV records of {}", n, common::format_shape(shape)));
  std::vector<int64_t> full{n};
  full.insert(full.end(), shape.begin(), shape.end());
  auto samples = at::zeros(full, at::kFloat);
  auto* out = samples.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j)
      out[i * per_sample + j] = static_cast<float>(features[static_cast<size_t>(j)][static_cast<size_t>(i)]);
  return samples;
}

// The plan's notes on what the encoding did to the columns (also warned on stderr).
void note_columns(const Table& t, const ColumnRoles& roles, Dataset& d) {
  std::vector<std::string> constant_cols, missing_cols, infinite_cols;
  for (const auto& enc : d.report.columns) {
    if (enc.feature < 0) continue;
    if (enc.constant) constant_cols.push_back(enc.name);
    if (enc.missing) missing_cols.push_back(fmt::format("{} ({})", enc.name, enc.missing));
    if (enc.infinite) infinite_cols.push_back(fmt::format("{} ({})", enc.name, enc.infinite));
  }
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
  for (auto c : roles.dropped) dropped_names.push_back(t.header[static_cast<size_t>(c)]);
  if (!dropped_names.empty()) log::info("CSV: dropped column(s): {}", column_list(dropped_names));
}

// The kept records as a Dataset: select the columns, infer and encode each feature column,
// encode the labels, choose the layout, lay the features out.
Dataset encode_records(const Table& t, const std::string& path, const LoadOptions& o) {
  if (t.rows() == 0) throw DataError("'" + path + "' has a header but no records");
  const ColumnRoles roles = select_columns(t, path, o.csv);
  const int64_t n = static_cast<int64_t>(t.rows());

  Dataset d;
  d.report.rows = t.records;
  std::vector<std::vector<double>> features;  // per feature column, per kept row
  for (size_t c = 0; c < t.cols(); ++c) {
    const auto col = static_cast<int64_t>(c);
    ColumnEncoding enc;
    enc.name = t.header[c];
    if (col == roles.label || roles.dropped.count(col)) {
      enc.kind = col == roles.label ? ColumnKind::kLabel : ColumnKind::kDropped;
      d.report.columns.push_back(enc);
      continue;
    }
    std::vector<std::string_view> cells;
    cells.reserve(t.rows());
    for (size_t r = 0; r < t.rows(); ++r) cells.push_back(trim(t.at(r, c)));
    enc.kind = infer_kind(cells, roles.categorical.count(col) > 0);
    features.push_back(enc.kind == ColumnKind::kNumeric ? encode_numeric(cells, t, c, path, o.csv, enc)
                       : enc.kind == ColumnKind::kIp    ? encode_ip(cells, enc)
                                                        : encode_categorical(cells, enc));
    enc.feature = static_cast<int64_t>(features.size()) - 1;
    d.report.columns.push_back(enc);
  }
  const int64_t f = static_cast<int64_t>(features.size());
  if (f == 0)
    throw DataError(
        fmt::format("'{}' has no feature columns left after the label and dropped columns: check "
                    "data.csv.label, data.csv.drop and data.csv.keep",
                    path));
  if (roles.label >= 0) {
    const int64_t classes = encode_labels(t, roles.label, roles.label_name, path, d);
    d.report.columns[static_cast<size_t>(roles.label)].categories = classes;
  }
  const SampleShape shape = choose_layout(f, path, o);
  d.samples = lay_out(features, n, shape, o);
  note_columns(t, roles, d);

  d.description = fmt::format(
      "CSV '{}' ({} of {} records, {} features as {}, {})", path, n, t.records, f, common::format_shape(shape),
      roles.label < 0
          ? std::string("unlabelled")
          : fmt::format("label '{}'{}", roles.label_name,
                        d.class_names.empty() ? std::string() : fmt::format(" ({} classes)", d.class_names.size())));
  d.record_features = f;
  if (o.progress) o.progress(n, n);
  return d;
}

}  // namespace

Dataset load_csv(const std::string& path, const LoadOptions& o) {
  const auto open = [&]() -> std::unique_ptr<std::istream> {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw IoError(fmt::format("cannot read '{}': it is a directory", path));
    auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*in) throw IoError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    return in;
  };
  return encode_records(read_records(open, path, o), path, o);
}

Dataset load_csv_text(std::string text, const std::string& path, const LoadOptions& o) {
  const auto open = [&]() -> std::unique_ptr<std::istream> { return std::make_unique<std::istringstream>(text); };
  return encode_records(read_records(open, path, o), path, o);
}

}  // namespace partplan::data::detail
