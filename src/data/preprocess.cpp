// Pixel space <-> model input space (preprocess.hpp).
#include "partplan/data/preprocess.hpp"
#include "partplan/data/splits.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "partplan/common/error.hpp"
#include "partplan/common/shape.hpp"

namespace partplan::data {

Preprocess preprocess_for(const SampleShape& model_sample, const DataOptions& d) {
  const int64_t channels = model_sample.size() == 3 ? model_sample[0] : 1;
  auto pre = Preprocess::defaults_for_channels(channels);
  pre.pixel_min = d.pixel_min;
  pre.pixel_max = d.pixel_max;
  if (!d.mean.empty()) pre.mean = d.mean;
  if (!d.std.empty()) pre.std = d.std;
  pre.validate(channels);
  return pre;
}
namespace {

// Per-channel values broadcastable against [N,C,...]: shape [1,C,1,...] (or [1] for one value).
at::Tensor per_channel(const std::vector<double>& v, double fallback, const at::Tensor& like) {
  if (v.empty()) return at::full({1}, fallback, like.options());
  auto t = at::tensor(v, at::TensorOptions().dtype(at::kDouble)).to(like.options());
  if (v.size() == 1 || like.dim() < 2) return t;
  std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
  shape[1] = static_cast<int64_t>(v.size());
  return t.view(shape);
}

int64_t channels_of(const at::Tensor& t) { return t.dim() >= 3 ? t.size(1) : 1; }

at::Tensor reshaped(const at::Tensor& t, const SampleShape& sample_shape) {
  if (sample_shape.empty()) return t;
  std::vector<int64_t> shape{t.size(0)};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  if (common::numel(sample_shape) * t.size(0) != t.numel())
    throw DataError(fmt::format("cannot reshape samples {} to the model's per-sample shape {}: element counts differ",
                                common::format_shape(t.sizes().vec()), common::format_shape(sample_shape)));
  return t.reshape(shape);
}

}  // namespace

Preprocess Preprocess::defaults_for_channels(int64_t channels) {
  Preprocess p;
  if (channels == 3) {
    p.mean.assign(kImageNetMean.begin(), kImageNetMean.end());
    p.std.assign(kImageNetStd.begin(), kImageNetStd.end());
  }
  return p;
}

void Preprocess::validate(int64_t channels) const {
  if (!std::isfinite(pixel_min) || !std::isfinite(pixel_max) || pixel_min == pixel_max)
    throw UsageError(fmt::format("pixel range [{}, {}] is invalid: give two different finite values, e.g. 0,1 or 0,255",
                                 pixel_min, pixel_max));
  auto check = [&](const std::vector<double>& v, const char* name, bool positive) {
    if (!v.empty() && v.size() != 1 && static_cast<int64_t>(v.size()) != channels)
      throw UsageError(fmt::format("normalisation {} has {} values but the model input has {} channels: give 1 or {}",
                                   name, v.size(), channels, channels));
    for (double x : v)
      if (!std::isfinite(x) || (positive && !(x > 0)))
        throw UsageError(
            fmt::format("normalisation {} value {} is invalid{}", name, x, positive ? ": it must be positive" : ""));
  };
  check(mean, "mean", false);
  check(std, "std", true);
}

at::Tensor to_unit(const at::Tensor& samples) {
  if (samples.scalar_type() == at::kByte) return samples.to(at::kFloat).div_(255.0);
  if (samples.is_floating_point()) return samples.to(at::kFloat);
  throw std::invalid_argument("to_unit: samples must be uint8 or floating");
}

ModelInput::ModelInput(Preprocess preprocess, SampleShape model_sample_shape)
    : p_(std::move(preprocess)), shape_(std::move(model_sample_shape)) {}

at::Tensor ModelInput::operator()(const at::Tensor& unit) const {
  const int64_t channels = channels_of(unit);
  if (channels != checked_channels_) {
    p_.validate(channels);
    checked_channels_ = channels;
  }
  // The constants are made once per device, dtype and rank, not on every call.
  for (const auto& c : cache_)
    if (c.device == unit.device() && c.dim == unit.dim()) return apply(unit, c.mean, c.std);
  Constants c{unit.device(), unit.dim(), {}, {}};
  const auto probe = at::empty(std::vector<int64_t>(static_cast<size_t>(unit.dim()), 1), unit.options().dtype(at::kFloat));
  c.mean = per_channel(p_.mean, 0.0, probe);
  c.std = per_channel(p_.std, 1.0, probe);
  cache_.push_back(c);
  return apply(unit, c.mean, c.std);
}

at::Tensor ModelInput::apply(const at::Tensor& unit, const at::Tensor& mean, const at::Tensor& std) const {
  auto v = unit.to(at::kFloat) * (p_.pixel_max - p_.pixel_min) + p_.pixel_min;
  v = (v - mean) / std;
  return reshaped(v, shape_);
}

at::Tensor to_model_input(const at::Tensor& unit, const Preprocess& p, const SampleShape& model_sample_shape) {
  return ModelInput(p, model_sample_shape)(unit);
}

at::Tensor from_model_input(const at::Tensor& input, const Preprocess& p, const SampleShape& image_shape) {
  auto x = reshaped(input.to(at::kFloat), image_shape);
  p.validate(channels_of(x));
  x = x * per_channel(p.std, 1.0, x) + per_channel(p.mean, 0.0, x);
  return (x - p.pixel_min) / (p.pixel_max - p.pixel_min);
}

at::Tensor gather_unit(const Dataset& d, const std::vector<int64_t>& indices) {
  const int64_t n = d.size();
  for (int64_t i : indices)
    if (i < 0 || i >= n) throw std::out_of_range(fmt::format("gather_unit: index {} outside [0, {})", i, n));
  const auto idx = at::tensor(indices, at::TensorOptions().dtype(at::kLong));
  return to_unit(d.samples.index_select(0, idx));
}

at::Tensor augment_params(int64_t n, uint64_t seed) {
  SplitMix64 rng(seed);
  auto uniform = [&rng]() { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; };
  auto th = at::empty({n, 2, 3}, at::kFloat);
  float* theta = th.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const double area = 0.6 + 0.4 * uniform();
    const double aspect = std::exp(std::log(0.75) + (std::log(4.0 / 3.0) - std::log(0.75)) * uniform());
    const double cw = std::min(1.0, std::sqrt(area * aspect)), ch = std::min(1.0, std::sqrt(area / aspect));
    const double tx = (1 - cw) * (2 * uniform() - 1), ty = (1 - ch) * (2 * uniform() - 1);
    const double flip = uniform() < 0.5 ? -1.0 : 1.0;
    // Output coordinates in [-1,1] map to input x = flip*cw*x' + tx, y = ch*y' + ty.
    float* t = theta + i * 6;
    t[0] = static_cast<float>(flip * cw), t[1] = 0, t[2] = static_cast<float>(tx);
    t[3] = 0, t[4] = static_cast<float>(ch), t[5] = static_cast<float>(ty);
  }
  return th;
}

at::Tensor augment_with(const at::Tensor& images, const at::Tensor& theta) {
  if (images.dim() != 4) throw std::invalid_argument("augment_with: images must be [N,C,H,W]");
  if (theta.dim() != 3 || theta.size(0) != images.size(0) || theta.size(1) != 2 || theta.size(2) != 3)
    throw std::invalid_argument("augment_with: theta must be [N,2,3] for N images");
  auto grid = at::affine_grid_generator(theta.to(images.device(), at::kFloat), images.sizes(), /*align_corners=*/false);
  return at::grid_sampler(images.to(at::kFloat), grid, /*interpolation_mode=*/0, /*padding_mode=*/1,
                          /*align_corners=*/false)
      .clamp(0, 1);
}

at::Tensor augment_crops_flips(const at::Tensor& images, uint64_t seed) {
  if (images.dim() != 4) throw std::invalid_argument("augment_crops_flips: images must be [N,C,H,W]");
  return augment_with(images, augment_params(images.size(0), seed));
}

}  // namespace partplan::data
