#pragma once
// Output of `partplan metrics`: a table for people, JSON for programs. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "partplan/common/shape.hpp"
#include "partplan/metrics/stats.hpp"
#include "partplan/pipeline/image_pairs.hpp"

namespace partplan::report {

using MetricsSummary = pipeline::PairSummary;
using PairScore = pipeline::PairScore;

/// Table: one row per pair, then the mean and the 95% CI when there are several.
std::string metrics_text(const MetricsSummary& m);
/// JSON: {"a", "b", "ssim_definition", "psnr_cap_db", "pairs": [...], "summary": {...}}; no
/// infinity or NaN (non-finite numbers become null).
std::string metrics_json(const MetricsSummary& m);

}  // namespace partplan::report
