// The opencv backend of imaging (PARTPLAN_IMAGE_BACKEND=opencv, the default): every
// operation is the cv:: call partplan made before imaging existed, with the same flags, so
// decoded pixels, resized pixels and drawn PNGs are OpenCV's. partplan's images are RGB;
// OpenCV's BGR order never leaves this file (drawing on an RGB Mat with RGB colours gives the
// same pixels, since every drawing call treats channels alike).
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/imaging/canvas.hpp"
#include "partplan/imaging/image.hpp"
#include "src/imaging/portable.hpp"

namespace partplan::imaging {
namespace {

const char* const kRemedy = "re-export it as PNG or JPEG";

template <typename T>
constexpr int cv_depth() {
  return std::is_same_v<T, uint8_t> ? CV_8U : CV_32F;
}

// A Mat over the image's pixels, no copy.
template <typename T>
cv::Mat wrap(const Image<T>& im) {
  return cv::Mat(im.height, im.width, CV_MAKETYPE(cv_depth<T>(), im.channels), const_cast<T*>(im.pixels.data()));
}

template <typename T>
Image<T> copy_out(const cv::Mat& m) {
  Image<T> out(m.rows, m.cols, m.channels());
  const size_t row = static_cast<size_t>(m.cols) * static_cast<size_t>(m.channels());
  for (int y = 0; y < m.rows; ++y) std::memcpy(&out.pixels[out.index(y, 0)], m.ptr<T>(y), row * sizeof(T));
  return out;
}

// Any decoded Mat to 1 (gray) or 3 (RGB) channels, depth unchanged; empty on others.
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

cv::Mat decode_any(std::string_view bytes, const std::string& name) {
  if (bytes.empty()) throw DecodeError(name, "an empty file", kRemedy);
  portable::check_declared_size(bytes, name, kRemedy);  // before OpenCV allocates what a header claims
  cv::Mat raw;
  // libpng and libjpeg print their own warnings and errors to stderr ("libpng error: Read
  // Error"): kept off it, the first such line becomes part of partplan's one message.
  std::string chatter;
  try {
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    chatter = log::capture_stderr([&] { raw = cv::imdecode(buf, cv::IMREAD_UNCHANGED); });
  } catch (const cv::Exception& e) {
    throw DecodeError(name, "not a decodable image (" + first_line(e.what()).substr(0, 80) + ")", kRemedy);
  }
  const std::string codec = first_line(chatter).substr(0, 80);
  if (raw.empty())
    throw DecodeError(name,
                      "not a decodable image (" + (codec.empty() ? "corrupt or unsupported format" : codec) + ")",
                      kRemedy);
  if (!codec.empty()) log::debug("{}: the decoder said: {}", name, codec);
  cv::Mat m = to_gray_or_rgb(raw);
  if (m.empty()) throw DecodeError(name, "an image with an unsupported channel count " + std::to_string(raw.channels()), kRemedy);
  return m;
}

std::string lower_extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

void check_encodable(const ImageU8& image, const std::string& what) {
  if (image.empty() || (image.channels != 1 && image.channels != 3))
    throw UsageError("cannot encode " + what + ": expected a non-empty image of 1 or 3 channels, got " +
                     std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                     std::to_string(image.channels));
}

// RGB -> BGR for OpenCV's encoders; gray as is.
cv::Mat encoder_input(const ImageU8& image) {
  cv::Mat m = wrap(image);
  if (image.channels == 3) {
    cv::Mat bgr;
    cv::cvtColor(m, bgr, cv::COLOR_RGB2BGR);
    return bgr;
  }
  return m;
}

cv::Scalar colour(Rgb c) { return cv::Scalar(c.r, c.g, c.b); }
cv::Point point(Point p) { return {p.x, p.y}; }

}  // namespace

ImageU8 decode_u8(std::string_view bytes, const std::string& name) {
  const cv::Mat m = decode_any(bytes, name);
  if (m.depth() == CV_8U) return copy_out<uint8_t>(m);
  cv::Mat out;
  switch (m.depth()) {
    case CV_16U:
      m.convertTo(out, CV_8U, 1.0 / 257.0);
      break;
    case CV_32F:
    case CV_64F:
      m.convertTo(out, CV_8U, 255.0);  // saturating: clips to [0, 255]
      break;
    default:
      m.convertTo(out, CV_8U);
      break;
  }
  return copy_out<uint8_t>(out);
}

ImageF32 decode_unit(std::string_view bytes, const std::string& name) {
  const cv::Mat m = decode_any(bytes, name);
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
  return copy_out<float>(out);
}

std::vector<uint8_t> encode_png(const ImageU8& image) {
  check_encodable(image, "a PNG");
  std::vector<uint8_t> out;
  if (!cv::imencode(".png", encoder_input(image), out)) throw IoError("cannot encode an image as PNG: OpenCV's encoder failed");
  return out;
}

std::vector<uint8_t> encode_as(const ImageU8& image, const std::string& path) {
  const std::string ext = lower_extension(path);
  static const char* const kWritable[] = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"};
  if (std::find(std::begin(kWritable), std::end(kWritable), ext) == std::end(kWritable))
    throw DataError("cannot write '" + path + "': unknown image extension; use .png, .jpg, .bmp, .webp or .tiff");
  check_encodable(image, "'" + path + "'");
  std::vector<uint8_t> out;
  bool ok = false;
  try {
    ok = cv::imencode(ext, encoder_input(image), out);
  } catch (const cv::Exception& e) {
    throw DataError("cannot encode '" + path + "': " + first_line(e.what()));
  }
  if (!ok) throw DataError("cannot encode '" + path + "' as " + ext + ": this OpenCV build lacks the codec; use .png");
  return out;
}

template <typename T>
Image<T> resize(const Image<T>& image, int height, int width, Interpolation how) {
  if (image.empty() || height < 1 || width < 1)
    throw std::invalid_argument("resize: needs a non-empty image and a target of at least 1x1, got " +
                                std::to_string(height) + "x" + std::to_string(width));
  if (image.height == height && image.width == width) return image;
  const int flag = how == Interpolation::kNearest ? cv::INTER_NEAREST
                   : how == Interpolation::kArea  ? cv::INTER_AREA
                                                  : cv::INTER_LINEAR;
  cv::Mat out;
  cv::resize(wrap(image), out, cv::Size(width, height), 0, 0, flag);
  return copy_out<T>(out);
}

template <typename T>
Image<T> convert_channels(const Image<T>& image, int channels) {
  if (image.channels == channels) return image;
  cv::Mat out;
  if (channels == 1 && image.channels == 3)
    cv::cvtColor(wrap(image), out, cv::COLOR_RGB2GRAY);
  else if (channels == 3 && image.channels == 1)
    cv::cvtColor(wrap(image), out, cv::COLOR_GRAY2RGB);
  else
    throw std::invalid_argument("convert_channels: unsupported " + std::to_string(image.channels) + " -> " +
                                std::to_string(channels) + " channels");
  return copy_out<T>(out);
}

template Image<uint8_t> resize(const Image<uint8_t>&, int, int, Interpolation);
template Image<float> resize(const Image<float>&, int, int, Interpolation);
template Image<uint8_t> convert_channels(const Image<uint8_t>&, int);
template Image<float> convert_channels(const Image<float>&, int);

// Canvas drawing: cv:: calls on the RGB pixels.

void Canvas::line(Point from, Point to, Rgb color, int thickness, bool antialiased) {
  cv::Mat m = wrap(image_);
  cv::line(m, point(from), point(to), colour(color), std::max(1, thickness), antialiased ? cv::LINE_AA : cv::LINE_8);
}

void Canvas::rectangle(Point a, Point b, Rgb color) {
  cv::Mat m = wrap(image_);
  cv::rectangle(m, point(a), point(b), colour(color));
}

void Canvas::circle(Point centre, int radius, Rgb color, bool filled, bool antialiased) {
  cv::Mat m = wrap(image_);
  cv::circle(m, point(centre), radius, colour(color), filled ? cv::FILLED : 1, antialiased ? cv::LINE_AA : cv::LINE_8);
}

void Canvas::text(const std::string& text, Point origin, double scale, Rgb color) {
  cv::Mat m = wrap(image_);
  cv::putText(m, text, point(origin), cv::FONT_HERSHEY_SIMPLEX, scale, colour(color), 1, cv::LINE_AA);
}

TextSize Canvas::text_size(const std::string& text, double scale) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  return {size.width, size.height, baseline};
}

}  // namespace partplan::imaging
