// OpenCV decoding, resizing and channel conversion for the image sources. The channel order
// inside partplan is RGB; OpenCV's BGR never leaves this file.
#include "src/data/image_ops.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace partplan::data::detail {
namespace {

// Any decoded Mat to 1 (gray) or 3 (RGB) channels, depth unchanged.
cv::Mat to_gray_or_rgb(const cv::Mat& m) {
  cv::Mat out;
  switch (m.channels()) {
    case 1:
      return m;
    case 2: {  // gray + alpha
      std::vector<cv::Mat> planes;
      cv::split(m, planes);
      return planes[0];
    }
    case 3:
      cv::cvtColor(m, out, cv::COLOR_BGR2RGB);
      return out;
    case 4:
      cv::cvtColor(m, out, cv::COLOR_BGRA2RGB);
      return out;
    default:
      return {};
  }
}

cv::Mat decode_any(const std::string& bytes, std::string* why) {
  if (bytes.empty()) {
    if (why) *why = "empty file";
    return {};
  }
  cv::Mat raw;
  try {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    raw = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    if (why) *why = "not a decodable image (" + std::string(e.what()).substr(0, 80) + ")";
    return {};
  }
  if (raw.empty()) {
    if (why) *why = "not a decodable image (corrupt or unsupported format)";
    return {};
  }
  cv::Mat m = to_gray_or_rgb(raw);
  if (m.empty() && why) *why = "unsupported channel count " + std::to_string(raw.channels());
  return m;
}

}  // namespace

cv::Mat decode_8bit(const std::string& bytes, std::string* why) {
  cv::Mat m = decode_any(bytes, why);
  if (m.empty() || m.depth() == CV_8U) return m;
  cv::Mat out;
  switch (m.depth()) {
    case CV_16U:
      m.convertTo(out, CV_8U, 1.0 / 257.0);
      break;
    case CV_32F:
    case CV_64F:
      m.convertTo(out, CV_8U, 255.0);
      break;  // saturating: clips to [0,255]
    default:
      m.convertTo(out, CV_8U);
      break;
  }
  return out;
}

cv::Mat decode_unit(const std::string& bytes, std::string* why) {
  cv::Mat m = decode_any(bytes, why);
  if (m.empty()) return m;
  cv::Mat out;
  switch (m.depth()) {
    case CV_8U:
      m.convertTo(out, CV_32F, 1.0 / 255.0);
      break;
    case CV_16U:
      m.convertTo(out, CV_32F, 1.0 / 65535.0);
      break;
    default:
      m.convertTo(out, CV_32F);
      break;
  }
  return out;
}

cv::Mat convert_channels(const cv::Mat& image, int channels) {
  if (image.channels() == channels) return image;
  cv::Mat out;
  if (channels == 1 && image.channels() == 3)
    cv::cvtColor(image, out, cv::COLOR_RGB2GRAY);
  else if (channels == 3 && image.channels() == 1)
    cv::cvtColor(image, out, cv::COLOR_GRAY2RGB);
  else
    throw std::invalid_argument("convert_channels: unsupported " + std::to_string(image.channels()) + " -> " +
                                std::to_string(channels));
  return out;
}

cv::Mat resize_exact(const cv::Mat& image, int channels, int height, int width) {
  cv::Mat out = image;
  if (image.rows != height || image.cols != width) {
    const bool shrinking = height * width < image.rows * image.cols;
    cv::resize(image, out, cv::Size(width, height), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  return convert_channels(out, channels);
}

cv::Mat fit_cover_crop(const cv::Mat& image, int channels, int height, int width) {
  cv::Mat out = image;
  if (image.rows != height || image.cols != width) {
    const double scale = std::max(static_cast<double>(height) / image.rows, static_cast<double>(width) / image.cols);
    // Round, but never below the target, so the crop below always fits.
    const int rh = std::max(height, static_cast<int>(std::lround(image.rows * scale)));
    const int rw = std::max(width, static_cast<int>(std::lround(image.cols * scale)));
    cv::Mat resized = image;
    if (rh != image.rows || rw != image.cols)
      cv::resize(image, resized, cv::Size(rw, rh), 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    const int top = (rh - height) / 2;
    const int left = (rw - width) / 2;
    out = resized(cv::Rect(left, top, width, height)).clone();
  }
  return convert_channels(out, channels);
}

void copy_planar(const cv::Mat& image, void* dst) {
  const int c = image.channels();
  const size_t elem = image.elemSize1();
  const cv::Mat m = image.isContinuous() ? image : image.clone();
  const auto* src = m.ptr<unsigned char>();
  auto* out = static_cast<unsigned char*>(dst);
  const size_t plane = static_cast<size_t>(m.rows) * m.cols;
  for (size_t p = 0; p < plane; ++p)
    for (int ch = 0; ch < c; ++ch) std::memcpy(out + (ch * plane + p) * elem, src + (p * c + ch) * elem, elem);
}

}  // namespace partplan::data::detail
