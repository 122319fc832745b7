#pragma once
// partplan's images and the operations data/ and report/ need on them: decode, encode,
// resize, channel conversion, crops. The only module that sees an image library: one of two
// backends, chosen at configure time (PARTPLAN_IMAGE_BACKEND, docs/building.md), implements
// this header: OpenCV (the default), or the header-only stb libraries with partplan's own
// resampling, for machines where OpenCV and its dependencies cannot be installed.
// kImageBackend (build_info.hpp) names the one compiled in. No torch here.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "partplan/common/error.hpp"

namespace partplan::imaging {

/// height x width x channels samples of T, interleaved: row-major, channels fastest (the layout
/// of a decoded file, and of cv::Mat). Every image the functions below return has 1 (gray) or
/// 3 (RGB, in that order) channels. ImageU8 holds 0..255; ImageF32 holds what it was given
/// (decode_unit: [0, 1]).
template <typename T>
struct Image {
  int height = 0, width = 0, channels = 0;
  std::vector<T> pixels;  ///< height * width * channels values

  Image() = default;
  /// Throws std::invalid_argument on a negative size or channels outside 1..4.
  Image(int height, int width, int channels, T fill = T{});
  bool empty() const { return pixels.empty(); }
  size_t index(int y, int x, int c = 0) const {
    return (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) *
               static_cast<size_t>(channels) +
           static_cast<size_t>(c);
  }
  T& at(int y, int x, int c = 0) { return pixels[index(y, x, c)]; }
  const T& at(int y, int x, int c = 0) const { return pixels[index(y, x, c)]; }
  bool operator==(const Image& o) const {
    return height == o.height && width == o.width && channels == o.channels && pixels == o.pixels;
  }
};
using ImageU8 = Image<uint8_t>;
using ImageF32 = Image<float>;

/// Bytes that are not an image this build can decode. what() is one line naming the file,
/// the reason and a remedy; reason() is the reason alone, for lists of skipped files.
class DecodeError : public DataError {
 public:
  DecodeError(const std::string& name, std::string reason, const std::string& remedy);
  /// For example "not a decodable image (corrupt or unsupported format)".
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

/// A well-formed file of a format that this build's backend cannot read at all (TIFF or WebP
/// with images: stb). Unlike a corrupt file it is not skipped in an image folder: the remedy
/// (convert the files, or use the opencv build) applies to every such file.
class UnsupportedFormatError : public DecodeError {
 public:
  using DecodeError::DecodeError;
};

/// Decode encoded bytes to 8 bits per sample. Formats: PNG, JPEG and BMP (and 8-bit PGM/PPM);
/// the opencv backend also reads TIFF, WebP and 16-bit PGM/PPM, for which the stb backend
/// throws UnsupportedFormatError. Channels: 1 for a gray file, else 3 in RGB order, the alpha channel dropped; a
/// gray+alpha PNG gives 3 (gray replicated), as OpenCV does. 16-bit samples become
/// round(v / 257). EXIF orientation is not applied. `name` (a path) only names the file in
/// errors. Throws UnsupportedFormatError as above, DecodeError for anything else undecodable
/// (empty, corrupt, another format).
ImageU8 decode_u8(std::string_view bytes, const std::string& name);

/// As decode_u8, but float32 in [0, 1] keeping the file's precision: 8-bit samples / 255,
/// 16-bit / 65535.
ImageF32 decode_unit(std::string_view bytes, const std::string& name);

/// Lossless PNG of a 1- or 3-channel (RGB) image, 8-bit gray or RGB:
/// decode_u8(encode_png(im), ...) == im. The bytes differ between backends (their zlib
/// settings), the pixels do not. Throws UsageError on other channel counts or an empty image,
/// IoError when the encoder fails.
std::vector<uint8_t> encode_png(const ImageU8& image);

/// The image (1 or 3 channels) encoded in the format that `path`'s extension names, in any
/// case: .png, .jpg/.jpeg (quality 95), .bmp (8-bit gray or 24-bit RGB); the opencv backend
/// also .webp and .tif/.tiff. `path` only picks the format and names the file in errors.
/// Throws DataError on another extension, one this backend cannot write (naming the build and
/// the formats it writes), or another channel count.
std::vector<uint8_t> encode_as(const ImageU8& image, const std::string& path);

/// How resize() samples the source, with OpenCV's semantics (pixel centres aligned, edge
/// pixels replicated):
enum class Interpolation {
  kNearest,   ///< source pixel floor(x * src / dst): INTER_NEAREST
  kBilinear,  ///< INTER_LINEAR: 8-bit in OpenCV's fixed point (11-bit weights)
  kArea,      ///< INTER_AREA: the mean of the source area each target pixel covers when
              ///< shrinking; a bilinear variant on an axis that enlarges
};

/// `image` resampled to height x width (same channels). Throws std::invalid_argument on an
/// empty image or a size below 1.
template <typename T>
Image<T> resize(const Image<T>& image, int height, int width, Interpolation how);

/// Exactly height x width (the aspect ratio is not kept): kArea when the target has fewer
/// pixels, else kBilinear; then convert_channels(channels). A no-op resize when the size
/// already matches.
template <typename T>
Image<T> resize_to(const Image<T>& image, int channels, int height, int width);

/// Scaled so that it covers height x width (the short side fits; kArea when shrinking,
/// kBilinear when enlarging), the centre height x width cut out, then convert_channels.
template <typename T>
Image<T> cover_crop(const Image<T>& image, int channels, int height, int width);

/// 1 <-> 3 channels (1 -> 3: gray replicated; 3 -> 1: ITU-R BT.601 luma 0.299 R + 0.587 G +
/// 0.114 B, 8-bit in OpenCV's 15-bit fixed point); a copy when already `channels`. Throws
/// std::invalid_argument on other conversions.
template <typename T>
Image<T> convert_channels(const Image<T>& image, int channels);

/// The width x height region whose top-left pixel is (x, y). Throws std::invalid_argument
/// unless it lies inside `image` and is non-empty.
template <typename T>
Image<T> crop(const Image<T>& image, int x, int y, int width, int height);

/// Rotated by 90 degrees counter-clockwise: a W x H image becomes H x W.
template <typename T>
Image<T> rotate90_ccw(const Image<T>& image);

/// Copy `src` into `dst` with its top-left pixel at (x, y). Throws std::invalid_argument unless
/// it fits inside `dst` and the channels match.
template <typename T>
void paste(Image<T>& dst, const Image<T>& src, int x, int y);

/// Copy into planar [C, H, W] memory (channel planes one after another): the tensor layout.
template <typename T>
void to_planar(const Image<T>& image, T* dst);

/// The inverse of to_planar: an image from planar [channels, height, width] memory.
template <typename T>
Image<T> from_planar(const T* src, int channels, int height, int width);

}  // namespace partplan::imaging
