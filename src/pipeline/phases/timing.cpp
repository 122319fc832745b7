// The run's time model once calibrated (time_plan.hpp): the workload, the ETA's plan of every
// phase to come, and the --time-budget fit.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "partplan/common/log.hpp"
#include "partplan/common/strings.hpp"
#include "src/pipeline/phases/phases.hpp"

namespace partplan::pipeline::phases {
namespace {

/// Channels the oracle tries at a cut (exposure.cpp): spatial cuts only.
int64_t oracle_channels(const model::CutPoint& cut, int64_t max_channels) {
  if (cut.shape.size() != 4) return 0;
  return std::min<int64_t>(cut.shape[1], std::max<int64_t>(1, max_channels));
}

}  // namespace

Workload workload_of(const Samples& s, const CutSelection& sel, const AttackPlan& attacks, const Calibration& cal) {
  const auto& o = s.ctx.options;
  const auto& d = s.data;
  Workload w;
  w.forward = cal.forward;
  w.batch = d.batch;
  w.n_train = d.n_train();
  w.n_val = d.n_val();
  w.n_eval = d.n_eval();
  w.classifier = d.classifier;
  if (!s.modality().no_oracle()) {
    const int64_t images = std::min<int64_t>(o.oracle.images, d.n_eval());
    for (const auto& cut : sel.cuts) w.oracle_images += images * oracle_channels(cut, o.oracle.max_channels);
  }
  if (o.ternary && d.classifier) w.probe_images = d.n_train() + d.n_eval();
  // partition::time_parts: 3 untimed runs and 9 timed per part, at batch 1.
  w.cost_runs = 12 * (o.cost.profile ? 1 + 2 * static_cast<int64_t>(sel.cuts.size()) : 1);
  w.steps = o.budget.steps;
  w.eval_every = o.budget.eval_every;
  w.whitebox_images = attacks.whitebox ? effective_whitebox_images(o.whitebox, s.modality().target_shape()) : 0;
  w.whitebox_iterations = o.whitebox.iterations;
  w.cuts = cal.cuts;
  return w;
}

void plan_eta(const CutSelection& sel, const std::vector<size_t>& to_train, const Workload& w, EtaModel& eta) {
  const auto est = estimate_phases(w);
  const auto of = [&est](Phase p) { return est[static_cast<size_t>(p)]; };
  const size_t n = sel.cuts.size();
  eta.finish(Phase::kData);
  eta.finish(Phase::kCalibrate);
  eta.plan(Phase::kStats, {of(Phase::kStats)});
  // Score: item 0 the reference pass over eval, then cut i as item 1 + i.
  const double reference = static_cast<double>(w.n_eval) * w.forward;
  std::vector<double> score(1 + n, 0.0);
  score[0] = reference;
  std::vector<double> oracle(n, 0.0), whitebox(n, 0.0);
  double oracle_units = 0;
  for (const auto& cut : sel.cuts) oracle_units += cut.shape.size() == 4 ? 1.0 : 0.0;
  for (size_t i = 0; i < n; ++i)
    oracle[i] = sel.cuts[i].shape.size() == 4 && oracle_units > 0 ? of(Phase::kOracle) / oracle_units : 0.0;
  for (size_t k = 0; k < to_train.size() && k < w.cuts.size(); ++k) {
    score[1 + to_train[k]] = (of(Phase::kScore) - reference) / static_cast<double>(to_train.size());
    whitebox[to_train[k]] = whitebox_seconds(w, w.cuts[k]);
  }
  eta.plan(Phase::kScore, score);
  eta.plan(Phase::kOracle, oracle);
  eta.plan(Phase::kTrain, {of(Phase::kTrain)});
  eta.plan(Phase::kWhitebox, whitebox);
  eta.plan(Phase::kProbe, {of(Phase::kProbe)});
  eta.plan(Phase::kCost, {of(Phase::kCost)});
}

Workload fit_to_budget(const Context& ctx, AssessOptions& o, RunTime& rt, Workload w, double spent) {
  const double budget = *rt.budget_seconds;
  const double asked = spent + total_seconds(estimate_phases(w));
  const BudgetFit fit = fit_budget(w, budget, spent);
  TimeBudgetReport rep;
  rep.budget_seconds = budget;
  rep.calibration_seconds = ctx.clock ? ctx.clock->live()[static_cast<size_t>(Phase::kCalibrate)] : 0.0;
  rep.estimated_seconds = asked;
  rep.planned_seconds = fit.estimated_seconds;
  rep.fits = fit.fits;
  rep.steps_requested = w.steps;
  rep.steps = fit.steps;
  rep.whitebox_images_requested = w.whitebox_images;
  rep.whitebox_images = fit.whitebox_images;
  rep.whitebox_iterations_requested = w.whitebox_iterations;
  rep.whitebox_iterations = fit.whitebox_iterations;
  rep.reductions = fit.reductions;
  if (fit.reductions.empty())
    log::info("time budget {}: the run is estimated at {} after calibration; nothing reduced", common::format_duration(budget),
              common::format_duration(asked));
  else
    log::info("time budget {}: the run as asked is estimated at {}; to end by {:.0f}% of the budget: {} "
              "(estimated {}; a cut-short attacker's verdict is a lower bound)",
              common::format_duration(budget), common::format_duration(asked), 100 * kBudgetPlanShare, fmt::join(fit.reductions, "; "),
              common::format_duration(fit.estimated_seconds));
  if (!fit.fits)
    log::warn("time budget {} is below what this run needs at its floors (estimated {}): it goes on at the floors; "
              "raise --time-budget, or assess fewer cuts (--cuts) or less data",
              common::format_duration(budget), common::format_duration(fit.estimated_seconds));
  rt.step_limit = fit.steps;
  o.whitebox.images = fit.whitebox_images;
  o.whitebox.iterations = fit.whitebox_iterations;
  rt.report = rep;
  w.steps = fit.steps;
  w.whitebox_images = fit.whitebox_images;
  w.whitebox_iterations = fit.whitebox_iterations;
  return w;
}

}  // namespace partplan::pipeline::phases
