#pragma once
// Honest time (docs/cli.md, "Time"): what each phase of an assessment will cost, estimated
// from the work it has to do (cuts, images, steps) and the rates the calibration measured;
// the whole-run ETA, corrected from each phase's own progress; and the --time-budget
// arithmetic that shrinks the work to fit. Torch-free and pure: the tests give known answers.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "partplan/pipeline/assess.hpp"

namespace partplan::pipeline {

/// Seconds per phase, indexed by Phase.
using PhaseSeconds = std::array<double, kPhaseCount>;

/// What the calibration measured at one cut to train, in seconds on the run's device.
struct CutRates {
  double front_fraction = 1;  ///< the front's share of the model's FLOPs (the forward stops at the deepest cut)
  double step = 0;            ///< one training step of all this cut's learned attackers, at the training batch
  double reconstruct = 0;     ///< all its learned attackers reconstructing one sample
  int64_t attackers = 0;      ///< learned attackers here
  double whitebox = 0;        ///< one white-box iteration of one image from one start
  int64_t whitebox_starts = 0;  ///< starts per image (2 beside a learned attacker, 1 alone); 0: skipped here
};

/// The work an assessment will do, and the calibration's rates. Every count is what the run
/// asks for (before a time budget reduces it).
struct Workload {
  double forward = 0;  ///< the model's forward per image (to every cut and its output), seconds
  int64_t batch = 1;   ///< the training batch
  int64_t n_train = 0, n_val = 0, n_eval = 0;
  bool classifier = false;      ///< reconstructions are also run through the model (semantic leakage)
  int64_t oracle_images = 0;    ///< images through the model in the oracle phase, over all cuts
  int64_t probe_images = 0;     ///< images through the model in the ternary probe (0: no probe)
  int64_t cost_runs = 0;        ///< whole-model runs at batch 1 in the cost phase
  int64_t steps = 0;            ///< training steps per cut
  int64_t eval_every = 1;       ///< steps between attacker-val checks
  int64_t whitebox_images = 0;  ///< per cut (at most n_eval)
  int64_t whitebox_iterations = 0;
  std::vector<CutRates> cuts;  ///< the cuts to train, depth order
};

/// Each phase's estimated seconds for `w` (data and the calibration: 0, they are behind).
///   stats     n_train * forward
///   score     n_eval * forward (the reference pass) + n_eval * (forward * f + sum reconstruct)
///             + n_eval * attackers * forward (classifiers: the reconstructions through the model)
///   oracle    oracle_images * forward
///   train     steps * (batch * forward * f + sum step) + checks * n_val * (forward * f + sum reconstruct),
///             checks = ceil(steps / eval_every), f = the deepest cut's front_fraction
///   whitebox  sum over cuts of images * starts * iterations * whitebox
///   probe     probe_images * forward;  cost  cost_runs * forward
PhaseSeconds estimate_phases(const Workload& w);

/// The white-box seconds at one cut of `w`: images (at most n_eval) * starts * iterations * rate.
double whitebox_seconds(const Workload& w, const CutRates& cut);

/// The sum of a PhaseSeconds.
double total_seconds(const PhaseSeconds& s);

/// Parse a duration: "90s", "15m", "1h30m", "2h", or plain seconds ("900", "12.5").
/// Throws UsageError naming the text and the accepted forms.
double parse_duration(const std::string& text);

/// What a time budget kept and what it reduced.
struct BudgetFit {
  int64_t steps = 0;
  int64_t whitebox_images = 0;
  int64_t whitebox_iterations = 0;
  double estimated_seconds = 0;  ///< the run as fitted: spent + the phases still to come
  bool fits = true;              ///< false: even the floors exceed the budget (the run goes on at the floors)
  std::vector<std::string> reductions;  ///< one sentence each, in the order applied ("white-box images 64 -> 16")
};

/// Share of the budget the fitted run plans to use: the rest absorbs estimation error.
inline constexpr double kBudgetPlanShare = 0.9;
/// Floors of a reduction: at least one attacker-val check of training, one batch of
/// white-box images, and this many white-box iterations.
inline constexpr int64_t kMinWhiteboxIterations = 50;

/// Fit `w` into `budget_seconds` of which `spent_seconds` are gone (data, calibration), planning
/// to end by kBudgetPlanShare of it. In order, until the estimate fits: fewer white-box images
/// (down to min(images, batch)), fewer training steps (down to min(steps, eval_every)), fewer
/// white-box iterations (down to min(iterations, kMinWhiteboxIterations)). Each is the largest
/// value that fits. Nothing is reduced when the estimate already fits.
BudgetFit fit_budget(const Workload& w, double budget_seconds, double spent_seconds);

/// Steps a training run may have in total so that it ends within `seconds_left` at
/// `seconds_per_step`, having run `step` of its `limit`: between max(step, floor) and limit.
int64_t steps_within(double seconds_left, double seconds_per_step, int64_t step, int64_t limit, int64_t floor);

/// The whole-run ETA: each phase's estimate, split into items (cuts, or one item), and how
/// far each item is. A running phase's remainder is its estimate of the work left times its
/// measured/estimated ratio so far, shrunk towards 1 while little is done:
///   ratio = (spent + c) / (done + c),  c = kEtaPrior * the phase's estimate,
/// where done is the estimated seconds of the work done. A finished phase has none left.
class EtaModel {
 public:
  static constexpr double kEtaPrior = 0.1;

  /// Phase p's work: the estimated seconds of each item. Replaces an earlier plan (items done
  /// keep their progress where they still exist).
  void plan(Phase p, std::vector<double> item_seconds);
  /// Item `item` of phase p is `fraction` (0..1) done. An unknown item is ignored.
  void progress(Phase p, size_t item, double fraction);
  void finish(Phase p);
  bool planned() const { return planned_; }
  /// The estimated seconds of phase p as planned.
  double estimate(Phase p) const;
  /// Seconds left in phase p, `spent` seconds in so far.
  double remaining(Phase p, double spent) const;
  /// Seconds left in the run, given each phase's seconds so far; -1 before any plan.
  double eta(const PhaseSeconds& spent) const;

 private:
  struct Work {
    std::vector<double> items, done;  ///< estimated seconds, fraction done
    bool finished = false;
  };
  std::array<Work, kPhaseCount> work_{};
  bool planned_ = false;
};


}  // namespace partplan::pipeline
