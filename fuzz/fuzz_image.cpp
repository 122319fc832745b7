// The image decoders (imaging::decode_u8, decode_unit: every image folder file, the run
// store's PNG strips) of the backend this target links: the build's own (fuzz_image), or the
// stb one compiled in (fuzz_image_stb).
#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "partplan/imaging/image.hpp"

using namespace partplan;

namespace {

template <typename T>
void check(const imaging::Image<T>& im) {
  if (im.channels != 1 && im.channels != 3) fuzz::contract_broken("a decoded image of other than 1 or 3 channels");
  if (im.height < 1 || im.width < 1 ||
      im.pixels.size() != static_cast<size_t>(im.height) * static_cast<size_t>(im.width) *
                              static_cast<size_t>(im.channels))
    fuzz::contract_broken("a decoded image whose pixels are not height*width*channels");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = fuzz::as_text(data, size);
  try {
    check(imaging::decode_u8(bytes, "fuzz.img"));
  } catch (const Error&) {
  }
  try {
    const auto im = imaging::decode_unit(bytes, "fuzz.img");
    check(im);
    for (float v : im.pixels)
      if (!(v >= 0.0f && v <= 1.0f)) fuzz::contract_broken("decode_unit gave a value outside [0,1]");
  } catch (const Error&) {
  }
  return 0;
}
