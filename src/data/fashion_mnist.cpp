// builtin:fashion-mnist: the gzip IDX files of Debian's dataset-fashion-mnist, read with zlib
// (IDX: big-endian magic 0x0000080N with N dimensions, N big-endian uint32 sizes, then uint8
// data). Train comes before test in "all". Images are 1x28x28 and are resized, cropped and
// converted only when the model asks for another shape.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/data/splits.hpp"
#include "partplan/imaging/image.hpp"
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

// The bytes of a gzip file decompressed, as gzread gives them: every member in turn, trailing
// garbage after a member ignored, and bytes without the gzip magic taken as they are.
std::string gunzip(std::string_view in, int64_t max_bytes, const std::string& path) {
  const auto too_big = [&] {
    return DataError("'" + path + "' decompresses to more than the memory bound; it is not a Fashion-MNIST file");
  };
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != 0x1f || static_cast<uint8_t>(in[1]) != 0x8b) {
    if (static_cast<int64_t>(in.size()) > max_bytes + 16) throw too_big();
    return std::string(in);
  }
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw DataError("cannot decompress '" + path + "': out of memory");
  std::string out;
  std::array<unsigned char, 1 << 16> buf{};
  size_t pos = 0;
  int rc = Z_OK;
  for (;;) {
    if (zs.avail_in == 0 && pos < in.size()) {
      const size_t chunk = std::min<size_t>(in.size() - pos, size_t{1} << 30);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
      zs.avail_in = static_cast<uInt>(chunk);
      pos += chunk;
    }
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(reinterpret_cast<const char*>(buf.data()), buf.size() - zs.avail_out);
    if (static_cast<int64_t>(out.size()) > max_bytes + 16) {
      inflateEnd(&zs);
      throw too_big();
    }
    if (rc == Z_STREAM_END) {
      // Another member follows only where the gzip magic does; anything else is ignored.
      const size_t rest = zs.avail_in + (in.size() - pos);
      const size_t at = in.size() - rest;
      if (rest < 2 || static_cast<uint8_t>(in[at]) != 0x1f || static_cast<uint8_t>(in[at + 1]) != 0x8b) break;
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && pos == in.size()) break;  // input ends inside a member
    if (rc != Z_OK) break;
  }
  const std::string msg = zs.msg ? zs.msg : "unexpected end of file";
  inflateEnd(&zs);
  if (rc == Z_STREAM_END) return out;
  if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
    throw DataError("'" + path + "' is not a valid gzip file (" + msg + "): reinstall dataset-fashion-mnist");
  throw DataError("'" + path + "' is truncated or corrupt (" + msg + "): reinstall dataset-fashion-mnist");
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
  const int64_t data_bytes = static_cast<int64_t>(b.size() - header);
  // Three sizes below 2^32 can overflow int64: the product saturates just above the data
  // there is, which is then an error either way.
  int64_t count = 1;
  for (int i = 0; i < ndims; ++i) {
    dims.push_back(big_endian_u32(b, 4 + 4 * static_cast<size_t>(i)));
    count = dims.back() > 0 && count > (data_bytes + 1) / dims.back() ? data_bytes + 1 : count * dims.back();
  }
  if (data_bytes != count)
    throw DataError(
        fmt::format("'{}' holds {} data bytes but its header promises {} ({}): the file is truncated or "
                    "corrupt; reinstall dataset-fashion-mnist",
                    path, data_bytes, count > data_bytes ? "more" : std::to_string(count), fmt::join(dims, "x")));
  return dims;
}

// Reads a file whose content must decompress within the bound: a gzip file is never much
// larger than its content.
std::string read_bounded(const std::string& path, int64_t max_bytes) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) throw IoError("cannot read '" + path + "': " + ec.message());
  if (static_cast<int64_t>(bytes) > max_bytes + max_bytes / 1024 + 4096)
    throw DataError("'" + path + "' decompresses to more than the memory bound; it is not a Fashion-MNIST file");
  return common::read_file(path);
}

FashionMnistPart read_part(const std::string& dir, const std::string& prefix, const LoadOptions& o) {
  const std::string img_path = (fs::path(dir) / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string lbl_path = (fs::path(dir) / (prefix + "-labels-idx1-ubyte.gz")).string();
  std::error_code ec;
  for (const auto& p : {img_path, lbl_path})
    if (!fs::exists(p, ec)) throw DataError(missing_package(p));
  return fashion_mnist_part(read_bounded(img_path, o.max_bytes), read_bounded(lbl_path, o.max_bytes), img_path,
                            lbl_path, o);
}

}  // namespace

FashionMnistPart fashion_mnist_part(std::string_view images_gz, std::string_view labels_gz,
                                    const std::string& img_path, const std::string& lbl_path, const LoadOptions& o) {
  FashionMnistPart part;
  part.images = gunzip(images_gz, o.max_bytes, img_path);
  part.labels = gunzip(labels_gz, o.max_bytes, lbl_path);
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

Dataset load_fashion_mnist(const std::string& split, const LoadOptions& o) {
  std::vector<FashionMnistPart> parts;
  if (split != "test") parts.push_back(read_part(o.fashion_mnist_dir, "train", o));
  if (split != "train") parts.push_back(read_part(o.fashion_mnist_dir, "t10k", o));
  return fashion_mnist_dataset(parts, split, o);
}

Dataset fashion_mnist_dataset(const std::vector<FashionMnistPart>& parts, const std::string& split,
                              const LoadOptions& o) {
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
      imaging::ImageU8 src(static_cast<int>(kSide), static_cast<int>(kSide), 1);
      std::copy(pixels, pixels + kSide * kSide, src.pixels.begin());
      imaging::to_planar(imaging::cover_crop(src, static_cast<int>(shape[0]), static_cast<int>(shape[1]),
                                             static_cast<int>(shape[2])),
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
