// builtin:fashion-mnist: the gzip IDX files of Debian's dataset-fashion-mnist, read with zlib
// (IDX: big-endian magic 0x0000080N with N dimensions, N big-endian uint32 sizes, then uint8
// data). Train comes before test in "all". Images are 1x28x28 and are resized, cropped and
// converted only when the model asks for another shape.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <filesystem>

#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/data/splits.hpp"
#include "src/data/image_ops.hpp"
#include "src/data/sources.hpp"

namespace fs = std::filesystem;

namespace partplan::data::detail {
namespace {

constexpr std::array<const char*, 10> kClassNames{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
constexpr int64_t kSide = 28;

std::string missing_package(const std::string& path) {
  return "builtin:fashion-mnist needs Debian's dataset-fashion-mnist package (apt-get install "
         "dataset-fashion-mnist): '" +
         path + "' not found";
}

std::string gunzip(const std::string& path, int64_t max_bytes) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw IoError("cannot open '" + path + "': check that it is readable");
  std::string out;
  std::array<char, 1 << 16> buf{};
  for (;;) {
    const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int code = 0;
      const std::string msg = gzerror(f, &code);
      gzclose(f);
      throw DataError("'" + path + "' is not a valid gzip file (" + msg + "): reinstall dataset-fashion-mnist");
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > max_bytes + 16) {
      gzclose(f);
      throw DataError("'" + path + "' decompresses to more than the memory bound; it is not a Fashion-MNIST file");
    }
  }
  int code = 0;
  const std::string msg = gzerror(f, &code);
  gzclose(f);
  if (code != Z_OK)
    throw DataError("'" + path + "' is truncated or corrupt (" + msg + "): reinstall dataset-fashion-mnist");
  return out;
}

uint32_t big_endian_u32(const std::string& b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3]));
}

// Checks an IDX header for uint8 data with `ndims` dimensions; returns the dimensions.
std::vector<int64_t> idx_dims(const std::string& b, int ndims, const std::string& path) {
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (b.size() < header || b[0] != 0 || b[1] != 0 || static_cast<uint8_t>(b[2]) != 0x08 || b[3] != ndims)
    throw DataError(
        fmt::format("'{}' is not an IDX file of uint8 with {} dimensions (bad magic number): "
                    "reinstall dataset-fashion-mnist",
                    path, ndims));
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int i = 0; i < ndims; ++i) {
    dims.push_back(big_endian_u32(b, 4 + 4 * static_cast<size_t>(i)));
    count *= dims.back();
  }
  if (static_cast<int64_t>(b.size() - header) != count)
    throw DataError(
        fmt::format("'{}' holds {} data bytes but its header promises {}: the file is truncated or "
                    "corrupt; reinstall dataset-fashion-mnist",
                    path, b.size() - header, count));
  return dims;
}

struct Part {
  std::string images;  // raw IDX bytes
  std::string labels;
  int64_t n = 0;
};

Part read_part(const std::string& dir, const std::string& prefix, const LoadOptions& o) {
  const std::string img_path = (fs::path(dir) / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string lbl_path = (fs::path(dir) / (prefix + "-labels-idx1-ubyte.gz")).string();
  std::error_code ec;
  for (const auto& p : {img_path, lbl_path})
    if (!fs::exists(p, ec)) throw DataError(missing_package(p));
  Part part;
  part.images = gunzip(img_path, o.max_bytes);
  part.labels = gunzip(lbl_path, o.max_bytes);
  const auto idims = idx_dims(part.images, 3, img_path);
  const auto ldims = idx_dims(part.labels, 1, lbl_path);
  if (idims[1] != kSide || idims[2] != kSide)
    throw DataError(fmt::format("'{}' holds {}x{} images, not Fashion-MNIST's 28x28", img_path, idims[1], idims[2]));
  if (idims[0] != ldims[0])
    throw DataError(fmt::format("'{}' has {} images but '{}' has {} labels: reinstall dataset-fashion-mnist", img_path,
                                idims[0], lbl_path, ldims[0]));
  for (size_t i = 8; i < part.labels.size(); ++i)
    if (static_cast<uint8_t>(part.labels[i]) >= kClassNames.size())
      throw DataError(fmt::format("'{}' has label {} outside 0..9", lbl_path,
                                  static_cast<int>(static_cast<uint8_t>(part.labels[i]))));
  part.n = idims[0];
  return part;
}

}  // namespace

Dataset load_fashion_mnist(const std::string& split, const LoadOptions& o) {
  std::vector<Part> parts;
  if (split != "test") parts.push_back(read_part(o.fashion_mnist_dir, "train", o));
  if (split != "train") parts.push_back(read_part(o.fashion_mnist_dir, "t10k", o));
  int64_t total = 0;
  for (const auto& p : parts) total += p.n;
  if (total == 0) throw DataError("the Fashion-MNIST files under '" + o.fashion_mnist_dir + "' hold no images");

  // Source order: train then test. max_samples keeps a seeded subset in that order.
  std::vector<int64_t> keep;
  if (o.max_samples > 0 && o.max_samples < total) keep = seeded_subset(total, o.max_samples, subset_seed(o));
  const int64_t n = keep.empty() ? total : static_cast<int64_t>(keep.size());

  const SampleShape native{1, kSide, kSide};
  const SampleShape shape = resolve_image_shape(o.sample_shape, native, "builtin:fashion-mnist");
  check_memory_bound(n * common::numel(shape) + 8 * n, o, fmt::format("{} Fashion-MNIST images", n));

  Dataset d;
  d.samples = at::empty({n, shape[0], shape[1], shape[2]}, at::kByte);
  d.labels = at::empty({n}, at::kLong);
  auto* out = d.samples.data_ptr<uint8_t>();
  auto* labels = d.labels.data_ptr<int64_t>();
  const int64_t per_sample = common::numel(shape);
  const bool native_shape = shape == native;
  for (int64_t k = 0; k < n; ++k) {
    int64_t i = keep.empty() ? k : keep[static_cast<size_t>(k)];
    size_t p = 0;
    while (i >= parts[p].n) i -= parts[p++].n;
    const auto* pixels = reinterpret_cast<const uint8_t*>(parts[p].images.data()) + 16 + i * kSide * kSide;
    labels[k] = static_cast<uint8_t>(parts[p].labels[static_cast<size_t>(8 + i)]);
    if (native_shape) {
      std::copy(pixels, pixels + kSide * kSide, out + k * per_sample);
    } else {
      const cv::Mat src(kSide, kSide, CV_8U, const_cast<uint8_t*>(pixels));
      copy_planar(
          fit_cover_crop(src, static_cast<int>(shape[0]), static_cast<int>(shape[1]), static_cast<int>(shape[2])),
          out + k * per_sample);
    }
    if (o.progress && (k % 4096 == 4095 || k == n - 1)) o.progress(k + 1, n);
  }
  d.class_names.assign(kClassNames.begin(), kClassNames.end());
  d.description = fmt::format("Fashion-MNIST {} ({} images, {}{}, 10 classes)", split, n, common::format_shape(shape),
                              native_shape ? "" : " resized from 1x28x28");
  return d;
}

}  // namespace partplan::data::detail
