// Single image files for `partplan metrics` and tests (image_io.hpp).
#include "partplan/data/image_io.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/imaging/image.hpp"

namespace fs = std::filesystem;

namespace partplan::data {
namespace {

using common::to_lower;

bool hidden(const fs::path& p) {
  const auto name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// [C,H,W] float32 tensor (CPU) of an image.
at::Tensor planar_tensor(const imaging::ImageF32& im) {
  auto t = at::empty({im.channels, im.height, im.width}, at::TensorOptions().dtype(at::kFloat));
  imaging::to_planar(im, t.data_ptr<float>());
  return t;
}

// An image of a [C,H,W] tensor, as float32.
imaging::ImageF32 float_image(const at::Tensor& chw) {
  const auto t = chw.detach().cpu().to(at::kFloat).contiguous();
  return imaging::from_planar(t.data_ptr<float>(), static_cast<int>(t.size(0)), static_cast<int>(t.size(1)),
                              static_cast<int>(t.size(2)));
}

void check_chw(const at::Tensor& image, const char* what) {
  if (!image.defined() || image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3))
    throw std::invalid_argument(fmt::format("{}: expects a [C,H,W] image with C = 1 or 3", what));
}

}  // namespace

const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> kExtensions{".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"};
  return kExtensions;
}

std::string image_extensions_text() {
  std::string out;
  for (const auto& e : image_extensions()) out += (out.empty() ? "" : ", ") + e.substr(1);
  return out;
}

bool has_image_extension(const std::string& path) {
  const auto ext = to_lower(fs::path(path).extension().string());
  const auto& all = image_extensions();
  return std::find(all.begin(), all.end(), ext) != all.end();
}

std::vector<std::string> list_image_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError("'" + dir + "' is not a directory: pass a folder of images");
  std::vector<std::string> out;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) throw IoError("cannot list '" + dir + "': " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw IoError("cannot list '" + dir + "': " + ec.message());
    if (hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || !has_image_extension(it->path().string())) continue;
    out.push_back(fs::relative(it->path(), dir, ec).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

at::Tensor read_image(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError("image '" + path + "' not found: check the path");
  if (fs::is_directory(path, ec)) throw IoError("'" + path + "' is a directory, not an image file");
  return planar_tensor(imaging::decode_unit(common::read_file(path), path));
}

at::Tensor resize_image(const at::Tensor& image, int64_t channels, int64_t height, int64_t width) {
  check_chw(image, "resize_image");
  if ((channels != 1 && channels != 3) || height < 1 || width < 1)
    throw std::invalid_argument("resize_image: target must be 1 or 3 channels and a positive size");
  return planar_tensor(imaging::resize_to(float_image(image), static_cast<int>(channels), static_cast<int>(height),
                                          static_cast<int>(width)));
}

void write_image(const std::string& path, const at::Tensor& image) {
  if (!image.defined() || image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3))
    throw DataError("cannot write '" + path + "': expected a [C,H,W] image with C = 1 or 3");
  if (!has_image_extension(path))
    throw DataError("cannot write '" + path + "': unknown image extension; use .png, .jpg, .bmp, .webp or .tiff");
  at::Tensor u8 =
      image.scalar_type() == at::kByte
          ? image.cpu().contiguous()
          : image.detach().cpu().to(at::kFloat).clamp(0.0, 1.0).mul(255.0).round().to(at::kByte).contiguous();
  const auto im = imaging::from_planar(u8.data_ptr<uint8_t>(), static_cast<int>(u8.size(0)),
                                      static_cast<int>(u8.size(1)), static_cast<int>(u8.size(2)));
  const auto bytes = imaging::encode_as(im, path);
  common::write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace partplan::data
