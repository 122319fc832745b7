// Batched SSIM on LibTorch (docs/metrics.md). The five local statistics of every channel,
// E[x], E[y], E[x^2], E[y^2] and E[xy], are stacked on the channel axis and filtered by one
// depthwise, separable Gaussian convolution without padding. That yields exactly the
// positions where the window lies fully inside the image, which is scikit-image's valid
// region after its `crop(S, pad)`. Each channel is first centred on its own mean: variances
// and covariances do not change, but E[x^2] - E[x]^2 then cancels far less in float32.
// To offer another window (a uniform one, say), change gaussian_window(); nothing else
// depends on its shape.
#include "partplan/metrics/ssim.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "partplan/common/error.hpp"
#include "partplan/common/shape.hpp"

namespace partplan::metrics {
namespace {

// Elements of the stacked statistics tensor per chunk: 2^25 float32 is 128 MiB, and the
// few temporaries of the same size keep one chunk under about 1 GiB.
constexpr int64_t kMaxStackedElements = int64_t{1} << 25;

std::string shape_of(const at::Tensor& t) { return common::format_shape(t.sizes().vec()); }

void check_options(const SsimOptions& o) {
  if (o.window < 1 || o.window % 2 == 0)
    throw UsageError(fmt::format("SSIM window {} is invalid: use a positive odd size such as 11", o.window));
  if (!(o.sigma > 0.0) || !std::isfinite(o.sigma))
    throw UsageError(fmt::format("SSIM sigma {} is invalid: use a positive value such as 1.5", o.sigma));
  if (!(o.data_range > 0.0) || !std::isfinite(o.data_range))
    throw UsageError(fmt::format("SSIM data range {} is invalid: use 1 for images in [0,1]", o.data_range));
  if (!(o.k1 >= 0.0) || !(o.k2 >= 0.0))
    throw UsageError(fmt::format("SSIM constants K1={} K2={} must be non-negative", o.k1, o.k2));
}

void check_pair(const at::Tensor& x, const at::Tensor& y, const SsimOptions& o) {
  if (!x.defined() || !y.defined()) throw std::invalid_argument("ssim: undefined tensor");
  if (x.dim() != 4 || y.dim() != 4)
    throw std::invalid_argument(fmt::format("ssim expects [N,C,H,W] tensors, got {} and {}", shape_of(x), shape_of(y)));
  if (!x.is_floating_point() || !y.is_floating_point())
    throw std::invalid_argument("ssim expects floating tensors in [0, data_range]; convert uint8 images with /255");
  if (x.device() != y.device())
    throw std::invalid_argument(
        fmt::format("ssim: tensors on different devices ({} and {})", x.device().str(), y.device().str()));
  if (x.sizes() != y.sizes())
    throw DataError(fmt::format("SSIM needs two batches of one shape, got {} and {}", shape_of(x), shape_of(y)));
  if (x.size(2) < o.window || x.size(3) < o.window)
    throw DataError(
        fmt::format("SSIM with a {0}x{0} window needs images of at least {0}x{0} pixels, got {1}x{2}: no window fits "
                    "inside (scikit-image refuses these too); upscale the images or compare them by PSNR only",
                    o.window, x.size(2), x.size(3)));
}

at::ScalarType compute_dtype(const at::Tensor& x) { return x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

/// TF32 off for the guard's life: a run turns TF32 on for speed (model::configure_numerics),
/// and SSIM's window sums would then lose float32's precision (10 bits of mantissa), so a
/// score would depend on the device.
class FullPrecision {
 public:
  explicit FullPrecision(bool cuda) : previous_(cuda && at::globalContext().allowTF32CuDNN()) {
    if (previous_) at::globalContext().setAllowTF32CuDNN(false);
  }
  ~FullPrecision() {
    if (previous_) at::globalContext().setAllowTF32CuDNN(true);
  }
  FullPrecision(const FullPrecision&) = delete;
  FullPrecision& operator=(const FullPrecision&) = delete;

 private:
  bool previous_;  ///< TF32 was on: turned off here, back on at the end
};

// SSIM map of one chunk; inputs already checked.
at::Tensor map_of_chunk(const at::Tensor& x, const at::Tensor& y, const at::Tensor& window_1d, const SsimOptions& o) {
  const FullPrecision full(x.is_cuda());
  const int64_t channels = x.size(1);
  const int64_t w = o.window;
  const int64_t groups = 5 * channels;
  const auto kernel_h = window_1d.view({1, 1, 1, w}).expand({groups, 1, 1, w}).contiguous();
  const auto kernel_v = window_1d.view({1, 1, w, 1}).expand({groups, 1, w, 1}).contiguous();

  const auto mean_x = x.mean({2, 3}, /*keepdim=*/true);
  const auto mean_y = y.mean({2, 3}, /*keepdim=*/true);
  const auto xc = x - mean_x;
  const auto yc = y - mean_y;
  auto stats = at::cat({xc, yc, xc * xc, yc * yc, xc * yc}, 1);
  const std::vector<int64_t> one{1, 1}, zero{0, 0};
  stats =
      at::conv2d(stats, kernel_h, /*bias=*/at::Tensor(), /*stride=*/one, /*padding=*/zero, /*dilation=*/one, groups);
  stats =
      at::conv2d(stats, kernel_v, /*bias=*/at::Tensor(), /*stride=*/one, /*padding=*/zero, /*dilation=*/one, groups);
  const auto parts = stats.chunk(5, 1);
  const auto& mu_xc = parts[0];
  const auto& mu_yc = parts[1];
  const auto var_x = parts[2] - mu_xc * mu_xc;
  const auto var_y = parts[3] - mu_yc * mu_yc;
  const auto cov_xy = parts[4] - mu_xc * mu_yc;
  const auto mu_x = mu_xc + mean_x;
  const auto mu_y = mu_yc + mean_y;

  const double c1 = (o.k1 * o.data_range) * (o.k1 * o.data_range);
  const double c2 = (o.k2 * o.data_range) * (o.k2 * o.data_range);
  const auto numerator = (2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2);
  const auto denominator = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2);
  return numerator / denominator;
}

// gaussian_window(window, sigma) on `device` as `dtype`, made once per key: SSIM runs in every
// training step (the loss) and must not rebuild it on the host and copy it each time.
at::Tensor cached_window(const SsimOptions& o, const at::Device& device, at::ScalarType dtype) {
  struct Entry {
    int window;
    double sigma;
    at::Device device;
    at::ScalarType dtype;
    at::Tensor w;
  };
  static std::mutex mutex;
  // Never destroyed: a CUDA tensor freed after the CUDA runtime has shut down at exit fails.
  static auto* cache = new std::vector<Entry>();
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& e : *cache)
    if (e.window == o.window && e.sigma == o.sigma && e.device == device && e.dtype == dtype) return e.w;
  cache->push_back({o.window, o.sigma, device, dtype, gaussian_window(o.window, o.sigma).to(device, dtype)});
  return cache->back().w;
}

}  // namespace

at::Tensor gaussian_window(int window, double sigma) {
  check_options(SsimOptions{window, sigma});
  auto g = at::empty({window}, at::kDouble);
  double* p = g.data_ptr<double>();
  const int radius = window / 2;
  double sum = 0.0;
  for (int i = 0; i < window; ++i) {
    const double d = i - radius;
    p[i] = std::exp(-d * d / (2.0 * sigma * sigma));
    sum += p[i];
  }
  for (int i = 0; i < window; ++i) p[i] /= sum;
  return g;
}

at::Tensor ssim_map(const at::Tensor& x, const at::Tensor& y, const SsimOptions& options) {
  check_options(options);
  check_pair(x, y, options);
  const auto dtype = compute_dtype(x);
  const auto window_1d = cached_window(options, x.device(), dtype);
  return map_of_chunk(x.to(dtype), y.to(dtype), window_1d, options);
}

at::Tensor ssim(const at::Tensor& x, const at::Tensor& y, const SsimOptions& options) {
  check_options(options);
  check_pair(x, y, options);
  const auto dtype = compute_dtype(x);
  const auto window_1d = cached_window(options, x.device(), dtype);
  const int64_t n = x.size(0);
  const int64_t per_image = 5 * x.size(1) * x.size(2) * x.size(3);
  const int64_t chunk = std::max<int64_t>(1, kMaxStackedElements / std::max<int64_t>(1, per_image));
  if (n <= chunk) return map_of_chunk(x.to(dtype), y.to(dtype), window_1d, options).mean({1, 2, 3});
  std::vector<at::Tensor> parts;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    parts.push_back(
        map_of_chunk(x.narrow(0, start, len).to(dtype), y.narrow(0, start, len).to(dtype), window_1d, options)
            .mean({1, 2, 3}));
  }
  return at::cat(parts, 0);
}

}  // namespace partplan::metrics
