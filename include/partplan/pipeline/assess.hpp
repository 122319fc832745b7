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
#include "partplan/metrics/stats.hpp"
#include "partplan/model/model.hpp"

namespace partplan::pipeline {

/// Everything an assessment needs, resolved from the layered settings.
struct AssessOptions {
  std::string data_source;
  int64_t attacker_train = 0, attacker_val = 0, eval = 0;
  double pixel_min = 0, pixel_max = 1;
  std::vector<double> mean, std;     ///< empty = the defaults for the model's channel count
  std::string cuts_spec = "blocks";
  std::vector<std::string> attacks{"cgan"};
  std::string device = "cpu";        ///< resolved ("cpu", "cuda:0")
  uint64_t seed = 0;
  attacks::CganOptions cgan;
  attacks::TrainBudget budget;
  bool baselines = true;
  int64_t grid_images = 8;
  int64_t feature_memory_mib = 4096;
  // Ternary split (enclave | untrusted | enclave).
  bool ternary = false;
  std::string back_cut;              ///< id or name; "" = the classifier input (ModelSummary::classifier_input_cut)
  // Oracle exposure (model-as-oracle pre-screen).
  int64_t oracle_images = 8;         ///< eval images per cut
  int64_t oracle_max_channels = 16;  ///< channels tried per cut, evenly spaced
  // Cost model (docs/cost-model.md).
  bool profile = false;              ///< time each candidate split's parts instead of scaling FLOPs
  double tee_slowdown = 4.0;         ///< enclave time / native CPU time: an assumption to calibrate
  double gpu_speedup = 20.0;         ///< this CPU's time / the untrusted accelerator's: an assumption
  double link_mib_per_s = 1000.0;    ///< enclave boundary bandwidth for the cut tensor
};

/// Read AssessOptions from settings (docs/config.md). Throws UsageError naming the key.
AssessOptions options_from_settings(const config::Settings& s);

/// One attacker's scores at one cut, on the eval split, in [0,1] pixel space.
struct AttackScore {
  std::string attack;
  metrics::MeanCi ssim;
  metrics::MeanCi psnr_db;
  int64_t psnr_capped = 0;           ///< eval pairs whose PSNR hit the cap
  attacks::TrainStats train;
  /// Semantic leakage (classifiers only, else -1): how often model(reconstruction) has the
  /// same top-1 class as model(original), and the mean KL(p_original || p_reconstruction).
  double top1_agreement = -1;
  double kl = -1;
};

/// The model-as-oracle exposure of a cut (Gu et al.'s Model Assessment Framework): each
/// channel, resized to the input and scaled to [0,1], is fed to the model; the KL between
/// that prediction and the one on the real input is low for input-like channels.
struct OracleScore {
  bool available = false;            ///< false for flat cuts and non-classifiers (see note)
  double kl_min = 0;                 ///< min over the channels tried of the mean KL over images
  int64_t channel = -1;              ///< the most input-like channel
  int64_t channels_tested = 0;
  std::string note;
};

/// What a split at this cut costs, per inference at batch 1 (docs/cost-model.md).
struct CutCost {
  double enclave_flops = 0;          ///< front (+ back for a ternary split)
  double enclave_param_bytes = 0;
  double enclave_peak_activation_bytes = 0;
  double enclave_bytes = 0;          ///< weights + peak activations: the enclave's working set
  double boundary_bytes = 0;         ///< tensors crossing the boundary per inference
  double enclave_seconds = 0;        ///< x tee_slowdown
  double untrusted_seconds = 0;
  double transfer_seconds = 0;
  bool profiled = false;             ///< times measured per part (--profile), else scaled from FLOPs
};

struct CutAssessment {
  model::CutPoint cut;
  std::vector<AttackScore> scores;
  std::string worst_attack;          ///< the trained attacker with the highest mean SSIM ("" when none ran)
  double leak_ssim = 0;              ///< its mean eval SSIM; -1 when no attacker ran (pre-screen)
  metrics::MeanCi leak_ci;
  common::Image8 reconstructions;    ///< first grid_images eval reconstructions of the strongest trained attacker
  OracleScore oracle;
  CutCost cost;
  double probe_accuracy = -1;        ///< ternary: linear-probe top-1 on the model's own labels, else -1
  bool resumed = false;              ///< taken from an earlier run's --run-dir
};

/// Guesses that need no feature: what a number must beat to mean something.
struct Baseline {
  std::string name;                  ///< "blank", "mean-image", "label-prototype"
  metrics::MeanCi ssim;
  metrics::MeanCi psnr_db;
  std::string note;
};

struct AssessResult {
  std::string device;
  std::string data_description;
  int64_t data_size = 0;
  int64_t n_train = 0, n_val = 0, n_eval = 0;
  std::vector<CutAssessment> cuts;   ///< depth order
  std::vector<Baseline> baselines;
  std::optional<double> label_floor_ssim;  ///< the label-prototype SSIM, when the model is a classifier
  common::Image8 eval_originals;     ///< the first grid_images eval images
  double seconds = 0;
  double oracle_reference_kl = -1;   ///< mean KL(p || uniform): what a channel with no information scores
  double whole_model_seconds = 0;    ///< measured native time of the whole model, batch 1, on timed_on
  std::string timed_on;              ///< device the times were measured on
  double all_enclave_seconds = 0;    ///< tee_slowdown x the whole model's native time
  bool ternary = false;
  std::optional<model::CutPoint> back_cut;
  double back_probe_accuracy = -1;   ///< linear probe at the back cut
  double probe_chance = -1;          ///< frequency of the most common predicted class on eval
  bool trained = true;               ///< false for an oracle-only pre-screen (--attack oracle)
};

/// Progress of the whole run, for the CLI's progress line.
struct Progress {
  std::string phase;                 ///< "data", "features", "oracle", "train", "probe", "cost"
  int cut_index = 0, cut_count = 0;
  std::string cut_name;
  int64_t step = 0, steps = 0;
  double steps_per_second = 0;
  double val_ssim = -1;
  double eta_seconds = -1;           ///< whole run; -1 unknown
};
using ProgressFn = std::function<void(const Progress&)>;

/// Optional hooks for keeping per-cut results across runs (--run-dir / --resume).
struct CutStore {
  /// A finished result for this cut from an earlier run, or nullopt to compute it.
  std::function<std::optional<CutAssessment>(const model::CutPoint&)> load;
  /// Called once per computed cut, right after it finishes.
  std::function<void(const CutAssessment&)> save;
};

/// Run the assessment on `model` (loaded on options.device). Throws UsageError, DataError,
/// ModelError; a memory bound that the selected cuts' features exceed is a UsageError that
/// says how many samples would fit.
AssessResult assess(const model::Model& model, const AssessOptions& options, const ProgressFn& progress,
                    const CutStore& store = {});

}  // namespace partplan::pipeline
