#pragma once
// partplan's own implementations of what the stb backend lacks: OpenCV-compatible resampling
// and channel conversion, and a small rasteriser for the Canvas. Internal to src/imaging (and
// its tests). Compiled in both builds, so the opencv build checks them against OpenCV
// (tests/data/test_imaging.cpp): the stb build runs this code, the opencv build proves it.

#include "partplan/imaging/canvas.hpp"
#include "partplan/imaging/image.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace partplan::imaging::portable {

/// The most pixels a file may declare: 100 million (10000 x 10000, 300 MB as RGB). A few
/// hundred bytes of header can declare 65535 x 65535; the decoders would allocate it.
inline constexpr int64_t kMaxDecodePixels = 100'000'000;

/// (width, height) as the header of a PNG, JPEG (its first SOF marker), BMP, WebP (VP8,
/// VP8L, VP8X) or PGM/PPM file declares it, read without decoding; nullopt for any other
/// format or a header too short or malformed to say (the decoder then reports it).
std::optional<std::pair<int64_t, int64_t>> declared_size(std::string_view bytes);

/// Throws DecodeError naming `name` and the size when declared_size exceeds kMaxDecodePixels
/// (or either side is not positive); `remedy` ends the message.
void check_declared_size(std::string_view bytes, const std::string& name, const std::string& remedy);

/// resize() with OpenCV 4.6's arithmetic: INTER_NEAREST's floor(x * src / dst);
/// INTER_LINEAR with OpenCV's float source positions, 11-bit fixed-point weights for 8-bit
/// images and its rounding of the vertical pass; INTER_AREA's coverage tables (float weights),
/// its integer-factor fast path and its bilinear variant on an enlarging axis. 8-bit results
/// equal Debian 12's OpenCV 4.6 on x86-64 bit for bit; float ones within float rounding. Same
/// contract as imaging::resize.
template <typename T>
Image<T> resize(const Image<T>& image, int height, int width, Interpolation how);

/// imaging::convert_channels: 3 -> 1 is (9798 R + 19235 G + 3735 B + 2^14) >> 15 for 8 bits
/// (OpenCV's fixed point), 0.299 R + 0.587 G + 0.114 B for float; 1 -> 3 replicates.
template <typename T>
Image<T> convert_channels(const Image<T>& image, int channels);

/// Rasterising into a 3-channel RGB image, clipped to it. Pixel (x, y)'s centre is the point
/// (x, y). Anti-aliased shapes blend `color` in by their coverage of each pixel (1 - distance
/// from the shape's edge, clamped to [0, 1]); hard ones set the pixels they cover.

/// A segment of `thickness` pixels: the pixels whose centres lie within thickness / 2 of it (a
/// capsule), anti-aliased with a one-pixel fringe beyond those; thickness 1 without
/// anti-aliasing is an 8-connected Bresenham line, both ends included.
void draw_line(ImageU8& rgb, Point from, Point to, Rgb color, int thickness, bool antialiased);
/// The 1-pixel outline of the rectangle with corners a and b, both included.
void draw_rectangle(ImageU8& rgb, Point a, Point b, Rgb color);
/// A disc of `radius` (filled) or a 1-pixel ring of that radius.
void draw_circle(ImageU8& rgb, Point centre, int radius, Rgb color, bool filled, bool antialiased);
/// Set the pixels of the rectangle [x0, x1) x [y0, y1) to color (clipped).
void fill_rect(ImageU8& rgb, int x0, int y0, int x1, int y1, Rgb color);

}  // namespace partplan::imaging::portable
