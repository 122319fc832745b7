#pragma once
// PNG encoding of image batches (through src/imaging, which owns the image library).

#include <cstdint>
#include <vector>

#include "partplan/common/image.hpp"

namespace partplan::report {

/// The n images of `images` side by side, one PNG (8-bit, gray or RGB as c is 1 or 3), h rows
/// and n*w columns. Throws IoError when encoding fails, UsageError on c other than 1 or 3.
std::vector<uint8_t> encode_png_strip(const common::Image8& images);

/// The inverse: n images of c x h x w from a strip written by encode_png_strip. Throws
/// DataError when the bytes are not such a PNG.
common::Image8 decode_png_strip(const std::vector<uint8_t>& png, int64_t n, int64_t c, int64_t h, int64_t w);

}  // namespace partplan::report
