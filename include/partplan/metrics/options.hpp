#pragma once
// Parameters of the reconstruction metrics, shared by the LibTorch fast paths (ssim.hpp,
// psnr.hpp) and the plain-loop references (reference.hpp). Torch-free.

#include <cstdint>
#include <optional>
#include <string>

#include "partplan/metrics/stats.hpp"

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

/// What one feature of an encoded record is, for scoring (docs/metrics.md, "Records").
struct RecordField {
  std::string name;
  bool categorical = false;  ///< ip and categorical columns: the value k/(K-1) encodes category k
  int64_t categories = 0;    ///< K, categorical fields only
  bool constant = false;     ///< one value in the data: carries nothing, left out of the field measures
};

/// Settings of the record measures (`records.*`).
struct RecordOptions {
  /// A numeric field counts as recovered when its error is at most this share of the field's
  /// range (the encoded [0,1] scale).
  double tolerance = 0.05;
};

template <class V>
void visit(RecordOptions& o, V&& v) {
  v("tolerance", o.tolerance, 0.0, 1.0);
}

/// An attacker's (or a guess's) record measures on eval, each a mean with its 95% CI over the
/// records scored (re-identification, a share: the Wilson interval, metrics::share_ci). A
/// field measure is unset when the record has no field of that kind.
struct RecordScores {
  /// The headline: the share of scored records whose reconstruction is nearer to its own
  /// record than to every other eval record (chance: 1 / eval records).
  MeanCi reidentification;
  std::optional<MeanCi> numeric_error;         ///< mean |error| / field range over numeric fields
  std::optional<MeanCi> numeric_within;        ///< share of numeric fields within the tolerance
  std::optional<MeanCi> categorical_accuracy;  ///< share of categorical fields recovered exactly
};

}  // namespace partplan::metrics
