#pragma once
// Summary statistics for per-image scores. Torch-free.

#include <cstdint>
#include <vector>

namespace partplan::metrics {

/// A sample mean with a two-sided confidence interval from Student's t distribution with
/// n - 1 degrees of freedom: mean +- t_{(1+level)/2, n-1} * s / sqrt(n), s the sample
/// (n - 1) standard deviation. The t interval is exact for normal scores and conservative
/// (wider than the normal one) for small n; for n >= 30 the two differ by under 4%.
struct MeanCi {
  int64_t n = 0;
  double mean = 0.0;
  double stddev = 0.0;      ///< sample standard deviation (n - 1); 0 when n == 1
  double level = 0.95;      ///< confidence level of the interval
  bool has_ci = false;      ///< false when n < 2: no interval can be estimated
  double half_width = 0.0;  ///< 0 when !has_ci
  double low = 0.0;         ///< mean - half_width
  double high = 0.0;        ///< mean + half_width
};

/// Mean and `level` confidence interval of `values` (level in (0,1), default 95%).
/// With a single value has_ci is false and low = high = mean.
/// Throws std::invalid_argument on an empty vector, a non-finite value or a level outside (0,1).
MeanCi mean_ci(const std::vector<double>& values, double level = 0.95);

/// A share (successes of n trials) with its Wilson score interval at `level`: unlike the t
/// interval on 0/1 values it stays inside [0,1] and is not zero-width at 0 or n successes
/// (10 of 10 gives [0.722, 1] at 95%). mean = successes / n; stddev the sample standard
/// deviation of the 0/1 values; half_width half the (asymmetric) interval's width.
/// Throws std::invalid_argument on n < 1, successes outside [0, n] or a level outside (0,1).
MeanCi share_ci(int64_t successes, int64_t n, double level = 0.95);

/// Quantile of Student's t distribution: the t with P(T <= t) = p, for p in (0,1) and
/// degrees of freedom dof > 0 (bisection on the CDF, which is computed from the regularised
/// incomplete beta function; accurate to about 1e-10). Throws std::invalid_argument.
double student_t_quantile(double p, double dof);

/// Student's t cumulative distribution function P(T <= t) for dof > 0.
double student_t_cdf(double t, double dof);

}  // namespace partplan::metrics
