#pragma once
// The outputs of `assess`: plan.json (docs/plan-json.md), the report directory (PNG grids,
// leakage curve, summary.md) and the human summary on stdout. Torch-free.

#include <optional>
#include <string>

#include "partplan/partition/partition.hpp"
#include "partplan/pipeline/assess.hpp"
#include "partplan/plan/plan.hpp"

namespace partplan::report {

/// Version of plan.json.
inline constexpr int kPlanSchemaVersion = 2;

/// Everything a plan and a report are made from.
struct PlanContext {
  const model::ModelSummary* model = nullptr;
  const pipeline::AssessResult* result = nullptr;
  const plan::PlanResult* plan = nullptr;
  std::optional<double> fail_above;
  double plan_policy_memory_bytes = 0;  ///< the enclave memory budget the decision used
  std::string effective_config_json;    ///< the merged settings, as JSON text
  uint64_t seed = 0;
  std::string data_source;
  std::string command_line;
  std::string plan_path = "plan.json";                   ///< where plan.json is written (named in report.html)
  std::optional<partition::PartitionManifest> exported;  ///< the chosen split's parts, when --export
  std::string export_dir;
  std::optional<partition::VerifyResult> verification;
};

/// plan.json text. Every number is finite (PSNR is capped; see docs/metrics.md).
std::string plan_json(const PlanContext& ctx);

/// Write `dir`/summary.md, leakage.png and cut-<id>.png grids (eval originals above their
/// reconstructions by the strongest attacker). Atomic: a failure leaves `dir` as it was.
/// Throws IoError naming the path.
/// `plan_text` is plan_json(ctx), which report.html is rendered from.
void write_report_dir(const PlanContext& ctx, const std::string& dir, const std::string& plan_text);

/// The table and decision printed on stdout.
std::string assess_text(const PlanContext& ctx);

}  // namespace partplan::report
