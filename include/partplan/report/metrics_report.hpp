#pragma once
// Output of `partplan metrics`: a table for people, JSON for programs. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "partplan/common/shape.hpp"
#include "partplan/metrics/stats.hpp"

namespace partplan::report {

/// One scored image pair.
struct PairScore {
  std::string name;       ///< relative path without extension (folders) or the file name
  std::string a_path, b_path;
  common::Shape shape;    ///< C,H,W of A
  double ssim = 0;
  double psnr_db = 0;
  bool psnr_capped = false;
  bool resized = false;   ///< B was resized to A (--resize)
};

struct MetricsSummary {
  std::string a, b;                 ///< the command's arguments
  std::vector<PairScore> pairs;
  metrics::MeanCi ssim, psnr_db;    ///< over pairs
  int64_t psnr_capped = 0;
};

/// Table: one row per pair, then the mean and the 95% CI when there are several.
std::string metrics_text(const MetricsSummary& m);
/// JSON: {"a", "b", "ssim_definition", "psnr_cap_db", "pairs": [...], "summary": {...}}; no
/// infinity or NaN (non-finite numbers become null).
std::string metrics_json(const MetricsSummary& m);

}  // namespace partplan::report
