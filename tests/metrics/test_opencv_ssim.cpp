// Live cross-check against OpenCV contrib's cv::quality::QualitySSIM (docs/metrics.md,
// "Agreement with OpenCV"). OpenCV uses the same window, sigma and constants (C1 = 6.5025 and
// C2 = 58.5225 on a 0..255 scale: K1 = 0.01, K2 = 0.03) but filters the whole image with
// BORDER_REFLECT_101 padding and averages the whole map. So:
//   - its map, cropped to our valid region, must equal ours to rounding;
//   - its full-image mean differs from ours only through the border band, which covers a
//     fraction f = 1 - (H-10)(W-10)/(HW) of the map; SSIM lies in [-1, 1], hence
//     |ours - OpenCV| <= 2 f, and in practice far less.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>
#include <opencv2/core.hpp>
#include <opencv2/quality.hpp>

#include <cmath>

#include "fixture_images.hpp"
#include "partplan/metrics/ssim.hpp"
#include "skimage_fixtures.hpp"

namespace pm = partplan::metrics;

namespace {

// Interleaved CV_64FC(C) image on a 0..255 scale from planar [C][H][W] values in [0,1].
cv::Mat to_mat(const at::Tensor& chw01) {
  const auto t = chw01.to(at::kDouble).contiguous();
  const int c = static_cast<int>(t.size(0)), h = static_cast<int>(t.size(1)), w = static_cast<int>(t.size(2));
  cv::Mat m(h, w, CV_64FC(c));
  const double* p = t.data_ptr<double>();
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j)
      for (int k = 0; k < c; ++k) m.ptr<double>(i)[j * c + k] = 255.0 * p[(k * h + i) * w + j];
  return m;
}

struct OpenCvSsim {
  double full_mean = 0;   // QualitySSIM's number: mean over channels of the whole-map means
  double valid_mean = 0;  // its map cropped to the valid region, averaged
};

OpenCvSsim opencv_ssim(const at::Tensor& a, const at::Tensor& b) {
  cv::Mat map;
  const cv::Scalar per_channel = cv::quality::QualitySSIM::compute(to_mat(a), to_mat(b), map);
  const int c = static_cast<int>(a.size(0));
  OpenCvSsim r;
  for (int k = 0; k < c; ++k) r.full_mean += per_channel[k] / c;
  const int pad = 5;
  const cv::Mat valid = map(cv::Rect(pad, pad, map.cols - 2 * pad, map.rows - 2 * pad));
  const cv::Scalar vm = cv::mean(valid);
  for (int k = 0; k < c; ++k) r.valid_mean += vm[k] / c;
  return r;
}

}  // namespace

TEST_CASE("SSIM agrees with OpenCV's QualitySSIM", "[metrics][opencv]") {
  std::vector<std::pair<at::Tensor, at::Tensor>> pairs;
  for (const auto& f : partplan::test::kSkimageFixtures) {
    const auto a = partplan::test::base_image(f.base, f.seed, f.c, f.h, f.w);
    const auto b = partplan::test::distort(a, f.base, f.distortion, f.param, f.seed_b);
    auto ta = at::tensor(std::vector<double>(a.v.begin(), a.v.end())).view({a.c, a.h, a.w}) / 255.0;
    auto tb = at::tensor(std::vector<double>(b.v.begin(), b.v.end())).view({b.c, b.h, b.w}) / 255.0;
    pairs.emplace_back(ta, tb);
  }
  auto gen = at::detail::createCPUGenerator(31);
  for (int i = 0; i < 4; ++i) {
    auto x = at::rand({3, 48, 40}, gen, at::TensorOptions().dtype(at::kDouble));
    auto y = (x + 0.05 * (i + 1) * at::randn({3, 48, 40}, gen, at::TensorOptions().dtype(at::kDouble))).clamp(0, 1);
    pairs.emplace_back(x, y);
  }

  double max_valid = 0, max_full = 0, max_ratio = 0;
  for (const auto& [a, b] : pairs) {
    const double ours = pm::ssim(a.unsqueeze(0), b.unsqueeze(0)).item<double>();
    const auto cv = opencv_ssim(a, b);
    const double h = static_cast<double>(a.size(1)), w = static_cast<double>(a.size(2));
    const double border_fraction = 1.0 - (h - 10) * (w - 10) / (h * w);
    INFO("ours " << ours << ", OpenCV valid-region " << cv.valid_mean << ", OpenCV full " << cv.full_mean
                 << ", border fraction " << border_fraction);
    CHECK(std::fabs(ours - cv.valid_mean) <= 1e-6);
    CHECK(std::fabs(ours - cv.full_mean) <= 2.0 * border_fraction);
    max_valid = std::max(max_valid, std::fabs(ours - cv.valid_mean));
    max_full = std::max(max_full, std::fabs(ours - cv.full_mean));
    max_ratio = std::max(max_ratio, std::fabs(ours - cv.full_mean) / border_fraction);
  }
  INFO("max |ours - OpenCV|: valid region " << max_valid << ", full image " << max_full << ", full / border fraction "
                                            << max_ratio);
  CHECK(max_valid <= 1e-6);
}
