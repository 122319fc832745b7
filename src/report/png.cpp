// PNG strips of image batches (png.hpp), encoded and decoded through imaging/.
#include "partplan/report/png.hpp"

#include <fmt/format.h>

#include "partplan/common/error.hpp"
#include "partplan/imaging/image.hpp"

namespace partplan::report {

std::vector<uint8_t> encode_png_strip(const common::Image8& im) {
  if (im.c != 1 && im.c != 3) throw UsageError(fmt::format("a PNG strip needs 1 or 3 channels, got {}", im.c));
  imaging::ImageU8 strip(static_cast<int>(im.h), static_cast<int>(im.n * im.w), static_cast<int>(im.c));
  const int64_t plane = im.h * im.w;
  // Image8 is planar NCHW; the strip is interleaved, image i in columns [i w, (i + 1) w).
  for (int64_t i = 0; i < im.n; ++i)
    for (int64_t y = 0; y < im.h; ++y)
      for (int64_t x = 0; x < im.w; ++x)
        for (int64_t ch = 0; ch < im.c; ++ch)
          strip.at(static_cast<int>(y), static_cast<int>(i * im.w + x), static_cast<int>(ch)) =
              im.pixels[static_cast<size_t>(i * im.c * plane + ch * plane + y * im.w + x)];
  try {
    return imaging::encode_png(strip);
  } catch (const Error& e) {
    throw IoError("cannot encode reconstructions as PNG: " + std::string(e.what()));
  }
}

common::Image8 decode_png_strip(const std::vector<uint8_t>& png, int64_t n, int64_t c, int64_t h, int64_t w) {
  const auto fail = [&] { return DataError(fmt::format("not a PNG strip of {} images of {}x{}x{}", n, c, h, w)); };
  imaging::ImageU8 strip;
  try {
    strip = imaging::decode_u8(std::string_view(reinterpret_cast<const char*>(png.data()), png.size()), "PNG strip");
  } catch (const DataError&) {
    throw fail();
  }
  if (strip.height != h || strip.width != n * w || (c != 1 && c != 3)) throw fail();
  if (strip.channels != c) strip = imaging::convert_channels(strip, static_cast<int>(c));
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
        for (int64_t ch = 0; ch < c; ++ch)
          im.pixels[static_cast<size_t>(i * c * plane + ch * plane + y * w + x)] =
              strip.at(static_cast<int>(y), static_cast<int>(i * w + x), static_cast<int>(ch));
  return im;
}

}  // namespace partplan::report
