// TrainTracker (the early-stopping rule), feature statistics, and the in-memory trainer.
#include "partplan/attacks/trainer.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include <numeric>

#include "partplan/common/error.hpp"
#include "partplan/metrics/ssim.hpp"

namespace partplan::attacks {
namespace {

template <typename Container>
double mean_of(const Container& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

TrainTracker::TrainTracker(const TrainBudget& budget) : budget_(budget) {
  if (budget_.steps < 1 || budget_.eval_every < 1)
    throw UsageError(fmt::format("attacker budget needs steps >= 1 and eval_every >= 1 (got {} and {})", budget_.steps,
                                 budget_.eval_every));
}

void TrainTracker::on_step(double l1) {
  ++stats_.steps_run;
  if (first_l1_.size() < 10) first_l1_.push_back(l1);
  recent_l1_.push_back(l1);
  if (recent_l1_.size() > 10) recent_l1_.pop_front();
  if (stats_.steps_run >= budget_.steps && !check_due()) done_ = true;
}

bool TrainTracker::check_due() const {
  const int64_t s = stats_.steps_run;
  return s > 0 && (s % budget_.eval_every == 0 || s == budget_.steps) &&
         (stats_.val_curve.empty() || stats_.val_curve.back().first != s);
}

bool TrainTracker::on_check(double val_ssim) {
  const int64_t step = stats_.steps_run;
  stats_.val_curve.emplace_back(step, val_ssim);
  // Keep the best weights on any gain; only a gain of min_delta resets the patience.
  const bool first = stats_.val_curve.size() == 1;
  const double previous_best = stats_.best_val_ssim;
  const bool best = first || val_ssim > previous_best;
  if (best) {
    stats_.best_val_ssim = val_ssim;
    stats_.best_step = step;
  }
  since_best_ = (first || val_ssim > previous_best + budget_.min_delta) ? 0 : since_best_ + 1;
  if (step >= budget_.steps) {
    done_ = true;
  } else if (budget_.patience > 0 && since_best_ >= budget_.patience) {
    done_ = true;
    stats_.early_stopped = true;
  }
  return best;
}

double TrainTracker::recent_l1() const { return mean_of(recent_l1_); }

TrainStats TrainTracker::stats(double seconds) const {
  TrainStats s = stats_;
  s.seconds = seconds;
  s.first_l1 = mean_of(first_l1_);
  s.last_l1 = mean_of(recent_l1_);
  return s;
}

void FeatureStatsAccumulator::add(const at::Tensor& features) {
  torch::NoGradGuard ng;
  if (features.dim() < 2 || features.size(0) == 0)
    throw DataError(fmt::format("feature statistics need a batch [B, D1, ...], got {} dimensions", features.dim()));
  auto f = features.detach().to(torch::kCPU, torch::kDouble);
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < f.dim(); ++d) dims.push_back(d);
  auto s = f.sum(dims);
  auto sq = f.square().sum(dims);
  if (!sum_.defined()) {
    sum_ = s;
    sum_sq_ = sq;
  } else {
    if (s.size(0) != sum_.size(0))
      throw DataError(fmt::format("feature statistics: a batch with first dimension {} after {}", s.size(0),
                                  sum_.size(0)));
    sum_ += s;
    sum_sq_ += sq;
  }
  count_per_index_ += static_cast<double>(f.numel() / f.size(1));
  samples_ += f.size(0);
}

FeatureStats FeatureStatsAccumulator::result() const {
  if (!sum_.defined()) throw DataError("feature statistics: no batch was added");
  auto mean = sum_ / count_per_index_;
  auto var = (sum_sq_ / count_per_index_ - mean.square()).clamp_min(0);
  auto sd = var.sqrt().contiguous();
  mean = mean.contiguous();
  FeatureStats out;
  out.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
  out.stddev.assign(sd.data_ptr<double>(), sd.data_ptr<double>() + sd.numel());
  return out;
}

FeatureStats feature_stats(const at::Tensor& features) {
  FeatureStatsAccumulator acc;
  acc.add(features);
  return acc.result();
}

double mean_ssim(Attacker& attacker, const PairSet& pairs) {
  double sum = 0;
  const int64_t n = pairs.features.size(0);
  for (int64_t i = 0; i < n; i += 256) {
    const int64_t len = std::min<int64_t>(256, n - i);
    auto rec = attacker.reconstruct(pairs.features.narrow(0, i, len));
    sum += metrics::ssim(rec, pairs.images.narrow(0, i, len).to(rec.device())).sum().item<double>();
  }
  return sum / static_cast<double>(std::max<int64_t>(n, 1));
}

TrainStats train_on_pairs(Attacker& attacker, const PairSet& tr, const PairSet& val, const TrainBudget& b,
                          uint64_t seed, const std::function<void(const TrainProgress&)>& progress) {
  for (const auto* p : {&tr, &val})
    if (!p->features.defined() || !p->images.defined() || p->features.size(0) == 0 ||
        p->features.size(0) != p->images.size(0))
      throw DataError(fmt::format("attacker {}: the {} set is empty or its features and images differ in count",
                                  attacker.name(), p == &tr ? "attacker-train" : "attacker-val"));
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t n = tr.features.size(0);
  const int64_t batch = std::min(b.batch_size, n);
  auto perm = torch::randperm(n, gen, torch::kLong);
  int64_t cursor = 0;
  TrainTracker tracker(b);
  auto last_report = t0;
  while (!tracker.done()) {
    if (cursor + batch > n) {
      perm = torch::randperm(n, gen, torch::kLong);
      cursor = 0;
    }
    const auto idx = perm.narrow(0, cursor, batch).to(tr.features.device());
    cursor += batch;
    tracker.on_step(attacker.step(tr.features.index_select(0, idx), tr.images.index_select(0, idx)));
    const bool checked = tracker.check_due();
    if (checked && tracker.on_check(mean_ssim(attacker, val))) attacker.keep_best();
    const auto now = Clock::now();
    if (progress && (checked || std::chrono::duration<double>(now - last_report).count() > 2.0)) {
      last_report = now;
      const double secs = std::chrono::duration<double>(now - t0).count();
      progress({tracker.steps(), b.steps, static_cast<double>(tracker.steps()) / std::max(secs, 1e-9),
                tracker.latest_val_ssim(), tracker.recent_l1()});
    }
  }
  attacker.restore_best();
  return tracker.stats(std::chrono::duration<double>(Clock::now() - t0).count());
}

}  // namespace partplan::attacks
