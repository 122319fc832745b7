#pragma once
// Parameters of the reconstruction metrics, shared by the LibTorch fast paths (ssim.hpp,
// psnr.hpp) and the plain-loop references (reference.hpp). Torch-free.

namespace partplan::metrics {

/// SSIM parameters. The defaults are scikit-image's (docs/metrics.md)
/// `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
/// data_range=1)`: an 11x11 Gaussian window (sigma 1.5, weights normalised to sum 1),
/// K1 = 0.01, K2 = 0.03, population (not sample) covariance.
struct SsimOptions {
  int window = 11;          ///< odd side of the square window; the Gaussian is truncated to it
  double sigma = 1.5;       ///< Gaussian standard deviation in pixels (> 0)
  double k1 = 0.01;         ///< C1 = (k1 * data_range)^2
  double k2 = 0.03;         ///< C2 = (k2 * data_range)^2
  double data_range = 1.0;  ///< max - min of the pixel scale; 1 for images in [0,1]
};

/// PSNR of an identical (or nearly identical) pair: values above this are reported as this
/// value and flagged `capped`, so that no infinity ever reaches a report or JSON. 100 dB is an
/// MSE of 1e-10 on [0,1]. One pixel off by one 8-bit step scores 99.9 dB in a 224x224x3 image
/// (more pixels, higher), so for 8-bit images up to that size only identical pairs are capped.
inline constexpr double kPsnrCapDb = 100.0;

}  // namespace partplan::metrics
