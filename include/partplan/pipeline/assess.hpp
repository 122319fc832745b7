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
};

struct CutAssessment {
  model::CutPoint cut;
  std::vector<AttackScore> scores;
  std::string worst_attack;          ///< highest mean SSIM: an attacker, or "label-prototype" (see leak_ssim)
  double leak_ssim = 0;              ///< max over attackers and the label-prototype guess of mean eval SSIM
  metrics::MeanCi leak_ci;
  common::Image8 reconstructions;    ///< first grid_images eval reconstructions of the strongest trained attacker
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
};

/// Progress of the whole run, for the CLI's progress line.
struct Progress {
  std::string phase;                 ///< "data", "features", "train", "eval", "baselines"
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
