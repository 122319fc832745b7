// TrainTracker (the early-stopping rule), feature statistics, and the in-memory trainer.
#include "partplan/attacks/trainer.hpp"

#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numeric>

#include "partplan/common/error.hpp"
#include "partplan/metrics/records.hpp"
#include "partplan/metrics/ssim.hpp"

namespace partplan::attacks {
namespace {

template <typename Container>
double mean_of(const Container& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

TrainTracker::TrainTracker(const TrainBudget& budget) : budget_(budget), requested_steps_(budget.steps) {
  if (budget_.steps < 1 || budget_.eval_every < 1)
    throw UsageError(fmt::format("attacker budget needs steps >= 1 and eval_every >= 1 (got {} and {})", budget_.steps,
                                 budget_.eval_every));
}

void TrainTracker::on_step() {
  ++stats_.steps_run;
  if (stats_.steps_run >= budget_.steps && !check_due()) done_ = true;
}

void TrainTracker::limit_steps(int64_t steps) {
  const int64_t limit = std::max<int64_t>(steps, std::max<int64_t>(stats_.steps_run, 1));
  if (limit >= budget_.steps) return;
  budget_.steps = limit;
  if (stats_.steps_run >= budget_.steps && !check_due()) done_ = true;
}

void TrainTracker::add_l1(double l1) {
  if (first_l1_.size() < 10) first_l1_.push_back(l1);
  recent_l1_.push_back(l1);
  if (recent_l1_.size() > 10) recent_l1_.pop_front();
}

bool TrainTracker::check_due() const {
  const int64_t s = stats_.steps_run;
  return s > 0 && (s % budget_.eval_every == 0 || s == budget_.steps) &&
         (stats_.val_curve.empty() || stats_.val_curve.back().first != s);
}

bool TrainTracker::on_check(double val_score) {
  const int64_t step = stats_.steps_run;
  stats_.val_curve.emplace_back(step, val_score);
  // Keep the best weights on any gain; only a gain of min_delta resets the patience.
  const bool first = stats_.val_curve.size() == 1;
  const double previous_best = stats_.best_val;
  const bool best = first || val_score > previous_best;
  if (best) {
    stats_.best_val = val_score;
    stats_.best_step = step;
  }
  since_best_ = (first || val_score > previous_best + budget_.min_delta) ? 0 : since_best_ + 1;
  if (step >= budget_.steps) {
    done_ = true;
  } else if (budget_.patience > 0 && since_best_ >= budget_.patience) {
    done_ = true;
    stats_.early_stopped = true;
  }
  return best;
}

TrainStats TrainTracker::stats(double seconds) const {
  TrainStats s = stats_;
  s.seconds = seconds;
  s.first_l1 = mean_of(first_l1_);
  s.last_l1 = mean_of(recent_l1_);
  judge_convergence(s, budget_.min_delta);
  s.cut_short = budget_.steps < requested_steps_ && !s.early_stopped;
  return s;
}

void judge_convergence(TrainStats& s, double min_delta) {
  const auto& c = s.val_curve;
  const size_t n = std::min<size_t>(c.size(), kConvergenceChecks);
  s.val_slope = 0;
  if (n >= 2) {
    // Least squares over check indices 0..n-1: slope = sum (i - i_mean)(y - y_mean) / sum (i - i_mean)^2.
    const double im = (static_cast<double>(n) - 1) / 2;
    double ym = 0;
    for (size_t i = 0; i < n; ++i) ym += c[c.size() - n + i].second;
    ym /= static_cast<double>(n);
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
      const double di = static_cast<double>(i) - im;
      num += di * (c[c.size() - n + i].second - ym);
      den += di * di;
    }
    s.val_slope = num / den;
  }
  s.still_improving = !s.early_stopped && (n < 2 || s.val_slope > min_delta);
}

void FeatureStatsAccumulator::add(const at::Tensor& features) {
  torch::NoGradGuard ng;
  if (features.dim() < 2 || features.size(0) == 0)
    throw DataError(fmt::format("feature statistics need a batch [B, D1, ...], got {} dimensions", features.dim()));
  auto f = features.detach().to(torch::kDouble);  // on the features' device: no copy to the host
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < f.dim(); ++d) dims.push_back(d);
  auto s = f.sum(dims);
  auto sq = f.square().sum(dims);
  if (!sum_.defined()) {
    sum_ = s;
    sum_sq_ = sq;
  } else {
    if (s.size(0) != sum_.size(0))
      throw DataError(
          fmt::format("feature statistics: a batch with first dimension {} after {}", s.size(0), sum_.size(0)));
    sum_ += s;
    sum_sq_ += sq;
  }
  count_per_index_ += static_cast<double>(f.numel() / f.size(1));
  samples_ += f.size(0);
}

FeatureStats FeatureStatsAccumulator::result() const {
  if (!sum_.defined()) throw DataError("feature statistics: no batch was added");
  auto mean = sum_.cpu() / count_per_index_;
  auto var = (sum_sq_.cpu() / count_per_index_ - mean.square()).clamp_min(0);
  auto sd = var.sqrt().contiguous();
  mean = mean.contiguous();
  FeatureStats out;
  out.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
  out.stddev.assign(sd.data_ptr<double>(), sd.data_ptr<double>() + sd.numel());
  return out;
}

LinearInverseAccumulator::LinearInverseAccumulator(const std::vector<int64_t>& feature_shape,
                                                   const std::vector<int64_t>& image_shape)
    : feature_shape_(feature_shape),
      scale_(linear_inverse_scale(feature_shape, image_shape)),
      kernel_(scale_ > 0 ? linear_inverse_kernel(feature_shape) : 0) {}

void LinearInverseAccumulator::add(const at::Tensor& features, const at::Tensor& images) {
  if (scale_ == 0) return;
  using torch::indexing::Slice;
  torch::NoGradGuard ng;
  const int64_t c = feature_shape_[0], h = feature_shape_[1], w = feature_shape_[2], s = scale_;
  if (features.dim() != 4 || features.size(1) != c || features.size(2) != h || features.size(3) != w ||
      images.dim() != 4 || images.size(0) != features.size(0))
    throw DataError(fmt::format("linear inverse: features {} and images {} do not match the cut [B,{},{},{}]",
                                fmt::join(features.sizes(), "x"), fmt::join(images.sizes(), "x"), c, h, w));
  namespace F = torch::nn::functional;
  auto y = images.detach().to(torch::kFloat);
  if (y.size(2) != h * s || y.size(3) != w * s)
    y = F::interpolate(y, F::InterpolateFuncOptions().size(std::vector<int64_t>{h * s, w * s}).mode(torch::kArea));
  if (s > 1) y = torch::pixel_unshuffle(y, s);  // [B, Ci*s*s, h, w]
  // A seeded random sample of at most kRowsPerBatch positions (a regular stride would alias
  // with the map's width and keep only a few columns).
  const int64_t positions = features.size(0) * h * w;
  auto p = torch::arange(positions, torch::kLong);
  if (positions > kRowsPerBatch) {
    auto gen = at::detail::createCPUGenerator(0x5eed0000ULL + static_cast<uint64_t>(batches_));
    p = torch::randperm(positions, gen, torch::kLong).narrow(0, 0, kRowsPerBatch);
  }
  ++batches_;
  if (features.is_cuda()) p = p.pin_memory().to(features.device(), /*non_blocking=*/true);
  const auto pb = p.div(h * w, "floor"), pi = p.div(w, "floor").remainder(h), pj = p.remainder(w);
  const int64_t k = kernel_, r = k / 2;
  auto f = features.detach().to(torch::kFloat);
  if (r > 0) f = F::pad(f, F::PadFuncOptions({r, r, r, r}).mode(torch::kReplicate));
  std::vector<torch::Tensor> taps;  // conv weight order: [C, kh, kw]
  for (int64_t di = 0; di < k; ++di)
    for (int64_t dj = 0; dj < k; ++dj) taps.push_back(f.index({pb, Slice(), pi + di, pj + dj}));  // [n, C]
  // The normal equations accumulate on the features' device; result() takes them to the CPU once.
  const auto x = torch::stack(taps, 2).reshape({p.size(0), c * k * k}).to(torch::kDouble);
  const auto t = y.to(features.device()).index({pb, Slice(), pi, pj}).to(torch::kDouble);  // [n, Ci*s*s]
  if (!xtx_.defined()) {
    xtx_ = torch::zeros({x.size(1), x.size(1)}, x.options());
    xty_ = torch::zeros({x.size(1), t.size(1)}, x.options());
    sx_ = torch::zeros({x.size(1)}, x.options());
    sy_ = torch::zeros({t.size(1)}, x.options());
    syy_ = torch::zeros({t.size(1)}, x.options());
  }
  syy_ += t.square().sum(0);
  xtx_.addmm_(x.t(), x);
  xty_.addmm_(x.t(), t);
  sx_ += x.sum(0);
  sy_ += t.sum(0);
  rows_ += static_cast<double>(x.size(0));
}

LinearInverse LinearInverseAccumulator::result(const FeatureStats& stats) const {
  if (scale_ == 0 || !xtx_.defined()) return {};
  torch::NoGradGuard ng;
  const int64_t c = feature_shape_[0], kk = kernel_ * kernel_, d = c * kk;
  const auto sx = sx_.cpu(), sy = sy_.cpu(), syy = syy_.cpu(), xtx = xtx_.cpu(), xty = xty_.cpu();
  const auto mx = sx / rows_, my = sy / rows_;
  // Centred second moments, then in standardised coordinates x' = (x - mean) / sd.
  auto cxx = xtx / rows_ - torch::outer(mx, mx);
  auto cxy = xty / rows_ - torch::outer(mx, my);
  // Input j is channel j / (k*k): each channel's statistics repeat over its taps.
  auto per_tap = [&](const std::vector<double>& v) { return torch::tensor(v, mx.options()).repeat_interleave(kk); };
  auto sd = torch::ones({d}, mx.options());
  if (!stats.stddev.empty()) sd = per_tap(stats.stddev).clamp_min(1e-6);
  cxx = cxx / torch::outer(sd, sd);
  cxy = cxy / sd.unsqueeze(1);
  const double ridge = kRidge * std::max(cxx.diagonal().mean().item<double>(), 1e-12);
  const auto a = cxx + ridge * torch::eye(d, cxx.options());
  const auto coef = torch::linalg_solve(a, cxy);  // [C*k*k, Ci*s*s]
  // Standardised features have mean 0 under `stats`; correct for any difference from mx.
  auto mean_std = torch::zeros({d}, mx.options());
  if (!stats.mean.empty()) mean_std = (mx - per_tap(stats.mean)) / sd;
  const auto bias = my - torch::matmul(mean_std, coef);
  // Share of the pixel variance it explains on the rows it was fitted to.
  const auto var_y = syy / rows_ - my.square();
  const auto explained = (coef * cxy).sum(0) * 2 - (coef * torch::matmul(cxx, coef)).sum(0);
  LinearInverse out;
  const double r2 = (explained.sum() / var_y.sum().clamp_min(1e-12)).item<double>();
  // Adjusted for the inputs it had to fit (a deep cut has thousands, on few rows).
  out.r2 = rows_ > static_cast<double>(d) + 1 ? 1 - (1 - r2) * (rows_ - 1) / (rows_ - static_cast<double>(d) - 1) : 0;
  out.weight = coef.t().contiguous().to(torch::kFloat).view({coef.size(1), c, kernel_, kernel_});
  out.bias = bias.to(torch::kFloat).contiguous();
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
    sum += metrics::similarity(rec, pairs.images.narrow(0, i, len)).sum().item<double>();
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
    tracker.on_step(attacker.step(tr.features.index_select(0, idx), tr.images.index_select(0, idx)).item<double>());
    const bool checked = tracker.check_due();
    if (checked && tracker.on_check(mean_ssim(attacker, val))) attacker.keep_best();
    const auto now = Clock::now();
    if (progress && (checked || std::chrono::duration<double>(now - last_report).count() > 2.0)) {
      last_report = now;
      const double secs = std::chrono::duration<double>(now - t0).count();
      progress({tracker.steps(), b.steps, static_cast<double>(tracker.steps()) / std::max(secs, 1e-9),
                tracker.latest_val()});
    }
  }
  attacker.restore_best();
  return tracker.stats(std::chrono::duration<double>(Clock::now() - t0).count());
}

}  // namespace partplan::attacks
