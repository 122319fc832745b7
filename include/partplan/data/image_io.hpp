#pragma once
// Single image files, for `partplan metrics` and for tests: decode to [0,1] tensors, resize,
// encode. Decoding and encoding go through src/imaging, the one module that holds OpenCV (or stb).

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace partplan::data {

/// Lower-case extensions (with the dot) read as images: .jpg .jpeg .png .bmp .webp .tif .tiff.
const std::vector<std::string>& image_extensions();

/// "jpg, jpeg, png, bmp, webp, tif, tiff": image_extensions() for messages.
std::string image_extensions_text();

/// True when `path` ends in one of image_extensions(), in any case.
bool has_image_extension(const std::string& path);

/// Image files under `dir`, recursively, as paths relative to `dir` with '/' separators,
/// sorted byte-wise. Hidden files and directories (".name") are skipped.
/// Throws IoError when `dir` is not a readable directory.
std::vector<std::string> list_image_files(const std::string& dir);

/// Decode one image file to [C,H,W] float32 in [0,1] on CPU: C = 1 for grayscale files, else 3
/// in RGB order (alpha dropped); 8-bit values divided by 255, 16-bit by 65535.
/// Throws IoError when the file cannot be read and DataError when it is not a decodable image.
at::Tensor read_image(const std::string& path);

/// Resize [C,H,W] float32 in [0,1] (C = 1 or 3) to exactly height x width (the aspect ratio is
/// not kept: area interpolation when shrinking, bilinear when enlarging) and convert it to
/// `channels` (1: ITU-R BT.601 luma; 3: gray replicated). Returns float32 on CPU.
/// Throws std::invalid_argument on other shapes.
at::Tensor resize_image(const at::Tensor& image, int64_t channels, int64_t height, int64_t width);

/// Write [C,H,W] (C = 1 or 3, RGB) as an 8-bit image; float values in [0,1] are clipped and
/// rounded, uint8 written as is. The format follows the extension. Written atomically.
/// Throws DataError on an unsupported extension or shape, IoError when the file cannot be written.
void write_image(const std::string& path, const at::Tensor& image);

}  // namespace partplan::data
