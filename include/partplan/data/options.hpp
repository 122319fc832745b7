#pragma once
// Data settings of an assessment (docs/config.md, `data.*`; docs/data.md). The defaults are
// the quick preset; visit() lists every key once. Torch-free.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "partplan/data/splits.hpp"

namespace partplan::data {

/// How a CSV's numeric columns are scaled to [0,1] (docs/data.md, "CSV records").
enum class CsvScaling {
  kMinMax,     ///< (v - min) / (max - min)
  kLogMinMax,  ///< sign(v) log(1 + |v|) first, then min-max: for heavy-tailed counts (bytes, packets)
};
/// What a NaN or infinite numeric cell does.
enum class NonFinite {
  kCount,  ///< NaN reads as missing (0), +inf as the column's maximum, -inf as its minimum; counted and reported
  kError,  ///< the load fails, naming the file, line and column
};
inline const std::vector<std::pair<CsvScaling, std::string>>& enum_names(CsvScaling) {
  static const std::vector<std::pair<CsvScaling, std::string>> n{{CsvScaling::kMinMax, "minmax"},
                                                                 {CsvScaling::kLogMinMax, "log-minmax"}};
  return n;
}
inline const std::vector<std::pair<NonFinite, std::string>>& enum_names(NonFinite) {
  static const std::vector<std::pair<NonFinite, std::string>> n{{NonFinite::kCount, "count"},
                                                                {NonFinite::kError, "error"}};
  return n;
}

/// How a TON_IoT-style CSV becomes encoded records (docs/data.md, "CSV records"): the user's
/// feature pipeline, since their model was trained on it. Settings `data.csv.*`.
struct CsvOptions {
  /// Column kept aside as the label: "auto" = "label" when the file has one, else none; ""
  /// = none; else that column, which must exist.
  std::string label = "auto";
  /// Columns left out of the features. "auto" stands for TON_IoT's other target ("type" when
  /// the label is "label", "label" when it is "type"), so neither target leaks into the
  /// features; every other name must exist.
  std::vector<std::string> drop{"auto"};
  /// Non-empty: the feature columns, exactly these (in file order); every other column but
  /// the label is dropped. Each must exist.
  std::vector<std::string> keep;
  /// Columns encoded as categories even when every cell is a number (ports, status codes).
  std::vector<std::string> categorical;
  CsvScaling scaling = CsvScaling::kMinMax;
  NonFinite nonfinite = NonFinite::kCount;
};

template <class V>
void visit(CsvOptions& o, V&& v) {
  v("label", o.label);
  v("drop", o.drop);
  v("keep", o.keep);
  v("categorical", o.categorical);
  v("scaling", o.scaling);
  v("nonfinite", o.nonfinite);
}

/// How one CSV column became (or did not become) a feature.
/// How a CSV column is read (docs/data.md, "CSV records"): one feature (numeric, ip,
/// categorical), the label, or left out.
enum class ColumnKind { kNumeric, kIp, kCategorical, kLabel, kDropped };

/// The kind's name as the plan writes it ("numeric", "ip", "categorical", "label", "dropped").
constexpr const char* to_string(ColumnKind k) {
  switch (k) {
    case ColumnKind::kNumeric: return "numeric";
    case ColumnKind::kIp: return "ip";
    case ColumnKind::kCategorical: return "categorical";
    case ColumnKind::kLabel: return "label";
    case ColumnKind::kDropped: return "dropped";
  }
  return "dropped";
}

struct ColumnEncoding {
  std::string name;
  ColumnKind kind = ColumnKind::kDropped;
  int64_t feature = -1;     ///< index in the feature vector; -1 for label and dropped columns
  bool constant = false;    ///< one value only (or none finite): encoded as 0 everywhere
  double min = 0.0;         ///< numeric: the minimum (missing cells count as 0), mapped to 0
  double max = 0.0;         ///< numeric: the maximum (missing cells count as 0), mapped to 1
  int64_t categories = 0;   ///< ip/categorical/label: distinct values
  int64_t missing = 0;      ///< numeric: empty, "-", NaN-like cells (read as the value 0)
  int64_t infinite = 0;     ///< numeric: +inf (encoded 1) and -inf (encoded 0) cells
  bool log_scaled = false;  ///< numeric: sign(v) log(1+|v|) before min-max (min/max are of v)
};

struct DataOptions {
  std::string source = "builtin:fashion-mnist";  ///< docs/data.md
  int64_t attacker_train = 3000;                 ///< cap on attacker-train samples; 0 = no cap
  int64_t attacker_val = 200;                    ///< cap on attacker-val samples (early stopping)
  int64_t eval = 500;                            ///< cap on eval samples (the scores)
  double attacker_val_fraction = 0.1;            ///< share of a set smaller than the caps
  double eval_fraction = 0.2;
  int64_t crops_per_image = 1;    ///< image folders: samples per file (LoadOptions::crops_per_image)
  bool augment = true;            ///< image folders: random resized crops and flips for attacker-train
  double pixel_min = 0.0;         ///< model input value of a black pixel
  double pixel_max = 1.0;         ///< model input value of a white pixel
  std::vector<double> mean, std;  ///< per-channel normalisation; empty = ImageNet's for 3 channels
  CsvOptions csv;                 ///< CSV sources: columns to features

  SplitPolicy split_policy() const {
    return {attacker_train, attacker_val, eval, attacker_val_fraction, eval_fraction};
  }
};

template <class V>
void visit(DataOptions& o, V&& v) {
  v("source", o.source);
  v("attacker_train", o.attacker_train, 0, int64_t{1} << 40);
  v("attacker_val", o.attacker_val, 0, int64_t{1} << 40);
  v("eval", o.eval, 0, int64_t{1} << 40);
  v("attacker_val_fraction", o.attacker_val_fraction, 0.0, 0.5);
  v("eval_fraction", o.eval_fraction, 0.01, 0.5);
  v("crops_per_image", o.crops_per_image, 1, 4096);
  v("augment", o.augment);
  v("pixel_min", o.pixel_min);
  v("pixel_max", o.pixel_max);
  v("mean", o.mean);
  v("std", o.std);
  visit(o.csv, v.sub("csv"));
}

}  // namespace partplan::data
