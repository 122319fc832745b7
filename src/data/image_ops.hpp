#pragma once
// OpenCV helpers shared by the image sources (internal to src/data).

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>

namespace partplan::data::detail {

/// Decode encoded image bytes to an 8-bit Mat with 1 (gray) or 3 (RGB) channels. Returns an
/// empty Mat and sets `why` when the bytes are not a decodable image.
cv::Mat decode_8bit(const std::string& bytes, std::string* why);

/// Decode to float32 in [0,1] with 1 or 3 (RGB) channels, keeping 16-bit precision.
cv::Mat decode_unit(const std::string& bytes, std::string* why);

/// Scale so the image covers height x width (the short side fits), then crop the centre, then
/// convert to `channels` (1 or 3). Area interpolation when shrinking, bilinear when enlarging.
cv::Mat fit_cover_crop(const cv::Mat& image, int channels, int height, int width);

/// Resize to exactly height x width (no crop) and convert to `channels`.
cv::Mat resize_exact(const cv::Mat& image, int channels, int height, int width);

/// Convert between 1 and 3 (RGB) channels; a no-op when already `channels`.
cv::Mat convert_channels(const cv::Mat& image, int channels);

/// Copy an HxWxC Mat (interleaved) into planar CxHxW memory of the Mat's element type.
void copy_planar(const cv::Mat& image, void* dst);

}  // namespace partplan::data::detail
