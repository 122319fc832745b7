#pragma once
// Comparing them across models (compare.cpp),
// and the self-contained HTML pages (report_html.cpp, compare.cpp): inline SVG charts
// (chart.hpp, which draws the same charts as PNGs) and PNG grids embedded as data URIs, so
// that a page opens from a file with no network and nothing to install.
// Torch-free; nlohmann/json stays in the .cpp files.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "partplan/report/plan_document.hpp"

namespace partplan::report {

/// A plan for the comparison: plan_from_json, refusing an oracle pre-screen (it has no
/// leakage to compare). Throws UsageError naming `source` and the field at fault.
PlanDocument read_plan(const std::string& text, const std::string& source);

/// The x-axis a comparison uses: the share of the model's FLOPs in the enclave (0..1), the
/// share of its cut points before the cut (0..1), or the cost model's enclave milliseconds.
enum class Axis { kFlops, kDepth, kMs };
/// "flops", "depth", "ms" -> Axis; throws UsageError naming the value.
Axis parse_axis(const std::string& name);
std::string axis_label(Axis axis);
double axis_value(const PlanDocument& plan, const PlanDocument::Cut& cut, Axis axis);

/// Where a model's envelope first falls to its threshold, on `axis`: linearly interpolated
/// between the last cut above and the first at or below it; nullopt when it never does.
std::optional<double> threshold_crossing(const PlanDocument& plan, Axis axis);

/// "key: value (file) vs value (file)" for each setting that differs between the plans
/// (the cut list and device aside: those differ between models and machines by design).
std::vector<std::string> plan_differences(const std::vector<PlanDocument>& plans);

/// The comparison as a table for people, as JSON (one object per model), and as a
/// self-contained HTML page with the figure. Throws UsageError on an empty list.
std::string compare_text(const std::vector<PlanDocument>& plans, Axis axis);
std::string compare_json(const std::vector<PlanDocument>& plans, Axis axis);
std::string compare_html(const std::vector<PlanDocument>& plans, Axis axis);

/// The self-contained report.html of one plan: the decision in one sentence, the leakage
/// curve (one line per attacker and the envelope), the Pareto view, the cost table, and the
/// reconstruction grid of each cut (`grids`: cut id -> PNG bytes), all inline.
std::string report_html(const PlanDocument& plan, const std::map<int, std::vector<uint8_t>>& grids);

}  // namespace partplan::report
