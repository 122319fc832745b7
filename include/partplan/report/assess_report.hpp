#pragma once
// The outputs of `assess`: its plan document (plan.json, docs/plan-json.md), the report
// directory (summary.md, report.html, the charts as PNGs, the reconstruction grids) and the
// table on stdout. Everything but the grids is rendered from the PlanDocument. Torch-free.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "partplan/partition/partition.hpp"
#include "partplan/pipeline/assess.hpp"
#include "partplan/plan/plan.hpp"
#include "partplan/report/plan_document.hpp"

namespace partplan::report {

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
  std::string plan_path = "plan.json";                   ///< where plan.json is written (the document's source)
  std::optional<partition::PartitionManifest> exported;  ///< the chosen split's parts, when --export
  std::string export_dir;
  std::optional<partition::VerifyResult> verification;
};

/// The plan document of an assessment, stamped with this build (tool) and the time (UTC).
/// Its `source` is ctx.plan_path. Throws Error when ctx.plan lacks a cut's verdict.
PlanDocument plan_document(const PlanContext& ctx);

/// Cut id -> PNG of eval originals above their reconstructions by the cut's strongest
/// attacker; cuts without reconstructions (records, report.grid_images 0) have none.
/// Throws IoError when a grid cannot be encoded.
using GridPngs = std::map<int, std::vector<uint8_t>>;
GridPngs reconstruction_grids(const pipeline::AssessResult& result);

/// Write `dir`/summary.md, the cut-<id>.png grids and, for a trained assessment,
/// report.html, leakage.png and pareto.png (a pre-screen has no leakage to draw). Atomic: a
/// failure leaves `dir` as it was. Throws IoError naming the path.
void write_report_dir(const PlanDocument& doc, const GridPngs& grids, const std::string& dir);

/// summary.md: the decision, the cut table (a cut's name links its grid when `grids` has
/// one), each attacker, the cost table, the baselines and, for records, the encoding.
std::string summary_markdown(const PlanDocument& doc, const GridPngs& grids);

/// The table and decision printed on stdout.
std::string assess_text(const PlanDocument& doc);

}  // namespace partplan::report
