// PNG strips of image batches (png.hpp).
#include "partplan/report/png.hpp"

#include <fmt/format.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "partplan/common/error.hpp"

namespace partplan::report {

std::vector<uint8_t> encode_png_strip(const common::Image8& im) {
  if (im.c != 1 && im.c != 3) throw UsageError(fmt::format("a PNG strip needs 1 or 3 channels, got {}", im.c));
  const int rows = static_cast<int>(im.h), cols = static_cast<int>(im.n * im.w);
  cv::Mat m(rows, cols, im.c == 3 ? CV_8UC3 : CV_8UC1);
  const int64_t plane = im.h * im.w;
  for (int64_t i = 0; i < im.n; ++i)
    for (int64_t y = 0; y < im.h; ++y)
      for (int64_t x = 0; x < im.w; ++x)
        for (int64_t ch = 0; ch < im.c; ++ch) {
          // Image8 is NCHW RGB; OpenCV is interleaved BGR.
          const auto v = im.pixels[static_cast<size_t>(i * im.c * plane + ch * plane + y * im.w + x)];
          const auto col = static_cast<int>(i * im.w + x);
          if (im.c == 1)
            m.at<uint8_t>(static_cast<int>(y), col) = v;
          else
            m.at<cv::Vec3b>(static_cast<int>(y), col)[static_cast<int>(2 - ch)] = v;
        }
  std::vector<uint8_t> out;
  if (!cv::imencode(".png", m, out)) throw IoError("cannot encode reconstructions as PNG");
  return out;
}

common::Image8 decode_png_strip(const std::vector<uint8_t>& png, int64_t n, int64_t c, int64_t h, int64_t w) {
  const cv::Mat m = cv::imdecode(png, c == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  if (m.empty() || m.rows != h || m.cols != n * w)
    throw DataError(fmt::format("not a PNG strip of {} images of {}x{}x{}", n, c, h, w));
  common::Image8 im;
  im.n = n;
  im.c = c;
  im.h = h;
  im.w = w;
  im.pixels.resize(static_cast<size_t>(n * c * h * w));
  const int64_t plane = h * w;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < c; ++ch) {
          const auto col = static_cast<int>(i * w + x);
          im.pixels[static_cast<size_t>(i * c * plane + ch * plane + y * w + x)] =
              c == 1 ? m.at<uint8_t>(static_cast<int>(y), col)
                     : m.at<cv::Vec3b>(static_cast<int>(y), col)[static_cast<int>(2 - ch)];
        }
  return im;
}

}  // namespace partplan::report
