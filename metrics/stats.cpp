// Mean and Student-t confidence interval of per-image scores. The t CDF comes from the
// regularised incomplete beta function (continued fraction, modified Lentz), and the
// quantile from bisection on it: slow but simple, and it is called once per summary.
#include "partplan/metrics/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace partplan::metrics {
namespace {

// Continued fraction of the incomplete beta function (Numerical Recipes 6.4, betacf).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 500;
  constexpr double kEps = 1e-15;
  constexpr double kTiny = 1e-300;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEps) break;
  }
  return h;
}

// Regularised incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

}  // namespace

double student_t_cdf(double t, double dof) {
  if (!(dof > 0.0)) throw std::invalid_argument(fmt::format("student_t_cdf: dof {} must be positive", dof));
  if (std::isnan(t)) throw std::invalid_argument("student_t_cdf: t is NaN");
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double x = dof / (dof + t * t);
  const double tail = 0.5 * incomplete_beta(dof / 2.0, 0.5, x);
  return t > 0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, double dof) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument(fmt::format("student_t_quantile: p {} not in (0,1)", p));
  if (!(dof > 0.0)) throw std::invalid_argument(fmt::format("student_t_quantile: dof {} must be positive", dof));
  if (p < 0.5) return -student_t_quantile(1.0 - p, dof);
  if (p == 0.5) return 0.0;
  double lo = 0.0, hi = 1.0;
  while (student_t_cdf(hi, dof) < p) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e300) return std::numeric_limits<double>::max();
  }
  for (int i = 0; i < 200 && hi - lo > 1e-13 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    if (student_t_cdf(mid, dof) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

MeanCi mean_ci(const std::vector<double>& values, double level) {
  if (values.empty()) throw std::invalid_argument("mean_ci: no values");
  if (!(level > 0.0 && level < 1.0)) throw std::invalid_argument(fmt::format("mean_ci: level {} not in (0,1)", level));
  MeanCi r;
  r.n = static_cast<int64_t>(values.size());
  r.level = level;
  double sum = 0.0;
  for (double v : values) {
    if (!std::isfinite(v)) throw std::invalid_argument("mean_ci: non-finite value");
    sum += v;
  }
  r.mean = sum / static_cast<double>(r.n);
  r.low = r.high = r.mean;
  if (r.n < 2) return r;
  double ss = 0.0;
  for (double v : values) ss += (v - r.mean) * (v - r.mean);
  r.stddev = std::sqrt(ss / static_cast<double>(r.n - 1));
  const double t = student_t_quantile(0.5 + level / 2.0, static_cast<double>(r.n - 1));
  r.has_ci = true;
  r.half_width = t * r.stddev / std::sqrt(static_cast<double>(r.n));
  r.low = r.mean - r.half_width;
  r.high = r.mean + r.half_width;
  return r;
}

MeanCi share_ci(int64_t successes, int64_t n, double level) {
  if (n < 1 || successes < 0 || successes > n)
    throw std::invalid_argument(fmt::format("share_ci: {} successes of {}", successes, n));
  if (!(level > 0.0 && level < 1.0)) throw std::invalid_argument(fmt::format("share_ci: level {} not in (0,1)", level));
  MeanCi r;
  r.n = n;
  r.level = level;
  const double nn = static_cast<double>(n), p = static_cast<double>(successes) / nn;
  r.mean = p;
  r.stddev = n > 1 ? std::sqrt(p * (1 - p) * nn / (nn - 1)) : 0.0;
  // The normal quantile, as Student's t with (practically) infinite degrees of freedom.
  const double z = student_t_quantile(0.5 + level / 2.0, 1e12);
  const double z2 = z * z, denom = 1 + z2 / nn;
  const double centre = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  // The interval contains p; the clamps keep rounding from saying otherwise at 0 and n.
  r.low = std::clamp(centre - half, 0.0, p);
  r.high = std::clamp(centre + half, p, 1.0);
  r.half_width = (r.high - r.low) / 2;
  r.has_ci = true;
  return r;
}

}  // namespace partplan::metrics
