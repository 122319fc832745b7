#pragma once
// The plan document: plan.json (docs/plan-json.md) as one C++ type. to_json and
// plan_from_json in src/report/plan_document.cpp are the only code that knows the plan's keys
// and their legacy aliases; everything that shows a plan (the stdout table, summary.md,
// report.html, compare) renders a PlanDocument. Torch-free; nlohmann/json stays in the .cpp.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "partplan/data/options.hpp"
#include "partplan/pipeline/assess.hpp"

namespace partplan::report {

/// Version of plan.json. 2: the generic keys only (measured, envelope, leakage, label_floor,
/// best_val); 1 and before also wrote or only wrote *_ssim copies (read as aliases).
inline constexpr int kPlanSchemaVersion = 2;

struct PlanDocument {
  /// The build that wrote the plan.
  struct Tool {
    std::string name = "partplan", version, libtorch;
  };
  struct Model {
    std::string path, sha256;
    common::Shape input_shape, output_shape;
    double total_flops = 0;  ///< per sample
    int64_t total_param_bytes = 0;
    int64_t cut_count = 0;  ///< every cut point of the model (for the depth share)
  };
  struct Data {
    std::string source, description;
    int64_t size = 0, n_train = 0, n_val = 0, n_eval = 0;  ///< the splits: attacker-train, -val, eval
    int64_t batch_size = 1;
    bool augmented = false;
    std::vector<std::string> notes;
    std::vector<data::ColumnEncoding> columns;  ///< CSV records only: how each column was encoded
  };
  struct Cut {
    int id = 0;
    std::string name, scope, op;
    common::Shape shape;
    bool is_block = false;
    int64_t activation_bytes = 0;
    double front_flops = 0;  ///< per sample, up to and including the cut
    int64_t front_param_bytes = 0, front_peak_activation_bytes = 0;
    std::vector<pipeline::AttackScore> attacks;  ///< val_curve is not in the plan (the run store keeps it)
    pipeline::OracleScore oracle;
    pipeline::CutCost cost;
    double latency_seconds = 0;  ///< enclave + transfer + untrusted
    bool fits_budget = true;
    std::optional<double> probe_accuracy;  ///< ternary: linear-probe top-1 on the model's own labels
    double measured = 0;        ///< max over attackers and the label-only guess
    std::string worst_attack;   ///< who reached it
    double envelope = 0;        ///< max of measured over this cut and every deeper one
    int envelope_from = 0;      ///< the cut id where that max was measured
    std::vector<std::string> notes;
    std::string verdict;  ///< plan::verdict_text: "safe", "unsafe", "safe (lower bound: ...)"
    bool lower_bound = false;
    std::vector<std::string> still_improving;  ///< "attack@cut" at this cut and deeper
    bool safe() const { return verdict != "unsafe"; }
  };
  struct CostModel {
    std::string timed_on = "cpu";  ///< the enclave's times: always the CPU
    double whole_model_seconds = 0;
    std::string untrusted_timed_on = "cpu";
    double untrusted_whole_model_seconds = 0;
    bool gpu_speedup_applied = true;
    double all_enclave_seconds = 0;
    double enclave_memory_bytes = 0;  ///< the budget the decision used
  };
  struct Ternary {
    int back_cut_id = 0;
    std::string back_cut_name;
    std::optional<double> back_probe_accuracy, front_probe_accuracy, probe_chance;
  };
  struct Decision {
    std::string kind;          ///< "binary", "ternary", "none", "prescreen"
    std::vector<int> cut_ids;  ///< the chosen cut (and a ternary split's back cut); empty when none
    std::string cut_name;      ///< of cut_ids.front()
    double latency_seconds = 0, speedup_vs_enclave = 0;
    double threshold = 0, leakage = 0;
    std::string reason;
    std::optional<double> fail_above;
    bool gate_failed = false;
    std::string gate_reason;
  };
  struct Partition {
    std::string name, role, file, sha256;  ///< file as written: the export directory joined
    int64_t bytes = 0;
    common::Shape input_shape, output_shape;
  };
  struct Verification {
    int64_t samples = 0;
    double max_abs_error = 0, max_rel_error = 0;
    bool bit_exact = false, passed = false;
  };

  int schema_version = kPlanSchemaVersion;
  Tool tool;
  std::string created_utc;  ///< ISO 8601, UTC
  std::string device;
  std::string measure = pipeline::kMeasureSsim;  ///< the headline measure (pipeline::kMeasure*)
  std::string command;
  Model model;
  uint64_t seed = 0;
  std::string config_json = "{}";  ///< the effective settings, as JSON text
  Data data;
  std::vector<pipeline::Baseline> baselines;
  std::optional<double> label_floor;  ///< the label-prototype's headline mean
  std::vector<Cut> cuts;              ///< depth order
  std::optional<double> oracle_reference_kl;
  CostModel cost_model;
  std::optional<Ternary> ternary;
  Decision decision;
  std::vector<Partition> partitions;  ///< the exported parts (assess --export)
  std::optional<Verification> verification;
  double seconds = 0;
  std::vector<pipeline::PhaseTime> phase_seconds;
  /// "time": the whole run as estimated after the calibration (-1: none), and what
  /// --time-budget fitted (docs/plan-json.md).
  double estimated_seconds = -1;
  std::optional<pipeline::TimeBudgetReport> time_budget;

  /// Not in the JSON: the file the document was read from, or the path it is written to.
  std::string source;

  bool records() const { return measure == pipeline::kMeasureReidentification; }
  bool trained() const { return decision.kind != "prescreen"; }
  /// "SSIM" or "re-identification": how charts and tables name the measure.
  std::string measure_label() const { return pipeline::measure_label(measure); }
  /// The model file's stem ("resnet50_script"); "" when the plan names no model.
  std::string model_name() const;
  std::optional<int> chosen_id() const {
    return decision.cut_ids.empty() ? std::nullopt : std::optional<int>(decision.cut_ids.front());
  }
  /// The chosen cut, or nullptr.
  const Cut* chosen_cut() const;
  bool is_chosen(const Cut& c) const { return chosen_id() == c.id; }
  /// The effective settings, flattened: "budget.steps" -> "300" (JSON text of each leaf).
  std::map<std::string, std::string> settings() const;
};

/// Whether `text` is JSON with "kind": "partplan.plan" (not whether it is a valid plan).
bool is_plan_json(const std::string& text);

/// plan.json text: pretty-printed, a trailing newline, every number finite.
std::string to_json(const PlanDocument& doc);

/// Parse a plan.json of any schema version, a pre-screen too; `source` names it in errors and
/// becomes doc.source. Keys a version did not write take their defaults, the *_ssim keys of
/// versions 0 and 1 are read as the generic ones. Throws UsageError naming `source` and the
/// field at fault when the text is not JSON or not a partplan plan.
PlanDocument plan_from_json(const std::string& text, const std::string& source);

}  // namespace partplan::report
