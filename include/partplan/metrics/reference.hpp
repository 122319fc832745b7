#pragma once
// Slow, obviously correct references for the metrics: plain loops in double precision over
// host vectors, written straight from the definitions (Wang et al. 2004, eq. 13 with the
// Gaussian-weighted statistics of section III.C). Tests check the LibTorch fast paths against
// them on tiny inputs; nothing else should call them. Torch-free.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "partplan/metrics/options.hpp"

namespace partplan::metrics::reference {

/// A batch of images on the host, row-major [N,C,H,W]: value(n,c,i,j) =
/// values[((n*C + c)*H + i)*W + j].
struct HostImages {
  int64_t n = 0, c = 0, h = 0, w = 0;
  std::vector<double> values;
  double at(int64_t in, int64_t ic, int64_t i, int64_t j) const {
    return values[static_cast<size_t>(((in * c + ic) * h + i) * w + j)];
  }
};

/// Per-image SSIM: for every position where the window lies fully inside the image, the
/// Gaussian-weighted means, population variances and covariance of the two windows (two-pass,
/// about the weighted mean), the SSIM formula, then the mean over positions and channels.
/// Throws std::invalid_argument on shape mismatch or an image smaller than the window.
std::vector<double> ssim(const HostImages& x, const HostImages& y, const SsimOptions& options = {});

/// Per-image PSNR in dB with the kPsnrCapDb cap; `capped[i]` tells which were capped.
std::vector<double> psnr_db(const HostImages& x, const HostImages& y, std::vector<bool>* capped = nullptr,
                            double data_range = 1.0);

}  // namespace partplan::metrics::reference
