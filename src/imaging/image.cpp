// The backend-independent half of imaging (image.hpp, canvas.hpp): the image type, errors,
// crops, rotation, planar copies, the resize policies and the Canvas's storage. Decoding,
// encoding, resampling and drawing are in opencv_backend.cpp or stb_backend.cpp, whichever
// PARTPLAN_IMAGE_BACKEND compiles.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "partplan/imaging/canvas.hpp"
#include "partplan/imaging/image.hpp"
#include "src/imaging/portable.hpp"

namespace partplan::imaging {
namespace {

std::string size_text(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

}  // namespace

template <typename T>
Image<T>::Image(int h, int w, int c, T fill) : height(h), width(w), channels(c) {
  if (h < 0 || w < 0 || c < 1 || c > 4)
    throw std::invalid_argument("Image: size " + size_text(w, h) + " with " + std::to_string(c) +
                                " channels; expected a non-negative size and 1 to 4 channels");
  pixels.assign(static_cast<size_t>(h) * static_cast<size_t>(w) * static_cast<size_t>(c), fill);
}

namespace portable {
namespace {

uint32_t be(std::string_view b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}
uint32_t le(std::string_view b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}

// PGM/PPM: "P2".."P6", then width and height as decimal tokens, with # comments.
std::optional<std::pair<int64_t, int64_t>> pnm_size(std::string_view b) {
  size_t i = 2;
  int64_t v[2];
  for (auto& out : v) {
    for (;;) {  // whitespace and comments
      while (i < b.size() && std::isspace(static_cast<unsigned char>(b[i]))) ++i;
      if (i < b.size() && b[i] == '#') {
        while (i < b.size() && b[i] != '\n') ++i;
        continue;
      }
      break;
    }
    if (i >= b.size() || !std::isdigit(static_cast<unsigned char>(b[i]))) return std::nullopt;
    out = 0;
    while (i < b.size() && std::isdigit(static_cast<unsigned char>(b[i])) && out < (int64_t{1} << 40))
      out = out * 10 + (b[i++] - '0');
  }
  return std::make_pair(v[0], v[1]);
}

}  // namespace

std::optional<std::pair<int64_t, int64_t>> declared_size(std::string_view b) {
  using Size = std::pair<int64_t, int64_t>;
  if (b.size() >= 24 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8) && b.substr(12, 4) == "IHDR")
    return Size{be(b, 16, 4), be(b, 20, 4)};
  if (b.size() >= 4 && static_cast<unsigned char>(b[0]) == 0xFF && static_cast<unsigned char>(b[1]) == 0xD8) {
    size_t at = 2;
    while (at + 4 <= b.size()) {
      if (static_cast<unsigned char>(b[at]) != 0xFF) {  // bytes between segments: libjpeg skips them too
        ++at;
        continue;
      }
      const auto marker = static_cast<unsigned char>(b[at + 1]);
      if (marker == 0xFF) {  // fill byte
        ++at;
        continue;
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // no length
        at += 2;
        continue;
      }
      const uint32_t length = be(b, at + 2, 2);
      const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        if (at + 9 > b.size()) return std::nullopt;
        return Size{be(b, at + 7, 2), be(b, at + 5, 2)};
      }
      if (marker == 0xDA || marker == 0xD9 || length < 2) return std::nullopt;  // scan before any frame header
      at += 2 + length;
    }
    return std::nullopt;
  }
  if (b.size() >= 26 && b.substr(0, 2) == "BM") {
    const auto w = static_cast<int32_t>(le(b, 18, 4)), h = static_cast<int32_t>(le(b, 22, 4));
    return Size{w, h == INT32_MIN ? int64_t{1} << 31 : std::abs(static_cast<int64_t>(h))};
  }
  if (b.size() >= 30 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
    const auto chunk = b.substr(12, 4);
    if (chunk == "VP8 ") return Size{le(b, 26, 2) & 0x3FFF, le(b, 28, 2) & 0x3FFF};
    if (chunk == "VP8L") {
      const uint32_t bits = le(b, 21, 4);
      return Size{(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
    }
    if (chunk == "VP8X") return Size{int64_t{le(b, 24, 3)} + 1, int64_t{le(b, 27, 3)} + 1};
    return std::nullopt;
  }
  if (b.size() >= 3 && b[0] == 'P' && b[1] >= '2' && b[1] <= '6') return pnm_size(b);
  return std::nullopt;
}

void check_declared_size(std::string_view bytes, const std::string& name, const std::string& remedy) {
  const auto size = declared_size(bytes);
  if (!size) return;
  const auto [w, h] = *size;
  if (w < 1 || h < 1)
    throw DecodeError(name, "an image whose header declares " + std::to_string(w) + "x" + std::to_string(h) + " pixels",
                      remedy);
  if (w > kMaxDecodePixels / h)
    throw DecodeError(name,
                      "an image whose header declares " + std::to_string(w) + "x" + std::to_string(h) +
                          " pixels, more than partplan decodes (" + std::to_string(kMaxDecodePixels / 1000000) +
                          " million)",
                      "scale it down before using it");
}

}  // namespace portable

DecodeError::DecodeError(const std::string& name, std::string reason, const std::string& remedy)
    : DataError("'" + name + "' is " + reason + ": " + remedy), reason_(std::move(reason)) {}

template <typename T>
Image<T> resize_to(const Image<T>& image, int channels, int height, int width) {
  if (image.height == height && image.width == width) return convert_channels(image, channels);
  const bool shrinking = static_cast<int64_t>(height) * width < static_cast<int64_t>(image.height) * image.width;
  return convert_channels(resize(image, height, width, shrinking ? Interpolation::kArea : Interpolation::kBilinear),
                          channels);
}

template <typename T>
Image<T> cover_crop(const Image<T>& image, int channels, int height, int width) {
  if (image.height == height && image.width == width) return convert_channels(image, channels);
  if (image.empty() || height < 1 || width < 1)
    throw std::invalid_argument("cover_crop: " + size_text(image.width, image.height) + " to " +
                                size_text(width, height) + ": both must be at least 1x1");
  const double scale = std::max(static_cast<double>(height) / image.height, static_cast<double>(width) / image.width);
  // Round, but never below the target, so that the crop always fits.
  const int rh = std::max(height, static_cast<int>(std::lround(image.height * scale)));
  const int rw = std::max(width, static_cast<int>(std::lround(image.width * scale)));
  const Image<T> resized =
      rh != image.height || rw != image.width
          ? resize(image, rh, rw, scale < 1.0 ? Interpolation::kArea : Interpolation::kBilinear)
          : image;
  return convert_channels(crop(resized, (rw - width) / 2, (rh - height) / 2, width, height), channels);
}

template <typename T>
Image<T> crop(const Image<T>& image, int x, int y, int width, int height) {
  if (width < 1 || height < 1 || x < 0 || y < 0 || x + width > image.width || y + height > image.height)
    throw std::invalid_argument("crop: region " + size_text(width, height) + " at (" + std::to_string(x) + ", " +
                                std::to_string(y) + ") is not inside the " + size_text(image.width, image.height) +
                                " image");
  Image<T> out(height, width, image.channels);
  const size_t row = static_cast<size_t>(width) * static_cast<size_t>(image.channels);
  for (int r = 0; r < height; ++r)
    std::copy_n(&image.pixels[image.index(y + r, x)], row, &out.pixels[out.index(r, 0)]);
  return out;
}

template <typename T>
Image<T> rotate90_ccw(const Image<T>& image) {
  Image<T> out(image.width, image.height, image.channels);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < image.channels; ++c) out.at(image.width - 1 - x, y, c) = image.at(y, x, c);
  return out;
}

template <typename T>
void paste(Image<T>& dst, const Image<T>& src, int x, int y) {
  if (src.channels != dst.channels || x < 0 || y < 0 || x + src.width > dst.width || y + src.height > dst.height)
    throw std::invalid_argument("paste: a " + size_text(src.width, src.height) + "x" + std::to_string(src.channels) +
                                " image at (" + std::to_string(x) + ", " + std::to_string(y) + ") does not fit the " +
                                size_text(dst.width, dst.height) + "x" + std::to_string(dst.channels) + " one");
  const size_t row = static_cast<size_t>(src.width) * static_cast<size_t>(src.channels);
  for (int r = 0; r < src.height; ++r)
    std::copy_n(&src.pixels[src.index(r, 0)], row, &dst.pixels[dst.index(y + r, x)]);
}

template <typename T>
void to_planar(const Image<T>& image, T* dst) {
  const size_t plane = static_cast<size_t>(image.height) * static_cast<size_t>(image.width);
  const int c = image.channels;
  for (size_t p = 0; p < plane; ++p)
    for (int ch = 0; ch < c; ++ch) dst[static_cast<size_t>(ch) * plane + p] = image.pixels[p * c + ch];
}

template <typename T>
Image<T> from_planar(const T* src, int channels, int height, int width) {
  Image<T> out(height, width, channels);
  const size_t plane = static_cast<size_t>(height) * static_cast<size_t>(width);
  for (size_t p = 0; p < plane; ++p)
    for (int ch = 0; ch < channels; ++ch) out.pixels[p * channels + ch] = src[static_cast<size_t>(ch) * plane + p];
  return out;
}

// Canvas: storage; drawing is the backend's.

Canvas::Canvas(int width, int height, Rgb background) {
  if (width < 1 || height < 1)
    throw std::invalid_argument("Canvas: size " + size_text(width, height) + " must be at least 1x1");
  image_ = ImageU8(height, width, 3);
  for (size_t p = 0; p < image_.pixels.size(); p += 3) {
    image_.pixels[p] = background.r;
    image_.pixels[p + 1] = background.g;
    image_.pixels[p + 2] = background.b;
  }
}

void Canvas::paste(const ImageU8& rgb, Point top_left) { imaging::paste(image_, rgb, top_left.x, top_left.y); }

std::vector<uint8_t> Canvas::encode_png() const { return imaging::encode_png(image_); }

#define PARTPLAN_IMAGING_INSTANTIATE(T)                                          \
  template struct Image<T>;                                                      \
  template Image<T> resize_to(const Image<T>&, int, int, int);                   \
  template Image<T> cover_crop(const Image<T>&, int, int, int);                  \
  template Image<T> crop(const Image<T>&, int, int, int, int);                   \
  template Image<T> rotate90_ccw(const Image<T>&);                               \
  template void paste(Image<T>&, const Image<T>&, int, int);                     \
  template void to_planar(const Image<T>&, T*);                                  \
  template Image<T> from_planar(const T*, int, int, int);
PARTPLAN_IMAGING_INSTANTIATE(uint8_t)
PARTPLAN_IMAGING_INSTANTIATE(float)
#undef PARTPLAN_IMAGING_INSTANTIATE

}  // namespace partplan::imaging
