#pragma once
// SSIM (Wang et al. 2004) as batched LibTorch ops. The maths and its agreement with
// scikit-image and OpenCV are in docs/metrics.md.

#include <ATen/core/Tensor.h>

#include "partplan/metrics/options.hpp"

namespace partplan::metrics {

/// Per-pixel SSIM map of two batches, over the valid region only (window fully inside the
/// image, no padding).
/// x, y: [N,C,H,W], identical shapes, floating dtype, same device, values in
/// [0, options.data_range] (not clipped: values outside give a number that compares with nothing).
/// Returns [N,C,H-w+1,W-w+1] (w = options.window) on x's device; float64 when x is float64,
/// else float32 (half and bfloat16 are computed in float32). Differentiable.
/// Throws DataError when the shapes differ or H or W is smaller than the window (as
/// scikit-image does: there is no valid region), UsageError on invalid options, and
/// std::invalid_argument on a non-floating dtype, a rank other than 4 or mixed devices.
at::Tensor ssim_map(const at::Tensor& x, const at::Tensor& y, const SsimOptions& options = {});

/// Per-image SSIM: the mean of ssim_map over channels and the valid region, as scikit-image's
/// structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
/// data_range=1, channel_axis=0) computes it per image.
/// Same inputs and errors as ssim_map. Returns [N] on x's device, dtype as ssim_map. Values lie
/// in [-1, 1]; 1 for identical images. Large batches are processed in chunks of images so that
/// the temporary maps stay below about 1 GiB.
at::Tensor ssim(const at::Tensor& x, const at::Tensor& y, const SsimOptions& options = {});

/// The normalised 1-D Gaussian window [w] (float64, CPU): exp(-d^2 / (2 sigma^2)) for
/// d = -(w-1)/2 .. (w-1)/2, divided by its sum. The 2-D window is its outer product.
/// Throws UsageError on an even or non-positive window or a non-positive sigma.
at::Tensor gaussian_window(int window, double sigma);

}  // namespace partplan::metrics
