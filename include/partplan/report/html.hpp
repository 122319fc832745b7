#pragma once
// Reading plans back (src/report/plan_reader.cpp), comparing them across models (compare.cpp),
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

#include "partplan/pipeline/assess.hpp"

namespace partplan::report {

/// A plan.json (docs/plan-json.md) as the comparison and the HTML pages read it.
struct PlanView {
  struct Attack {
    std::string name;
    double headline = 0;  ///< the headline mean: SSIM, or re-identification for records
    bool still_improving = false;
  };
  struct Cut {
    int id = 0;
    std::string name;
    double front_flops = 0;    ///< per sample, up to and including the cut
    double enclave_flops = 0;  ///< front (+ back in a ternary split)
    double enclave_bytes = 0;
    double enclave_seconds = 0;
    double latency_seconds = 0;
    bool fits = true;
    double measured = 0;  ///< max over attackers and the label-only guess
    std::string worst_attack;
    double envelope = 0;
    std::string verdict;  ///< "safe", "unsafe", "safe (lower bound: ...)"
    std::vector<Attack> attacks;
  };
  std::string source;            ///< the file it was read from
  std::string measure = pipeline::kMeasureSsim;  ///< the plan's headline measure (pipeline::kMeasure*)
  /// "SSIM" or "re-identification": how charts and tables name the measure.
  std::string measure_label() const { return pipeline::measure_label(measure); }
  std::string model_path, model_name, model_sha256;
  std::vector<int64_t> input_shape;
  double total_flops = 0;
  int64_t cut_count = 0;  ///< every cut point of the model (for the depth share)
  double threshold = 0;
  std::string decision_kind, reason;
  std::optional<int> chosen_id;
  std::string chosen_name;
  double leakage = 0, latency_seconds = 0, speedup = 0, all_enclave_seconds = 0;
  bool gate_failed = false;
  std::string gate_reason;
  std::optional<double> label_floor;
  std::vector<Cut> cuts;  ///< depth order
  /// The effective settings, flattened: "budget.steps" -> "300" (JSON text of each leaf).
  std::map<std::string, std::string> settings;
  std::string data_description;
  std::string back_cut_name;  ///< a ternary split's back cut ("" for a two-way split)
};

/// Parse a plan.json. Throws UsageError naming `source` and the missing or wrong field when
/// the text is not a partplan plan (or is a pre-screen, which has no leakage to compare).
PlanView read_plan(const std::string& text, const std::string& source);

/// The x-axis a comparison uses: the share of the model's FLOPs in the enclave (0..1), the
/// share of its cut points before the cut (0..1), or the cost model's enclave milliseconds.
enum class Axis { kFlops, kDepth, kMs };
/// "flops", "depth", "ms" -> Axis; throws UsageError naming the value.
Axis parse_axis(const std::string& name);
std::string axis_label(Axis axis);
double axis_value(const PlanView& plan, const PlanView::Cut& cut, Axis axis);

/// Where a model's envelope first falls to its threshold, on `axis`: linearly interpolated
/// between the last cut above and the first at or below it; nullopt when it never does.
std::optional<double> threshold_crossing(const PlanView& plan, Axis axis);

/// "key: value (file) vs value (file)" for each setting that differs between the plans
/// (the cut list and device aside: those differ between models and machines by design).
std::vector<std::string> plan_differences(const std::vector<PlanView>& plans);

/// The comparison as a table for people, as JSON (one object per model), and as a
/// self-contained HTML page with the figure. Throws UsageError on an empty list.
std::string compare_text(const std::vector<PlanView>& plans, Axis axis);
std::string compare_json(const std::vector<PlanView>& plans, Axis axis);
std::string compare_html(const std::vector<PlanView>& plans, Axis axis);

/// The self-contained report.html of one plan: the decision in one sentence, the leakage
/// curve (one line per attacker and the envelope), the Pareto view, the cost table, and the
/// reconstruction grid of each cut (`grids`: cut id -> PNG bytes), all inline.
std::string report_html(const PlanView& plan, const std::map<int, std::vector<uint8_t>>& grids);

}  // namespace partplan::report
