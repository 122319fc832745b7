// OpenCV-compatible resampling and channel conversion, and the Canvas rasteriser, without
// OpenCV (portable.hpp). The resize follows OpenCV 4.6's cv::resize step by step where it
// decides the result: the same source positions (computed in the same float/double types),
// the same weight tables, the same fixed-point rounding for 8-bit images (the vertical pass as
// its SSE2 code rounds it). To extend it (another
// kernel), add a case to resize() and a comparison against OpenCV in tests/data/test_imaging.cpp.
#include "src/imaging/portable.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace partplan::imaging::portable {
namespace {

constexpr int kCoefBits = 11;  // OpenCV's INTER_RESIZE_COEF_BITS
constexpr int kCoefScale = 1 << kCoefBits;

int floor_int(double v) { return static_cast<int>(std::floor(v)); }

// cvRound: to nearest, ties to even (the default floating-point rounding mode).
int round_int(double v) { return static_cast<int>(std::lrint(v)); }

template <typename T>
T saturate(float v) {
  if constexpr (std::is_same_v<T, uint8_t>)
    return static_cast<uint8_t>(std::clamp(static_cast<int>(std::lrintf(v)), 0, 255));
  else
    return v;
}

int16_t saturate16(int v) { return static_cast<int16_t>(std::clamp(v, -32768, 32767)); }

template <typename T>
void check_resize_args(const Image<T>& image, int height, int width) {
  if (image.empty() || image.height < 1 || image.width < 1)
    throw std::invalid_argument("resize: the source image is empty");
  if (height < 1 || width < 1)
    throw std::invalid_argument("resize: target size " + std::to_string(height) + "x" + std::to_string(width) +
                                " must be at least 1x1");
}

template <typename T>
Image<T> resize_nearest(const Image<T>& src, int height, int width, double inv_scale_x, double inv_scale_y) {
  Image<T> out(height, width, src.channels);
  const double ifx = 1. / inv_scale_x, ify = 1. / inv_scale_y;
  std::vector<int> xs(static_cast<size_t>(width));
  for (int x = 0; x < width; ++x) xs[static_cast<size_t>(x)] = std::min(floor_int(x * ifx), src.width - 1);
  for (int y = 0; y < height; ++y) {
    const int sy = std::min(floor_int(y * ify), src.height - 1);
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < src.channels; ++c) out.at(y, x, c) = src.at(sy, xs[static_cast<size_t>(x)], c);
  }
  return out;
}

// One axis of the bilinear kernel: per target coordinate, the first source index and the
// fraction towards the next. `area_mode` is INTER_AREA on an enlarging axis. Horizontally the
// index and fraction are clamped at the borders; vertically only the rows read are.
struct Taps {
  std::vector<int> index;
  std::vector<float> fraction;
};

Taps bilinear_taps(int src_size, int dst_size, double scale, double inv_scale, bool area_mode, bool clamp) {
  Taps t;
  t.index.resize(static_cast<size_t>(dst_size));
  t.fraction.resize(static_cast<size_t>(dst_size));
  for (int d = 0; d < dst_size; ++d) {
    float f;
    int s;
    if (!area_mode) {
      f = static_cast<float>((d + 0.5) * scale - 0.5);
      s = static_cast<int>(std::floor(f));
      f -= static_cast<float>(s);
    } else {
      s = floor_int(d * scale);
      f = static_cast<float>((d + 1) - (s + 1) * inv_scale);
      f = f <= 0 ? 0.f : f - std::floor(f);
    }
    if (clamp) {
      if (s < 0) f = 0, s = 0;
      if (s >= src_size - 1) f = 0, s = src_size - 1;
    }
    t.index[static_cast<size_t>(d)] = s;
    t.fraction[static_cast<size_t>(d)] = f;
  }
  return t;
}

template <typename T>
Image<T> resize_bilinear(const Image<T>& src, int height, int width, double scale_x, double scale_y,
                         double inv_scale_x, double inv_scale_y, bool area_mode) {
  using Acc = std::conditional_t<std::is_same_v<T, uint8_t>, int, float>;
  constexpr bool kFixed = std::is_same_v<T, uint8_t>;
  const int cn = src.channels;
  const Taps tx = bilinear_taps(src.width, width, scale_x, inv_scale_x, area_mode, /*clamp=*/true);
  const Taps ty = bilinear_taps(src.height, height, scale_y, inv_scale_y, area_mode, /*clamp=*/false);

  // Horizontal weights: shorts summing to about 2048 for 8 bits (each rounded on its own, as
  // OpenCV does), floats otherwise.
  std::vector<Acc> a0(static_cast<size_t>(width)), a1(static_cast<size_t>(width));
  for (int d = 0; d < width; ++d) {
    const float f = tx.fraction[static_cast<size_t>(d)];
    if constexpr (kFixed) {
      a0[static_cast<size_t>(d)] = saturate16(std::lrintf((1.f - f) * kCoefScale));
      a1[static_cast<size_t>(d)] = saturate16(std::lrintf(f * kCoefScale));
    } else {
      a0[static_cast<size_t>(d)] = 1.f - f;
      a1[static_cast<size_t>(d)] = f;
    }
  }
  const int row_len = width * cn;
  auto hpass = [&](int sy, std::vector<Acc>& out) {
    const T* s = &src.pixels[src.index(sy, 0)];
    for (int d = 0; d < width; ++d) {
      const int sx = tx.index[static_cast<size_t>(d)];
      for (int c = 0; c < cn; ++c) {
        const Acc v0 = static_cast<Acc>(s[sx * cn + c]);
        out[static_cast<size_t>(d * cn + c)] =
            sx + 1 < src.width ? static_cast<Acc>(v0 * a0[static_cast<size_t>(d)] +
                                                  static_cast<Acc>(s[(sx + 1) * cn + c]) * a1[static_cast<size_t>(d)])
                               : static_cast<Acc>(v0 * (kFixed ? kCoefScale : 1));
      }
    }
  };

  Image<T> out(height, width, cn);
  std::vector<Acc> h0(static_cast<size_t>(row_len)), h1(static_cast<size_t>(row_len));
  int have0 = -1, have1 = -1;
  for (int dy = 0; dy < height; ++dy) {
    const int sy = ty.index[static_cast<size_t>(dy)];
    const int r0 = std::clamp(sy, 0, src.height - 1), r1 = std::clamp(sy + 1, 0, src.height - 1);
    if (have0 != r0) {
      if (have1 == r0) {
        h0.swap(h1);
        std::swap(have0, have1);
      } else {
        hpass(r0, h0);
        have0 = r0;
      }
    }
    if (have1 != r1) {
      hpass(r1, h1);
      have1 = r1;
    }
    const float fy = ty.fraction[static_cast<size_t>(dy)];
    T* d = &out.pixels[out.index(dy, 0)];
    if constexpr (kFixed) {
      const int b0 = saturate16(std::lrintf((1.f - fy) * kCoefScale));
      const int b1 = saturate16(std::lrintf(fy * kCoefScale));
      // OpenCV 4.6's SIMD rounding, which its x86 build applies to every value of a row: the
      // horizontal sums lose 4 bits, each product keeps its high 16 bits, then (sum + 2) >> 2.
      // It lies up to 1 below the exact (b0 h0 + b1 h1 + 2^21) >> 22.
      for (int x = 0; x < row_len; ++x) {
        const int t0 = saturate16(h0[static_cast<size_t>(x)] >> 4), t1 = saturate16(h1[static_cast<size_t>(x)] >> 4);
        const int v = saturate16(saturate16(((t0 * b0) >> 16) + ((t1 * b1) >> 16)) + 2) >> 2;
        d[x] = static_cast<T>(std::clamp(v, 0, 255));
      }
    } else {
      const float b0 = 1.f - fy, b1 = fy;
      for (int x = 0; x < row_len; ++x)
        d[x] = static_cast<T>(h0[static_cast<size_t>(x)] * b0 + h1[static_cast<size_t>(x)] * b1);
    }
  }
  return out;
}

// Integer factors in both axes: the mean of each block. 2x2 on 1, 3 or 4 channels of 8 bits
// rounds (sum + 2) >> 2, as OpenCV's SIMD and scalar code both do; other factors multiply
// by 1/area and round.
template <typename T>
Image<T> resize_area_fast(const Image<T>& src, int height, int width, int fx, int fy) {
  using Acc = std::conditional_t<std::is_same_v<T, uint8_t>, int, float>;
  const int cn = src.channels, area = fx * fy;
  const float scale = 1.f / static_cast<float>(area);
  const bool quarter = std::is_same_v<T, uint8_t> && fx == 2 && fy == 2 && (cn == 1 || cn == 3 || cn == 4);
  Image<T> out(height, width, cn);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < cn; ++c) {
        // Summed in OpenCV's order: rows, then columns, in groups of four.
        Acc sum = 0;
        int k = 0;
        auto value = [&](int i) {
          return static_cast<Acc>(src.at(y * fy + i / fx, x * fx + i % fx, c));
        };
        for (; k <= area - 4; k += 4) sum += value(k) + value(k + 1) + value(k + 2) + value(k + 3);
        for (; k < area; ++k) sum += value(k);
        if constexpr (std::is_same_v<T, uint8_t>) {
          out.at(y, x, c) = quarter ? static_cast<uint8_t>((sum + 2) >> 2)
                                    : saturate<T>(static_cast<float>(sum) * scale);
        } else {
          out.at(y, x, c) = sum * scale;
        }
      }
  return out;
}

struct AreaTap {
  int dst, src;
  float alpha;
};

// Per target coordinate, the source pixels its cell covers and their shares (OpenCV's
// computeResizeAreaTab: partial first and last pixels, a threshold of 1e-3 pixel).
std::vector<AreaTap> area_taps(int src_size, int dst_size, double scale) {
  std::vector<AreaTap> tab;
  for (int d = 0; d < dst_size; ++d) {
    const double f1 = d * scale, f2 = f1 + scale;
    const double cell = std::min(scale, src_size - f1);
    int s1 = static_cast<int>(std::ceil(f1)), s2 = floor_int(f2);
    s2 = std::min(s2, src_size - 1);
    s1 = std::min(s1, s2);
    if (s1 - f1 > 1e-3) tab.push_back({d, s1 - 1, static_cast<float>((s1 - f1) / cell)});
    for (int s = s1; s < s2; ++s) tab.push_back({d, s, static_cast<float>(1.0 / cell)});
    if (f2 - s2 > 1e-3) tab.push_back({d, s2, static_cast<float>(std::min(std::min(f2 - s2, 1.), cell) / cell)});
  }
  return tab;
}

template <typename T>
Image<T> resize_area(const Image<T>& src, int height, int width, double scale_x, double scale_y) {
  const int cn = src.channels, row_len = width * cn;
  const auto xtab = area_taps(src.width, width, scale_x);
  const auto ytab = area_taps(src.height, height, scale_y);
  Image<T> out(height, width, cn);
  std::vector<float> buf(static_cast<size_t>(row_len)), sum(static_cast<size_t>(row_len));
  size_t j = 0;
  for (int dy = 0; dy < height; ++dy) {
    std::fill(sum.begin(), sum.end(), 0.f);
    for (; j < ytab.size() && ytab[j].dst == dy; ++j) {
      std::fill(buf.begin(), buf.end(), 0.f);
      const T* s = &src.pixels[src.index(ytab[j].src, 0)];
      for (const auto& t : xtab)
        for (int c = 0; c < cn; ++c)
          buf[static_cast<size_t>(t.dst * cn + c)] += static_cast<float>(s[t.src * cn + c]) * t.alpha;
      const float beta = ytab[j].alpha;
      for (int x = 0; x < row_len; ++x) sum[static_cast<size_t>(x)] += beta * buf[static_cast<size_t>(x)];
    }
    T* d = &out.pixels[out.index(dy, 0)];
    for (int x = 0; x < row_len; ++x) d[x] = saturate<T>(sum[static_cast<size_t>(x)]);
  }
  return out;
}

void blend(ImageU8& im, int x, int y, Rgb color, double coverage) {
  if (x < 0 || y < 0 || x >= im.width || y >= im.height || coverage <= 0) return;
  uint8_t* p = &im.pixels[im.index(y, x)];
  const uint8_t c[3] = {color.r, color.g, color.b};
  if (coverage >= 1) {
    std::copy(c, c + 3, p);
    return;
  }
  for (int k = 0; k < 3; ++k)
    p[k] = static_cast<uint8_t>(std::lround(p[k] + (static_cast<double>(c[k]) - p[k]) * coverage));
}

double segment_distance(double px, double py, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  return std::hypot(px - (a.x + t * dx), py - (a.y + t * dy));
}

}  // namespace

template <typename T>
Image<T> resize(const Image<T>& image, int height, int width, Interpolation how) {
  check_resize_args(image, height, width);
  if (height == image.height && width == image.width) return image;
  const double inv_scale_x = static_cast<double>(width) / image.width;
  const double inv_scale_y = static_cast<double>(height) / image.height;
  if (how == Interpolation::kNearest) return resize_nearest(image, height, width, inv_scale_x, inv_scale_y);

  const double scale_x = 1. / inv_scale_x, scale_y = 1. / inv_scale_y;
  const int iscale_x = round_int(scale_x), iscale_y = round_int(scale_y);
  const bool integer_factors =
      std::abs(scale_x - iscale_x) < DBL_EPSILON && std::abs(scale_y - iscale_y) < DBL_EPSILON;
  // OpenCV: bilinear at exactly half size in both axes is the 2x2 mean.
  if (how == Interpolation::kBilinear && integer_factors && iscale_x == 2 && iscale_y == 2) how = Interpolation::kArea;
  if (how == Interpolation::kArea && scale_x >= 1 && scale_y >= 1) {
    if (integer_factors) return resize_area_fast(image, height, width, iscale_x, iscale_y);
    return resize_area(image, height, width, scale_x, scale_y);
  }
  return resize_bilinear(image, height, width, scale_x, scale_y, inv_scale_x, inv_scale_y,
                         /*area_mode=*/how == Interpolation::kArea);
}

template <typename T>
Image<T> convert_channels(const Image<T>& image, int channels) {
  if (image.channels == channels) return image;
  Image<T> out(image.height, image.width, channels);
  const size_t n = static_cast<size_t>(image.height) * static_cast<size_t>(image.width);
  if (channels == 1 && image.channels == 3) {
    for (size_t p = 0; p < n; ++p) {
      const T* s = &image.pixels[3 * p];
      if constexpr (std::is_same_v<T, uint8_t>)
        out.pixels[p] = static_cast<uint8_t>((s[0] * 9798 + s[1] * 19235 + s[2] * 3735 + (1 << 14)) >> 15);
      else
        out.pixels[p] = s[0] * 0.299f + s[1] * 0.587f + s[2] * 0.114f;
    }
  } else if (channels == 3 && image.channels == 1) {
    for (size_t p = 0; p < n; ++p) std::fill_n(&out.pixels[3 * p], 3, image.pixels[p]);
  } else {
    throw std::invalid_argument("convert_channels: unsupported " + std::to_string(image.channels) + " -> " +
                                std::to_string(channels) + " channels");
  }
  return out;
}

void fill_rect(ImageU8& rgb, int x0, int y0, int x1, int y1, Rgb color) {
  x0 = std::max(x0, 0), y0 = std::max(y0, 0);
  x1 = std::min(x1, rgb.width), y1 = std::min(y1, rgb.height);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) blend(rgb, x, y, color, 1.0);
}

void draw_line(ImageU8& rgb, Point from, Point to, Rgb color, int thickness, bool antialiased) {
  thickness = std::max(1, thickness);
  if (thickness == 1 && !antialiased) {
    // Bresenham, both ends included.
    int x = from.x, y = from.y;
    const int dx = std::abs(to.x - x), dy = -std::abs(to.y - y);
    const int sx = x < to.x ? 1 : -1, sy = y < to.y ? 1 : -1;
    int err = dx + dy;
    for (;;) {
      blend(rgb, x, y, color, 1.0);
      if (x == to.x && y == to.y) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x += sx;
      if (e2 <= dx) err += dx, y += sy;
    }
    return;
  }
  // Hard pixels: centres within thickness / 2 of the segment. The anti-aliased line covers those
  // fully (its edge half a pixel further out) and fades over one more pixel.
  const double r = thickness / 2.0;
  const double edge = thickness == 1 ? 0.5 : r + 0.5;
  const int pad = static_cast<int>(std::ceil(edge)) + 1;
  const int xa = std::max(0, std::min(from.x, to.x) - pad), xb = std::min(rgb.width - 1, std::max(from.x, to.x) + pad);
  const int ya = std::max(0, std::min(from.y, to.y) - pad), yb = std::min(rgb.height - 1, std::max(from.y, to.y) + pad);
  for (int y = ya; y <= yb; ++y)
    for (int x = xa; x <= xb; ++x) {
      const double d = segment_distance(x, y, from, to);
      blend(rgb, x, y, color, antialiased ? std::clamp(edge + 0.5 - d, 0.0, 1.0) : (d <= r ? 1.0 : 0.0));
    }
}

void draw_rectangle(ImageU8& rgb, Point a, Point b, Rgb color) {
  const int x0 = std::min(a.x, b.x), x1 = std::max(a.x, b.x), y0 = std::min(a.y, b.y), y1 = std::max(a.y, b.y);
  fill_rect(rgb, x0, y0, x1 + 1, y0 + 1, color);
  fill_rect(rgb, x0, y1, x1 + 1, y1 + 1, color);
  fill_rect(rgb, x0, y0, x0 + 1, y1 + 1, color);
  fill_rect(rgb, x1, y0, x1 + 1, y1 + 1, color);
}

void draw_circle(ImageU8& rgb, Point centre, int radius, Rgb color, bool filled, bool antialiased) {
  radius = std::max(0, radius);
  const int pad = radius + 2;
  for (int y = std::max(0, centre.y - pad); y <= std::min(rgb.height - 1, centre.y + pad); ++y)
    for (int x = std::max(0, centre.x - pad); x <= std::min(rgb.width - 1, centre.x + pad); ++x) {
      const double d = std::hypot(x - centre.x, y - centre.y);
      double coverage;
      if (filled)
        coverage = antialiased ? std::clamp(radius + 0.5 - d, 0.0, 1.0) : (d < radius + 0.5 ? 1.0 : 0.0);
      else
        coverage = antialiased ? std::clamp(1.0 - std::abs(d - radius), 0.0, 1.0)
                               : (std::abs(d - radius) < 0.5 ? 1.0 : 0.0);
      blend(rgb, x, y, color, coverage);
    }
}

template Image<uint8_t> resize(const Image<uint8_t>&, int, int, Interpolation);
template Image<float> resize(const Image<float>&, int, int, Interpolation);
template Image<uint8_t> convert_channels(const Image<uint8_t>&, int);
template Image<float> convert_channels(const Image<float>&, int);

}  // namespace partplan::imaging::portable
