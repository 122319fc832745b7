#pragma once
// One JSON serialiser per result type, shared by plan.json, the run store and the metrics
// output, so that a type is spelt the same way everywhere it is written. Key names are a
// contract (docs/plan-json.md, docs/metrics.md, docs/schemas/); change them there first.
// Torch-free; nlohmann/json lives in report/ (and config/).

#include <nlohmann/json.hpp>

#include <optional>

#include "partplan/attacks/options.hpp"
#include "partplan/metrics/options.hpp"
#include "partplan/metrics/stats.hpp"
#include "partplan/pipeline/assess.hpp"

namespace partplan::report {

/// {"name": "partplan", "version", "libtorch"}: the build that wrote a document.
nlohmann::json tool_json();

/// The two documented spellings of a mean with its CI.
enum class CiKeys {
  kPlan,     ///< {mean, ci_low, ci_high, std, n, level}: plan.json and the run store
  kMetrics,  ///< {mean, stddev, ci95_low, ci95_high}, null where undefined: `partplan metrics --json`
};
nlohmann::json ci_json(const metrics::MeanCi& c, CiKeys keys = CiKeys::kPlan);
/// null when absent.
nlohmann::json ci_json(const std::optional<metrics::MeanCi>& c);
/// Reads CiKeys::kPlan (and the run store's pre-0.2 spelling: low, high, stddev, half_width,
/// has_ci). Throws nlohmann::json::exception on a missing key, a wrong type, or an integer out
/// of range (config::integer_from_json); so do the other *_from_json.
metrics::MeanCi ci_from_json(const nlohmann::json& j);

/// {reidentification, numeric_error, numeric_within_tolerance, categorical_accuracy}.
nlohmann::json records_json(const metrics::RecordScores& r);
metrics::RecordScores records_from_json(const nlohmann::json& j);

/// Training statistics; `with_curve` adds val_curve (the run store keeps it, the plan does not).
nlohmann::json train_json(const attacks::TrainStats& t, bool with_curve);
attacks::TrainStats train_from_json(const nlohmann::json& j);

/// One attacker's scores at one cut, as plan.json's cuts[].attacks[] entry (plus val_curve
/// with `with_curve`): images carry ssim/psnr_db/psnr_capped, records carry `records`.
nlohmann::json attack_json(const pipeline::AttackScore& s, bool with_curve);
pipeline::AttackScore attack_from_json(const nlohmann::json& j);

}  // namespace partplan::report
