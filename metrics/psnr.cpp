// Batched PSNR on LibTorch with the documented cap (options.hpp, docs/metrics.md).
#include "partplan/metrics/psnr.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "partplan/common/error.hpp"
#include "partplan/common/shape.hpp"

namespace partplan::metrics {

PsnrResult psnr(const at::Tensor& x, const at::Tensor& y, double data_range) {
  if (!(data_range > 0.0) || !std::isfinite(data_range))
    throw UsageError(fmt::format("PSNR data range {} is invalid: use 1 for images in [0,1]", data_range));
  if (!x.defined() || !y.defined()) throw std::invalid_argument("psnr: undefined tensor");
  if (x.dim() < 2 || y.dim() < 2)
    throw std::invalid_argument("psnr expects [N,...] batches with at least one value per image");
  if (!x.is_floating_point() || !y.is_floating_point())
    throw std::invalid_argument("psnr expects floating tensors; convert uint8 images with /255");
  if (x.device() != y.device())
    throw std::invalid_argument(
        fmt::format("psnr: tensors on different devices ({} and {})", x.device().str(), y.device().str()));
  if (x.sizes() != y.sizes())
    throw DataError(fmt::format("PSNR needs two batches of one shape, got {} and {}",
                                common::format_shape(x.sizes().vec()), common::format_shape(y.sizes().vec())));

  const auto dtype = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const auto diff = x.to(dtype) - y.to(dtype);
  PsnrResult r;
  r.mse = (diff * diff).flatten(1).mean(1);
  // The MSE at which PSNR reaches the cap; at or below it (0 included) the pair is capped.
  const double cap_mse = data_range * data_range * std::pow(10.0, -kPsnrCapDb / 10.0);
  r.capped = r.mse <= cap_mse;
  const auto db = 10.0 * at::log10((data_range * data_range) / r.mse.clamp_min(cap_mse));
  r.psnr_db = at::where(r.capped, at::full_like(db, kPsnrCapDb), db);
  return r;
}

}  // namespace partplan::metrics
