// The gzip IDX reader of builtin:fashion-mnist (detail::fashion_mnist_part, which
// load_fashion_mnist calls on the bytes of the two files of a part, then
// fashion_mnist_dataset). Input: byte 0 flags (bit 0: the harness gzips both files itself, so
// that mutations reach the IDX parser; bit 1: ask for a 1x14x14 sample shape), bytes 1-4 the
// images file's length (little-endian, clamped), then the images file, then the labels file.
#include <ATen/ATen.h>
#include <zlib.h>

#include <algorithm>

#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "src/data/sources.hpp"

using namespace partplan;

namespace {

std::string gzip(std::string_view raw) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, static_cast<uLong>(raw.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const uint8_t flags = data[0];
  const uint32_t want = uint32_t{data[1]} | uint32_t{data[2]} << 8 | uint32_t{data[3]} << 16 | uint32_t{data[4]} << 24;
  const auto rest = fuzz::as_text(data + 5, size - 5);
  const size_t split = std::min<size_t>(want, rest.size());
  std::string images(rest.substr(0, split)), labels(rest.substr(split));
  if (flags & 1) {
    images = gzip(images);
    labels = gzip(labels);
  }
  data::LoadOptions o;
  o.max_bytes = int64_t{64} << 20;  // a user's --set data.max_bytes; keeps each input small
  if (flags & 2) o.sample_shape = {1, 14, 14};
  try {
    std::vector<data::detail::FashionMnistPart> parts;
    parts.push_back(data::detail::fashion_mnist_part(images, labels, "train-images-idx3-ubyte.gz",
                                                     "train-labels-idx1-ubyte.gz", o));
    const auto d = data::detail::fashion_mnist_dataset(parts, "train", o);
    const int64_t n = d.samples.size(0);
    if (d.samples.scalar_type() != at::kByte || d.labels.numel() != n) fuzz::contract_broken("IDX samples/labels");
    const int64_t* l = d.labels.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i)
      if (l[i] < 0 || l[i] > 9) fuzz::contract_broken("an IDX label outside 0..9");
  } catch (const Error&) {
  }
  return 0;
}
