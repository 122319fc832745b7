#pragma once
// `partplan metrics` as a library call: pair two image files, or two folders by relative path
// without extension (a.png pairs with a.jpg), decode them (src/data) and score each pair with
// SSIM and PSNR (metrics/), then the mean with its 95% CI. Torch-free header, so that any
// front end (the CLI, a service) can call it.

#include <cstdint>
#include <string>
#include <vector>

#include "partplan/common/shape.hpp"
#include "partplan/metrics/stats.hpp"

namespace partplan::pipeline {

/// One scored image pair.
struct PairScore {
  std::string name;  ///< relative path without extension (folders) or the file name
  std::string a_path, b_path;
  common::Shape shape;  ///< C,H,W of A
  double ssim = 0;
  double psnr_db = 0;
  bool psnr_capped = false;
  bool resized = false;  ///< B was resized to A (--resize)
};

struct PairSummary {
  std::string a, b;  ///< the inputs as given
  std::vector<PairScore> pairs;
  metrics::MeanCi ssim, psnr_db;  ///< over pairs
  int64_t psnr_capped = 0;
};

/// Pair and score `a` and `b` (two files or two folders). With `resize`, each B image is
/// resized to its A image's size and channels instead of a size mismatch being an error.
/// Throws IoError (a path missing), UsageError (a file and a folder) and DataError (no images,
/// unpaired or ambiguous names, a size mismatch, images below SSIM's 11x11 window), each
/// naming the paths and what to do.
PairSummary score_image_pairs(const std::string& a, const std::string& b, bool resize);

}  // namespace partplan::pipeline
