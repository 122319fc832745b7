#pragma once
// The cells the stdout table and summary.md share, from a PlanDocument. Internal to src/report.

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "partplan/report/plan_document.hpp"

namespace partplan::report::cells {

/// The headline measure, as a column and axis title.
inline std::string measure_title(const PlanDocument& doc) { return doc.records() ? "re-identified" : "SSIM"; }

/// "rising" while an attacker's val score was still climbing at the end of its budget, "flat"
/// once it had levelled off, "-" when it ran no validation check (the white-box attacker, an
/// optimisation per image): its best check is at step >= 1 once one ran.
inline std::string trend(const pipeline::AttackScore& s) {
  if (s.train.best_step == 0 && !s.train.still_improving) return "-";
  return s.train.still_improving ? "rising" : "flat";
}

inline std::string ci(const metrics::MeanCi& c) { return fmt::format("{:.3f} [{:.3f}, {:.3f}]", c.mean, c.low, c.high); }

inline std::string mean_or_dash(const std::optional<metrics::MeanCi>& c) {
  return c ? fmt::format("{:.3f}", c->mean) : std::string("-");
}

/// The columns after the headline: PSNR for images; numeric error, share within tolerance and
/// categorical accuracy for records.
inline std::vector<std::string> details(const std::optional<metrics::RecordScores>& rec, const metrics::MeanCi& psnr) {
  if (!rec) return {fmt::format("{:.1f}", psnr.mean)};
  return {mean_or_dash(rec->numeric_error), mean_or_dash(rec->numeric_within), mean_or_dash(rec->categorical_accuracy)};
}

inline std::vector<std::string> detail_titles(const PlanDocument& doc) {
  if (!doc.records()) return {"PSNR dB"};
  return {"num. error", "num. within tol.", "cat. accuracy"};
}

/// "-" or the value with 3 decimals.
inline std::string number_or_dash(const std::optional<double>& v) {
  return v ? fmt::format("{:.3f}", *v) : std::string("-");
}

}  // namespace partplan::report::cells
