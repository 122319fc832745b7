#pragma once
// A small batch of 8-bit images, for handing pictures to torch-free modules (report).

#include <cstdint>
#include <vector>

namespace partplan::common {

/// Row-major [n, c, h, w] uint8 pixels, c = 1 (gray) or 3 (RGB).
struct Image8 {
  int64_t n = 0, c = 0, h = 0, w = 0;
  std::vector<uint8_t> pixels;
  bool empty() const { return n == 0; }
};

}  // namespace partplan::common
