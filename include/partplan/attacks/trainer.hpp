#pragma once
// Driving attackers: the early-stopping rule shared by the streaming assessment and the
// in-memory trainer, and feature statistics. To change when training stops, change
// TrainTracker: every caller follows it.

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "partplan/attacks/attacker.hpp"

namespace partplan::attacks {

/// Reported while training, after every check and every ~2 s.
struct TrainProgress {
  int64_t step = 0;
  int64_t total_steps = 0;
  double steps_per_second = 0;
  double val_score = -1;  ///< latest attacker-val score (metrics::similarity); -1 before the first check
};

/// Counts steps and attacker-val checks, and decides when an attacker stops: after
/// budget.steps, or after budget.patience checks in a row without a gain of min_delta over the
/// best attacker-val SSIM. The best weights are kept on any gain. Torch-free; not thread-safe.
class TrainTracker {
 public:
  explicit TrainTracker(const TrainBudget& budget);
  /// Record one step and its batch L1.
  void on_step(double l1) {
    on_step();
    add_l1(l1);
  }
  /// Record one step whose batch L1 comes later (add_l1): the streaming assessment reads the
  /// losses of many steps at once, at its checks, so that a step never waits for the device.
  void on_step();
  /// Record the batch L1 of the earliest step not yet given one (steps in order).
  void add_l1(double l1);
  /// Whether an attacker-val check is due after the latest step (every eval_every steps, and
  /// at the last step of the budget).
  bool check_due() const;
  /// Record the attacker-val score (metrics::similarity: SSIM, or record closeness) of a due check. Returns true when it is the best so far:
  /// the caller then keeps the weights (Attacker::keep_best).
  bool on_check(double val_score);
  /// Lower the step budget to `steps` (the time budget, pipeline/time_plan.hpp); never below
  /// the steps run nor raised. Once it binds and the attacker has not stopped early, stats()
  /// says cut_short. An attacker at or past the new limit whose check at this step is done
  /// (or not due) is done.
  void limit_steps(int64_t steps);
  /// True once the budget is spent or patience ran out.
  bool done() const { return done_; }
  int64_t steps() const { return stats_.steps_run; }
  double latest_val() const { return stats_.val_curve.empty() ? -1 : stats_.val_curve.back().second; }
  /// The statistics so far, with `seconds` of training time.
  TrainStats stats(double seconds) const;

 private:
  TrainBudget budget_;
  TrainStats stats_;
  std::vector<double> first_l1_;
  std::deque<double> recent_l1_;
  int64_t since_best_ = 0;
  int64_t requested_steps_ = 0;  ///< budget.steps before any limit_steps
  bool done_ = false;
};

/// Fill stats.still_improving and stats.val_slope from stats.val_curve and early_stopped
/// (TrainStats documents the rule). Pure.
void judge_convergence(TrainStats& stats, double min_delta);

/// Accumulates FeatureStats over batches of a cut tensor [B, D1, ...] in double precision.
class FeatureStatsAccumulator {
 public:
  void add(const at::Tensor& features);
  /// Throws DataError when nothing was added.
  FeatureStats result() const;
  int64_t samples() const { return samples_; }

 private:
  at::Tensor sum_, sum_sq_;  ///< [D1] float64, on the features' device
  double count_per_index_ = 0;
  int64_t samples_ = 0;
};

/// FeatureStats of features [N, D1, ...] in one go (the accumulator over one batch).
FeatureStats feature_stats(const at::Tensor& features);

/// Accumulates the normal equations of the linear inverse (LinearInverse) over batches of
/// (cut tensor, image) pairs, in float64, and solves them (ridge) in the coordinates of the
/// standardised features. Pixel values are fitted as they are; an image whose size is not s
/// times the feature map's is area-resized to it first. Each batch contributes at most
/// kRowsPerBatch positions (a random sample seeded by the batch count), which bounds the cost
/// at kRowsPerBatch x (C*k*k)^2 per batch; the sample is taken on the tensors' device, and
/// the sums stay there until result() takes them to the CPU once. Borders are padded by
/// replication, as in the generator's skip.
class LinearInverseAccumulator {
 public:
  /// feature_shape per sample; for a non-spatial one (scale 0) add() and result() do nothing.
  LinearInverseAccumulator(const std::vector<int64_t>& feature_shape, const std::vector<int64_t>& image_shape);
  /// features [B, C, h, w], images [B, Ci, H, W] in [0,1], any device. Throws DataError on a
  /// shape mismatch.
  void add(const at::Tensor& features, const at::Tensor& images);
  /// The solution for features standardised with `stats` (empty when the scale is 0 or
  /// nothing was added).
  LinearInverse result(const FeatureStats& stats) const;
  /// Ridge strength relative to the mean feature variance.
  static constexpr double kRidge = 1e-3;
  static constexpr int64_t kRowsPerBatch = 4096;

 private:
  std::vector<int64_t> feature_shape_;
  int64_t scale_ = 0, kernel_ = 0, batches_ = 0;
  at::Tensor xtx_, xty_, sx_, sy_, syy_;  ///< float64, on the features' device
  double rows_ = 0;
};

/// (feature, image) pairs held in memory, on the attacker's device.
struct PairSet {
  at::Tensor features;  ///< [N, feature_shape...] float32 (the cut tensor)
  at::Tensor images;    ///< [N, C, H, W] float32 in [0,1], or records [N, F]
};

/// Train `attacker` on `train` in seeded random batches, check on the SSIM of `val` as
/// TrainTracker says, and restore the best weights. For small sets held in memory (tests,
/// tools); the assessment streams instead. Throws DataError on empty sets or count mismatch.
TrainStats train_on_pairs(Attacker& attacker, const PairSet& train, const PairSet& val, const TrainBudget& budget,
                          uint64_t seed, const std::function<void(const TrainProgress&)>& progress = nullptr);

/// Mean SSIM of the attacker's reconstructions of `pairs`, in batches of 256; for records
/// ([N,F] targets) the mean metrics::record_closeness.
double mean_ssim(Attacker& attacker, const PairSet& pairs);

}  // namespace partplan::attacks
