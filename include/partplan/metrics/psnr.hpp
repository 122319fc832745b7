#pragma once
// PSNR as a batched LibTorch op; see docs/metrics.md.

#include <ATen/core/Tensor.h>

#include "partplan/metrics/options.hpp"

namespace partplan::metrics {

/// Per-image PSNR with the cap applied.
struct PsnrResult {
  at::Tensor psnr_db;  ///< [N]: 10*log10(data_range^2 / MSE), at most kPsnrCapDb
  at::Tensor capped;   ///< [N] bool: true where the pair was identical or above the cap
  at::Tensor mse;      ///< [N]: mean squared error over C, H, W (not capped)
};

/// PSNR in dB of two batches, per image.
/// x, y: [N,...] (any rank >= 2, usually [N,C,H,W]), identical shapes, floating dtype, same
/// device, values on a scale of `data_range` (1 for [0,1] images).
/// Returns tensors on x's device; psnr_db and mse are float64 when x is float64, else float32.
/// A pair whose PSNR would exceed kPsnrCapDb (an identical pair: MSE = 0) gets exactly
/// kPsnrCapDb and capped = true, so the result is always finite.
/// Throws DataError when the shapes differ, UsageError on data_range <= 0, and
/// std::invalid_argument on a non-floating dtype, rank < 2 or mixed devices.
PsnrResult psnr(const at::Tensor& x, const at::Tensor& y, double data_range = 1.0);

}  // namespace partplan::metrics
