// Slow references for the metrics (reference.hpp): straight from the definitions, in double,
// with nothing clever, so that a disagreement points at the fast path.
#include "partplan/metrics/reference.hpp"

#include <cmath>
#include <stdexcept>

namespace partplan::metrics::reference {
namespace {

void check_same(const HostImages& x, const HostImages& y) {
  if (x.n != y.n || x.c != y.c || x.h != y.h || x.w != y.w) throw std::invalid_argument("reference: shapes differ");
  if (x.values.size() != static_cast<size_t>(x.n * x.c * x.h * x.w) || y.values.size() != x.values.size())
    throw std::invalid_argument("reference: values do not match the shape");
}

}  // namespace

std::vector<double> ssim(const HostImages& x, const HostImages& y, const SsimOptions& o) {
  check_same(x, y);
  const int64_t win = o.window;
  if (x.h < win || x.w < win) throw std::invalid_argument("reference ssim: image smaller than the window");
  const int64_t r = win / 2;

  // 2-D Gaussian weights, normalised to sum 1.
  std::vector<double> weight(static_cast<size_t>(win * win));
  double total = 0.0;
  for (int64_t a = 0; a < win; ++a)
    for (int64_t b = 0; b < win; ++b) {
      const double da = static_cast<double>(a - r), db = static_cast<double>(b - r);
      weight[a * win + b] = std::exp(-(da * da + db * db) / (2.0 * o.sigma * o.sigma));
      total += weight[a * win + b];
    }
  for (double& v : weight) v /= total;

  const double c1 = (o.k1 * o.data_range) * (o.k1 * o.data_range);
  const double c2 = (o.k2 * o.data_range) * (o.k2 * o.data_range);
  std::vector<double> out;
  for (int64_t n = 0; n < x.n; ++n) {
    double sum = 0.0;
    int64_t count = 0;
    for (int64_t c = 0; c < x.c; ++c)
      for (int64_t i = r; i < x.h - r; ++i)
        for (int64_t j = r; j < x.w - r; ++j) {
          double mx = 0, my = 0;
          for (int64_t a = 0; a < win; ++a)
            for (int64_t b = 0; b < win; ++b) {
              mx += weight[a * win + b] * x.at(n, c, i - r + a, j - r + b);
              my += weight[a * win + b] * y.at(n, c, i - r + a, j - r + b);
            }
          double vx = 0, vy = 0, cxy = 0;
          for (int64_t a = 0; a < win; ++a)
            for (int64_t b = 0; b < win; ++b) {
              const double dx = x.at(n, c, i - r + a, j - r + b) - mx;
              const double dy = y.at(n, c, i - r + a, j - r + b) - my;
              vx += weight[a * win + b] * dx * dx;
              vy += weight[a * win + b] * dy * dy;
              cxy += weight[a * win + b] * dx * dy;
            }
          sum += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
          ++count;
        }
    out.push_back(sum / static_cast<double>(count));
  }
  return out;
}

std::vector<double> psnr_db(const HostImages& x, const HostImages& y, std::vector<bool>* capped, double data_range) {
  check_same(x, y);
  const int64_t per_image = x.c * x.h * x.w;
  std::vector<double> out;
  if (capped) capped->clear();
  for (int64_t n = 0; n < x.n; ++n) {
    double se = 0.0;
    for (int64_t k = 0; k < per_image; ++k) {
      const double d = x.values[n * per_image + k] - y.values[n * per_image + k];
      se += d * d;
    }
    const double mse = se / static_cast<double>(per_image);
    double db = mse > 0 ? 10.0 * std::log10(data_range * data_range / mse) : kPsnrCapDb;
    const bool is_capped = db >= kPsnrCapDb;
    if (is_capped) db = kPsnrCapDb;
    out.push_back(db);
    if (capped) capped->push_back(is_capped);
  }
  return out;
}

}  // namespace partplan::metrics::reference
