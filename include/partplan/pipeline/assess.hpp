#pragma once
// The assessment: one shared feature extraction, then per cut the attackers train on
// attacker-train, early-stop on attacker-val, and are scored on eval. Torch-free header.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "partplan/attacks/options.hpp"
#include "partplan/common/image.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/config/settings.hpp"
#include "partplan/data/options.hpp"
#include "partplan/metrics/options.hpp"
#include "partplan/metrics/stats.hpp"
#include "partplan/model/model.hpp"

namespace partplan::pipeline {

/// The model-as-oracle exposure (docs/cost-model.md).
struct OracleOptions {
  int64_t images = 8;         ///< eval images per cut
  int64_t max_channels = 16;  ///< channels tried per cut, evenly spaced
};

template <class V>
void visit(OracleOptions& o, V&& v) {
  v("images", o.images, 1, 4096);
  v("max_channels", o.max_channels, 1, 65536);
}

/// The enclave cost model (docs/cost-model.md) and its budget.
struct CostOptions {
  bool profile = false;              ///< time each candidate split's parts instead of scaling FLOPs
  double tee_slowdown = 4.0;         ///< enclave time / native CPU time: an assumption to calibrate
  double gpu_speedup = 20.0;         ///< this CPU's time / the untrusted accelerator's: an assumption
  double link_mib_per_s = 1000.0;    ///< enclave boundary bandwidth for the cut tensor
  double enclave_memory_mib = 93.0;  ///< enclave budget for weights + activations (SGX1 usable EPC)
  /// The untrusted accelerator runs in confidential-computing mode (H100/H200 CC).
  bool confidential_gpu = false;
  /// A runtime.json from partplan run: its measured times replace the estimates at the split
  /// it served (docs/cost-model.md, "Measured times"); "" = none. Read by the app layer.
  std::string timings;
  /// Not a setting: what the app layer read from `timings`.
  struct Measured {
    std::vector<int> cut_ids;         ///< the split it served: the cut (and a ternary back cut)
    double enclave_native_seconds = 0;  ///< the enclave parts' p50 compute, native CPU
    double untrusted_seconds = 0;       ///< the untrusted part's p50 compute
    bool untrusted_on_cpu = true;       ///< then a CPU assessment divides it by gpu_speedup, as --profile does
    double transfer_seconds = 0;        ///< the boundary hops' p50
  };
  std::optional<Measured> measured;
};

template <class V>
void visit(CostOptions& o, V&& v) {
  v("profile", o.profile);
  v("tee_slowdown", o.tee_slowdown, 1e-3, 1e6);
  v("gpu_speedup", o.gpu_speedup, 1e-3, 1e6);
  v("link_mib_per_s", o.link_mib_per_s, 1e-6, 1e9);
  v("enclave_memory_mib", o.enclave_memory_mib, 0.0, 1e9);
  v("confidential_gpu", o.confidential_gpu);
  v("timings", o.timings);
}

/// Everything an assessment needs. The defaults are the quick preset (configs/quick.json is
/// their copy on disk, checked by a test); visit() names each setting key once.
struct AssessOptions {
  uint64_t seed = 0;                 ///< seeds the data subset and splits, batches, augmentation, attackers
  std::string device = "auto";       ///< "auto", "cpu", "cuda", "cuda:N"; resolved before assess()
  /// On CUDA: deterministic cuDNN and algorithms, no TF32 (model::configure_numerics); off,
  /// cuDNN benchmark mode and TF32 are on. The CPU is deterministic either way.
  bool deterministic = false;
  std::string cuts_spec = "stages";  ///< setting "cuts": stages, blocks, all, or a list (model::select_cuts)
  /// Learned attackers (attacks::attacker_names()), "whitebox" (optimisation through the
  /// front, attacks::whitebox_invert) and "oracle" (a pre-screen when alone).
  std::vector<std::string> attacks{"cgan", "whitebox"};
  /// A cut is safe when its envelope of the headline measure is <= threshold: mean eval SSIM
  /// for images, the re-identification rate for CSV records (docs/metrics.md).
  double threshold = 0.3;
  std::optional<double> fail_above;  ///< CI gate (exit 3)
  /// Let the gate pass a chosen cut whose safety is a lower bound (an attacker was still
  /// improving when its budget ran out). Off: such a plan fails --fail-above.
  bool accept_unconverged = false;
  /// Setting "time_budget" (--time-budget): a wall-clock budget such as "15m" (time_plan.hpp's
  /// parse_duration); "" = none. The run is fitted to it after the calibration.
  std::string time_budget;
  data::DataOptions data;
  attacks::TrainBudget budget;
  attacks::CganOptions cgan;
  attacks::WhiteboxOptions whitebox;
  metrics::RecordOptions records;  ///< CSV records: the field measures' tolerance
  bool ternary = false;            ///< enclave | untrusted | enclave
  std::string back_cut;            ///< id or name; "" = the classifier input (ModelSummary::classifier_input_cut)
  OracleOptions oracle;
  CostOptions cost;
  bool baselines = true;    ///< score the blank, mean-image and label-prototype guesses
  int64_t grid_images = 8;  ///< setting "report.grid_images": eval images per grid
  /// Setting "limits.feature_memory_mib": bound on features held in memory; only the ternary
  /// split's linear probe holds any (the assessment streams).
  int64_t feature_memory_mib = 4096;
  /// `--shard I/N` (not a setting: every shard shares the settings): assess only the candidate
  /// cuts assign_shards() gives shard `shard_index` of `shard_count`.
  int64_t shard_index = 0, shard_count = 1;
};

template <class V>
void visit(AssessOptions& o, V&& v) {
  v("seed", o.seed);
  v("device", o.device);
  v("deterministic", o.deterministic);
  v("cuts", o.cuts_spec);
  v("attacks", o.attacks);
  v("threshold", o.threshold, 0.0, 1.0);
  v("fail_above", o.fail_above, 0.0, 1.0);
  v("accept_unconverged", o.accept_unconverged);
  v("time_budget", o.time_budget);
  visit(o.data, v.sub("data"));
  visit(o.budget, v.sub("budget"));
  visit(o.cgan, v.sub("cgan"));
  visit(o.whitebox, v.sub("whitebox"));
  visit(o.records, v.sub("records"));
  v("ternary", o.ternary);
  v("back_cut", o.back_cut);
  visit(o.oracle, v.sub("oracle"));
  visit(o.cost, v.sub("cost"));
  v("baselines", o.baselines);
  v.sub("report")("grid_images", o.grid_images, 0, 64);
  v.sub("limits")("feature_memory_mib", o.feature_memory_mib, 1, int64_t{1} << 30);
}

/// The default settings: AssessOptions{} written as a settings tree.
config::Settings default_settings();

/// Read AssessOptions from settings (docs/config.md). Throws UsageError naming the key.
AssessOptions options_from_settings(const config::Settings& s);

/// The batch size an assessment uses: budget.batch_size, or when that is 0 one chosen by the
/// image size (32 up to 64x64 pixels, then shrinking with the pixel count to 8 at 224x224).
int64_t effective_batch_size(const attacks::TrainBudget& budget, const common::Shape& image_shape);

/// The white-box images per cut: whitebox.images, or when that is 0 one chosen by the image
/// size (64 up to 64x64 pixels, then shrinking with the pixel count to 16 at 224x224).
int64_t effective_whitebox_images(const attacks::WhiteboxOptions& whitebox, const common::Shape& image_shape);

/// Rough training cost of a cut, FLOPs per sample and step, for balancing shards: the front's
/// forward plus, per attacker, three times (forward and backward) the generator's projection
/// of the cut tensor (2 x its elements x cgan.width) and its full-resolution layers (two 3x3
/// convolutions at cgan.min_width channels over the image). Only ratios matter.
double estimated_cut_cost(const model::CutPoint& cut, const common::Shape& image_shape,
                          const attacks::CganOptions& cgan);

/// Longest-processing-time-first assignment: the costliest unassigned cut goes to the shard
/// with the least cost so far (ties: the lowest index). Deterministic; returns each cut's
/// shard. Throws UsageError when count < 1.
std::vector<int64_t> assign_shards(const std::vector<double>& costs, int64_t count);

/// The headline measures, as plan.json's `measure` spells them.
inline constexpr const char* kMeasureSsim = "ssim";
inline constexpr const char* kMeasureReidentification = "reidentification";
/// How sentences name a measure: "SSIM" or "re-identification".
inline std::string measure_label(const std::string& measure) {
  return measure == kMeasureReidentification ? "re-identification" : "SSIM";
}

/// One attacker's scores at one cut, on the eval split: SSIM/PSNR in [0,1] pixel space for
/// images, the record measures for CSV records.
struct AttackScore {
  std::string attack;
  metrics::MeanCi ssim;                          ///< images (n = 0 for records)
  metrics::MeanCi psnr_db;                       ///< images
  int64_t psnr_capped = 0;                       ///< eval pairs whose PSNR hit the cap
  std::optional<metrics::RecordScores> records;  ///< CSV records
  /// The headline measure: SSIM, or the re-identification rate for records.
  const metrics::MeanCi& headline() const { return records ? records->reidentification : ssim; }
  attacks::TrainStats train;
  int64_t images = 0;  ///< eval images it was scored on (all of eval, or whitebox.images)
  /// Semantic leakage (classifiers only): how often model(reconstruction) has the same top-1
  /// class as model(original), and the mean KL(p_original || p_reconstruction).
  std::optional<double> top1_agreement;
  std::optional<double> kl;
};

/// The model-as-oracle exposure of a cut (Gu et al.'s Model Assessment Framework): each
/// channel, resized to the input and scaled to [0,1], is fed to the model; the KL between
/// that prediction and the one on the real input is low for input-like channels.
struct OracleScore {
  bool available = false;  ///< false for flat cuts and non-classifiers (see note)
  double kl_min = 0;       ///< min over the channels tried of the mean KL over images
  int64_t channel = -1;    ///< the most input-like channel
  int64_t channels_tested = 0;
  std::string note;
};

/// What a split at this cut costs, per inference at batch 1 (docs/cost-model.md).
struct CutCost {
  double enclave_flops = 0;  ///< front (+ back for a ternary split)
  double enclave_param_bytes = 0;
  double enclave_peak_activation_bytes = 0;
  double enclave_bytes = 0;    ///< weights + peak activations: the enclave's working set
  double boundary_bytes = 0;   ///< tensors crossing the boundary per inference
  double enclave_seconds = 0;  ///< x tee_slowdown
  double untrusted_seconds = 0;
  double transfer_seconds = 0;
  bool profiled = false;  ///< times measured per part (--profile), else scaled from FLOPs
  bool from_runtime = false;  ///< times taken from partplan run's runtime.json (cost.timings)
};

/// What the cost model needs besides the cut (docs/cost-model.md).
struct CostInputs {
  double total_flops = 0;  ///< whole model, per sample
  int64_t total_param_bytes = 0;
  int64_t output_bytes = 0;                 ///< model output per sample
  double whole_model_seconds = 0;           ///< measured native CPU time of the whole model at batch 1
  /// Measured time of the whole model on the untrusted device at batch 1; 0 = none measured:
  /// the untrusted part is then whole_model_seconds' share over cost.gpu_speedup.
  double untrusted_whole_model_seconds = 0;
  std::optional<model::CutPoint> back_cut;  ///< ternary split: where the enclave takes over again
  CostOptions options;
};

/// The cost of a split at `cut`, scaled from FLOPs: the enclave runs the front (and, in a
/// ternary split, the back) at tee_slowdown x the native CPU rate total_flops /
/// whole_model_seconds; the untrusted part runs the rest at the measured GPU rate total_flops /
/// untrusted_whole_model_seconds when there is one, else gpu_speedup x faster than the CPU;
/// the boundary tensors cross the link. Pure: same inputs, same result. profiled is false.
CutCost estimate_cost(const model::CutPoint& cut, const CostInputs& inputs);

struct CutAssessment {
  model::CutPoint cut;
  std::vector<AttackScore> scores;
  std::string worst_attack;  ///< the attacker with the highest headline mean ("" when none ran)
  double leak = 0;           ///< that mean (SSIM or re-identification); -1 when no attacker ran (pre-screen)
  metrics::MeanCi leak_ci;
  common::Image8 reconstructions;  ///< first grid_images eval reconstructions of the strongest trained attacker
  OracleScore oracle;
  CutCost cost;
  std::optional<double> probe_accuracy;  ///< ternary: linear-probe top-1 on the model's own labels
  bool resumed = false;                  ///< taken from an earlier run's --run-dir
  std::vector<std::string> notes;        ///< what was not measured here and why (a skipped attacker)
};

/// Guesses that need no feature: what a number must beat to mean something.
struct Baseline {
  std::string name;  ///< "blank", "mean-image", "label-prototype"; records: "mean-record", "label-prototype"
  metrics::MeanCi ssim;
  metrics::MeanCi psnr_db;
  std::string note;
  std::optional<metrics::RecordScores> records;  ///< CSV records
  const metrics::MeanCi& headline() const { return records ? records->reidentification : ssim; }
};

/// The assessment's phases, in the order they run (docs/cli.md describes each). The
/// reference pass over eval reports no progress of its own. "calibrate" times one training
/// step and one white-box iteration per cut, for the ETA and --time-budget (time_plan.hpp).
enum class Phase { kData, kCalibrate, kStats, kOracle, kTrain, kScore, kWhitebox, kProbe, kCost };

/// The phase as the progress line and the docs spell it: "data", "calibrate", "stats",
/// "oracle", "train", "score", "whitebox", "probe", "cost".
const char* to_string(Phase phase);
inline constexpr int kPhaseCount = 9;

/// Wall seconds one phase took, exclusive of the phases run inside it (scoring inside the
/// training loop, the white-box attacker inside scoring). The reference pass over eval (the
/// baselines and the model's predictions) counts as "score".
struct PhaseTime {
  Phase phase = Phase::kData;
  double seconds = 0;
};

/// What --time-budget did (time_plan.hpp), for the plan (docs/plan-json.md "time").
struct TimeBudgetReport {
  double budget_seconds = 0;
  double calibration_seconds = 0;
  double estimated_seconds = 0;  ///< the run as asked for, after the calibration
  double planned_seconds = 0;    ///< the run as fitted
  bool fits = true;
  int64_t steps_requested = 0, steps = 0;
  int64_t whitebox_images_requested = 0, whitebox_images = 0;
  int64_t whitebox_iterations_requested = 0, whitebox_iterations = 0;
  std::vector<std::string> reductions;
};

struct AssessResult {
  std::string device;
  /// The headline measure every leak, envelope and threshold is in: "ssim" for images,
  /// "reidentification" for CSV records.
  std::string measure = kMeasureSsim;
  bool records() const { return measure == kMeasureReidentification; }
  std::vector<data::ColumnEncoding> record_columns;  ///< CSV records: how each column was encoded
  std::vector<std::string> data_notes;               ///< what loading noted (constant columns, NaN cells, ...)
  /// Every candidate cut of the assessment (a shard assesses the subset in `cuts`).
  std::vector<model::CutPoint> candidate_cuts;
  std::string data_description;
  int64_t data_size = 0;
  int64_t n_train = 0, n_val = 0, n_eval = 0;
  int64_t batch_size = 0;           ///< attacker training batch (budget.batch_size or chosen by image size)
  bool augmented = false;           ///< attacker-train batches were randomly cropped and flipped
  std::vector<CutAssessment> cuts;  ///< depth order
  std::vector<Baseline> baselines;
  std::optional<double> label_floor;  ///< the label-prototype's headline mean, when the model is a classifier
  common::Image8 eval_originals;      ///< the first grid_images eval images
  double seconds = 0;
  /// Each phase that ran, in Phase order; they add up to `seconds` less the set-up (context,
  /// cut selection), a fraction of a second.
  std::vector<PhaseTime> phase_seconds;
  /// The whole run's seconds as estimated right after the calibration (time_plan.hpp), as
  /// fitted to the time budget when there is one; -1 when nothing was calibrated (nothing to
  /// train, or a pre-screen).
  double estimated_seconds = -1;
  std::optional<TimeBudgetReport> time_budget;  ///< --time-budget: what it fitted and reduced
  std::optional<double> oracle_reference_kl;  ///< mean KL(p || uniform): what a channel with no information scores
  /// Measured native time of the whole model, batch 1, on timed_on: always the CPU, since the
  /// enclave is a CPU (docs/cost-model.md), whatever device trained the attackers.
  double whole_model_seconds = 0;
  std::string timed_on;  ///< device of whole_model_seconds and of every enclave time: "cpu"
  /// Device the untrusted part was timed on: the run's GPU ("cuda:0") when it has one, then
  /// untrusted_whole_model_seconds is measured there and gpu_speedup is not applied; else
  /// "cpu", and the untrusted time is the CPU time over cost.gpu_speedup.
  std::string untrusted_timed_on;
  double untrusted_whole_model_seconds = 0;
  bool gpu_speedup_applied = true;
  double all_enclave_seconds = 0;             ///< tee_slowdown x the whole model's native time
  bool ternary = false;
  std::optional<model::CutPoint> back_cut;
  std::optional<double> back_probe_accuracy;  ///< linear probe at the back cut
  std::optional<double> probe_chance;         ///< frequency of the most common predicted class on eval
  bool trained = true;                        ///< false for an oracle-only pre-screen (--attack oracle)
  /// Host synchronisations counted in the training steps on a GPU, outside checks and scoring
  /// (model::SyncCounter): 0 is the design; -1 = not counted (CPU, or no training).
  int64_t train_step_syncs = -1;
};


/// Progress of the whole run, for the CLI's progress line. Built by name:
/// `Progress::of(Phase::kStats).with_steps(done, total)`.
struct Progress {
  Phase phase = Phase::kData;
  int cut_index = 0, cut_count = 0;  ///< train: cuts still training, of all
  std::string cut_name;
  int64_t step = 0, steps = 0;
  double steps_per_second = 0;
  double best_val = -1;     ///< train: the best attacker-val score of an active attacker; -1 none yet
  const char* val_label = "SSIM";  ///< what best_val is: "SSIM", or "closeness" for records
  double eta_seconds = -1;  ///< the whole run's seconds left (time_plan.hpp); -1 unknown
  double elapsed_seconds = -1;  ///< since the assessment began; -1 unknown

  static Progress of(Phase p) {
    Progress x;
    x.phase = p;
    return x;
  }
  Progress& with_cuts(int index, int count, std::string name = {}) {
    cut_index = index;
    cut_count = count;
    cut_name = std::move(name);
    return *this;
  }
  Progress& with_steps(int64_t done, int64_t total) {
    step = done;
    steps = total;
    return *this;
  }
  Progress& with_training(double rate, double best, const char* label) {
    steps_per_second = rate;
    best_val = best;
    val_label = label;
    return *this;
  }
};
using ProgressFn = std::function<void(const Progress&)>;

/// Optional hooks for keeping per-cut results across runs (--run-dir / --resume).
struct CutStore {
  /// A finished result for this cut from an earlier run, or nullopt to compute it.
  std::function<std::optional<CutAssessment>(const model::CutPoint&)> load;
  /// Called once per computed cut, right after it finishes.
  std::function<void(const CutAssessment&)> save;
};

/// Run the assessment on `model` (loaded on options.device, which must be resolved). It
/// streams: each training step draws one batch, runs the frozen model once for every cut still
/// training, and steps each of their attackers; nothing is kept per sample, so memory grows
/// with the batch, the cuts and the attackers' weights, not with the data set. A cut whose
/// attackers all stopped is scored on eval at once and handed to store.save. Throws
/// UsageError, DataError, ModelError.
AssessResult assess(const model::Model& model, const AssessOptions& options, const ProgressFn& progress,
                    const CutStore& store = {});

}  // namespace partplan::pipeline
