// The time model of an assessment (time_plan.hpp): phase estimates, the budget fit, the ETA.
#include "partplan/pipeline/time_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "partplan/common/error.hpp"

namespace partplan::pipeline {
namespace {

double& at(PhaseSeconds& s, Phase p) { return s[static_cast<size_t>(p)]; }

int64_t checks_of(int64_t steps, int64_t eval_every) {
  const int64_t every = std::max<int64_t>(eval_every, 1);
  return (steps + every - 1) / every;
}

/// Seconds of the estimate that depend on the budget's knobs, and the rest.
double train_seconds(const Workload& w, int64_t steps) {
  double f = 0, step = 0, rec = 0;
  for (const auto& c : w.cuts) {
    f = std::max(f, c.front_fraction);
    step += c.step;
    rec += c.reconstruct;
  }
  const double per_step = static_cast<double>(w.batch) * w.forward * f + step;
  const double per_check = static_cast<double>(w.n_val) * (w.forward * f + rec);
  return static_cast<double>(steps) * per_step + static_cast<double>(checks_of(steps, w.eval_every)) * per_check;
}

double whitebox_seconds(const Workload& w, int64_t images, int64_t iterations) {
  Workload at = w;
  at.whitebox_images = images;
  at.whitebox_iterations = iterations;
  double s = 0;
  for (const auto& c : w.cuts) s += whitebox_seconds(at, c);
  return s;
}

/// The largest v in [lo, hi] with fits(v), or lo when none does (fits is monotone: true up to some v).
template <class Fits>
int64_t largest_fitting(int64_t lo, int64_t hi, Fits&& fits) {
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

double whitebox_seconds(const Workload& w, const CutRates& cut) {
  const double n = static_cast<double>(std::min(w.whitebox_images, w.n_eval));
  return n * static_cast<double>(cut.whitebox_starts * w.whitebox_iterations) * cut.whitebox;
}

PhaseSeconds estimate_phases(const Workload& w) {
  PhaseSeconds s{};
  double f = 0, rec = 0;
  int64_t attackers = 0;
  for (const auto& c : w.cuts) {
    f = std::max(f, c.front_fraction);
    rec += c.reconstruct;
    attackers += c.attackers;
  }
  const auto n_eval = static_cast<double>(w.n_eval);
  at(s, Phase::kStats) = static_cast<double>(w.n_train) * w.forward;
  at(s, Phase::kScore) = n_eval * w.forward + n_eval * (w.forward * f + rec) +
                         (w.classifier ? n_eval * static_cast<double>(attackers) * w.forward : 0.0);
  at(s, Phase::kOracle) = static_cast<double>(w.oracle_images) * w.forward;
  at(s, Phase::kTrain) = w.cuts.empty() ? 0.0 : train_seconds(w, w.steps);
  at(s, Phase::kWhitebox) = whitebox_seconds(w, w.whitebox_images, w.whitebox_iterations);
  at(s, Phase::kProbe) = static_cast<double>(w.probe_images) * w.forward;
  at(s, Phase::kCost) = static_cast<double>(w.cost_runs) * w.forward;
  return s;
}

double total_seconds(const PhaseSeconds& s) { return std::accumulate(s.begin(), s.end(), 0.0); }

double parse_duration(const std::string& text) {
  const auto bad = [&text]() {
    return UsageError(fmt::format("time budget '{}' is not a duration: write e.g. 15m, 90s, 1h30m or seconds (900)",
                                  text));
  };
  if (text.empty()) throw bad();
  double total = 0;
  size_t i = 0;
  bool any_unit = false;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) throw bad();
    double value = 0;
    try {
      size_t used = 0;
      value = std::stod(text.substr(i, j - i), &used);
      if (used != j - i) throw bad();
    } catch (const std::logic_error&) {
      throw bad();
    }
    if (j == text.size()) {  // a bare number: seconds, only on its own
      if (any_unit) throw bad();
      total += value;
      i = j;
      break;
    }
    const char unit = text[j];
    const double scale = unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : -1;
    if (scale < 0) throw bad();
    total += value * scale;
    any_unit = true;
    i = j + 1;
  }
  if (!(total > 0) || !std::isfinite(total)) throw bad();
  return total;
}

BudgetFit fit_budget(const Workload& w, double budget_seconds, double spent_seconds) {
  BudgetFit fit;
  fit.steps = w.steps;
  fit.whitebox_images = std::min(w.whitebox_images, w.n_eval);
  fit.whitebox_iterations = w.whitebox_iterations;
  const double target = kBudgetPlanShare * budget_seconds - spent_seconds;
  const auto full = estimate_phases(w);
  const double fixed = total_seconds(full) - full[static_cast<size_t>(Phase::kTrain)] -
                       full[static_cast<size_t>(Phase::kWhitebox)];
  const auto cost = [&](int64_t steps, int64_t images, int64_t iterations) {
    return fixed + (w.cuts.empty() ? 0.0 : train_seconds(w, steps)) + whitebox_seconds(w, images, iterations);
  };
  const auto finish = [&]() {
    fit.estimated_seconds = spent_seconds + cost(fit.steps, fit.whitebox_images, fit.whitebox_iterations);
    fit.fits = fit.estimated_seconds <= kBudgetPlanShare * budget_seconds + 1e-9;
    return fit;
  };
  if (cost(fit.steps, fit.whitebox_images, fit.whitebox_iterations) <= target) return finish();

  const int64_t min_images = std::min(fit.whitebox_images, std::max<int64_t>(w.batch, 1));
  const int64_t images = largest_fitting(min_images, fit.whitebox_images, [&](int64_t n) {
    return cost(fit.steps, n, fit.whitebox_iterations) <= target;
  });
  if (images < fit.whitebox_images) {
    fit.reductions.push_back(fmt::format("white-box images per cut {} -> {}", fit.whitebox_images, images));
    fit.whitebox_images = images;
  }
  if (cost(fit.steps, fit.whitebox_images, fit.whitebox_iterations) <= target) return finish();

  const int64_t min_steps = std::min(w.steps, std::max<int64_t>(w.eval_every, 1));
  const int64_t steps = largest_fitting(min_steps, w.steps, [&](int64_t s) {
    return cost(s, fit.whitebox_images, fit.whitebox_iterations) <= target;
  });
  if (steps < fit.steps) {
    fit.reductions.push_back(fmt::format("training steps per cut {} -> {}", fit.steps, steps));
    fit.steps = steps;
  }
  if (cost(fit.steps, fit.whitebox_images, fit.whitebox_iterations) <= target) return finish();

  const int64_t min_iterations = std::min(w.whitebox_iterations, kMinWhiteboxIterations);
  const int64_t iterations = largest_fitting(min_iterations, w.whitebox_iterations, [&](int64_t it) {
    return cost(fit.steps, fit.whitebox_images, it) <= target;
  });
  if (iterations < fit.whitebox_iterations) {
    fit.reductions.push_back(fmt::format("white-box iterations {} -> {}", fit.whitebox_iterations, iterations));
    fit.whitebox_iterations = iterations;
  }
  return finish();
}

int64_t steps_within(double seconds_left, double seconds_per_step, int64_t step, int64_t limit, int64_t floor) {
  const int64_t lo = std::min(limit, std::max(step, floor));
  if (!(seconds_per_step > 0)) return limit;
  const double more = std::floor(std::max(seconds_left, 0.0) / seconds_per_step);
  if (more >= static_cast<double>(limit - step)) return limit;
  return std::clamp<int64_t>(step + static_cast<int64_t>(more), lo, limit);
}

void EtaModel::plan(Phase p, std::vector<double> item_seconds) {
  auto& w = work_[static_cast<size_t>(p)];
  w.done.resize(item_seconds.size(), 0.0);
  w.items = std::move(item_seconds);
  planned_ = true;
}

void EtaModel::progress(Phase p, size_t item, double fraction) {
  auto& w = work_[static_cast<size_t>(p)];
  if (item < w.done.size()) w.done[item] = std::clamp(fraction, 0.0, 1.0);
}

void EtaModel::finish(Phase p) { work_[static_cast<size_t>(p)].finished = true; }

double EtaModel::estimate(Phase p) const {
  const auto& w = work_[static_cast<size_t>(p)];
  return std::accumulate(w.items.begin(), w.items.end(), 0.0);
}

double EtaModel::remaining(Phase p, double spent) const {
  const auto& w = work_[static_cast<size_t>(p)];
  if (w.finished) return 0;
  const double total = estimate(p);
  double done = 0;
  for (size_t i = 0; i < w.items.size(); ++i) done += w.items[i] * w.done[i];
  const double c = kEtaPrior * total;
  if (c <= 0) return 0;
  const double ratio = (std::max(spent, 0.0) + c) / (done + c);
  return std::max(total - done, 0.0) * ratio;
}

double EtaModel::eta(const PhaseSeconds& spent) const {
  if (!planned_) return -1;
  double left = 0;
  for (int i = 0; i < kPhaseCount; ++i) left += remaining(static_cast<Phase>(i), spent[static_cast<size_t>(i)]);
  return left;
}

}  // namespace partplan::pipeline
