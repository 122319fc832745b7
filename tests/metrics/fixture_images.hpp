#pragma once
// Rebuilds the fixture images of scripts/make_ssim_fixtures.py bit for bit (integer
// arithmetic only; the recipe is in the script's docstring). Torch-free.

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace partplan::test {

/// 8-bit image, planar [C][H][W].
struct ByteImage {
  int c = 0, h = 0, w = 0;
  std::vector<int> v;
  int& at(int k, int i, int j) { return v[static_cast<size_t>((k * h + i) * w + j)]; }
  int at(int k, int i, int j) const { return v[static_cast<size_t>((k * h + i) * w + j)]; }
  int64_t sum() const {
    int64_t s = 0;
    for (int x : v) s += x;
    return s;
  }
};

class Lcg {
 public:
  explicit Lcg(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    s_ = s_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return s_ >> 33;
  }

 private:
  uint64_t s_;
};

inline ByteImage blank(int c, int h, int w) {
  return ByteImage{c, h, w, std::vector<int>(static_cast<size_t>(c * h * w))};
}

inline ByteImage box_blur(const ByteImage& a) {
  ByteImage out = blank(a.c, a.h, a.w);
  for (int k = 0; k < a.c; ++k)
    for (int i = 0; i < a.h; ++i)
      for (int j = 0; j < a.w; ++j) {
        int s = 0;
        for (int di = -1; di <= 1; ++di)
          for (int dj = -1; dj <= 1; ++dj) s += a.at(k, std::clamp(i + di, 0, a.h - 1), std::clamp(j + dj, 0, a.w - 1));
        out.at(k, i, j) = s / 9;
      }
  return out;
}

inline ByteImage base_image(const std::string& kind, uint64_t seed, int c, int h, int w) {
  Lcg rng(seed);
  ByteImage n = blank(c, h, w);
  for (auto& x : n.v) x = static_cast<int>(rng.next() % 256);
  if (kind == "noise") return n;
  if (kind != "smooth") throw std::invalid_argument("unknown base " + kind);
  ByteImage p = n;
  for (int pass = 0; pass < 3; ++pass) p = box_blur(p);
  ByteImage out = blank(c, h, w);
  const int r = std::min(h, w) * 6 / 10;
  for (int k = 0; k < c; ++k) {
    int lo = 255, hi = 0;
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j) {
        lo = std::min(lo, p.at(k, i, j));
        hi = std::max(hi, p.at(k, i, j));
      }
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j) {
        const int s = hi > lo ? (p.at(k, i, j) - lo) * 255 / (hi - lo) : 128;
        const int ramp = 255 * (i + j) / (h + w - 2);
        const int di = 2 * i - h + 1, dj = 2 * j - w + 1;
        const int disc = di * di + dj * dj < r * r ? 255 : 0;
        out.at(k, i, j) = (5 * s + 3 * ramp + 2 * disc) / 10;
      }
  }
  return out;
}

inline ByteImage distort(const ByteImage& a, const std::string& kind, const std::string& what, int param,
                         uint64_t seed_b) {
  Lcg rng(seed_b);
  ByteImage b = a;
  if (what == "noise") {
    for (auto& x : b.v)
      x = std::clamp(x + static_cast<int>(rng.next() % static_cast<uint64_t>(2 * param + 1)) - param, 0, 255);
  } else if (what == "blur") {
    b = box_blur(a);
  } else if (what == "shift") {
    for (int k = 0; k < a.c; ++k)
      for (int i = 0; i < a.h; ++i)
        for (int j = 0; j < a.w; ++j) b.at(k, i, j) = a.at(k, i, std::min(j + 1, a.w - 1));
  } else if (what == "contrast") {
    for (auto& x : b.v) x = 3 * x / 4 + 32;
  } else if (what == "invert") {
    for (auto& x : b.v) x = 255 - x;
  } else if (what == "other") {
    b = base_image(kind, seed_b, a.c, a.h, a.w);
  } else if (what != "same") {
    throw std::invalid_argument("unknown distortion " + what);
  }
  return b;
}

}  // namespace partplan::test
