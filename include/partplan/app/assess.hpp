#pragma once
// The application layer under every front end (the CLI today; a runtime or a service next):
// one assessment as a request in and an outcome out. It resolves the device, loads the model,
// runs the assessment (resuming from and saving to a run directory), decides, exports the
// chosen split, and writes the plan and the report. It prints nothing: progress goes to the
// request's callback and diagnostics to the log sink (the process's stderr unless the request
// brings its own). Torch-free header.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "partplan/common/log.hpp"
#include "partplan/config/settings.hpp"
#include "partplan/pipeline/assess.hpp"

namespace partplan::app {

struct AssessRequest {
  std::string model_path;
  std::optional<std::string> input_shape;  ///< "1,3,224,224": for a model that records none
  /// The effective settings (the quick preset < --config < flags, layered by the caller);
  /// "device" may be "auto", resolved here and recorded resolved in the plan.
  config::Settings settings = pipeline::default_settings();
  std::string plan_out = "plan.json";  ///< where the plan is written; "-": returned only
  std::string report_dir, export_dir;  ///< empty: none
  std::string run_dir;                 ///< keep each finished cut here; empty: none
  bool resume = false;                 ///< reuse the finished cuts in run_dir
  /// (index, count): assess one shard's cuts into run_dir and write its manifest, no plan.
  std::optional<std::pair<int64_t, int64_t>> shard;
  std::string command_line;  ///< recorded in the plan
  /// A merge of a sharded run (merge_request): every cut comes from run_dir, whose
  /// fingerprint and model are these.
  std::optional<std::string> merge_fingerprint, merge_model_sha256;
  pipeline::ProgressFn progress;  ///< optional
  log::Sink log;                  ///< optional: where diagnostics go while the request runs
};

struct AssessOutcome {
  /// A shard's run: its manifest is in the run directory; there is no plan.
  struct Shard {
    int64_t index = 0, count = 1;
    size_t cuts = 0, candidates = 0;
    double seconds = 0;
  };
  std::optional<Shard> shard;
  std::string plan_json;  ///< the plan (written to plan_out unless "-")
  std::string summary;    ///< the result for a person: cuts, decision, gate
  bool gate_failed = false;
  std::string gate_reason;
  double seconds = 0;                            ///< the assessment's wall time
  std::vector<pipeline::PhaseTime> phase_seconds;  ///< its phases (AssessResult::phase_seconds)
};

/// Runs the request. Every output is checked before the model loads (no hours of training
/// before a refused path) and written atomically. Throws UsageError (a bad request, with the
/// value and what to do), DataError, ModelError, IoError.
AssessOutcome assess(const AssessRequest& request);

/// The request that plans the sharded run in `dir` as one process would, after checking that
/// the shards there make one complete run (store::RunStore::complete_shards): the settings,
/// model and fingerprint the shards recorded; the merge's own passes (baselines, oracle,
/// timing) run on settings "device", by default "auto". `model_path` overrides the recorded
/// model path (its SHA-256 must match). Throws UsageError naming the shard at fault.
AssessRequest merge_request(const std::string& dir, const std::string& model_path = {});

}  // namespace partplan::app
