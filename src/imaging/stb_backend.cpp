// The stb backend of imaging (PARTPLAN_IMAGE_BACKEND=stb): decoding with stb_image, PNG/JPEG
// writing with stb_image_write, resampling and drawing with partplan's own code (portable.cpp),
// text in stb_easy_font. For machines where OpenCV cannot be installed: it needs only three
// public-domain headers. It reads what stb_image reads of the formats the OpenCV path reads
// (PNG, JPEG, BMP, 8-bit binary PGM/PPM) and refuses, with one line naming the file and this
// build, the formats it cannot (TIFF, WebP, JPEG 2000, OpenEXR, Radiance HDR, 16-bit PGM/PPM). Channel counts follow
// OpenCV's decoders (a gray+alpha PNG gives RGB; a BMP with a gray palette gives gray), so an
// image folder has the same shape in both builds.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#include <stb_easy_font.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "partplan/common/error.hpp"
#include "partplan/imaging/canvas.hpp"
#include "partplan/imaging/image.hpp"
#include "src/imaging/portable.hpp"

namespace partplan::imaging {
namespace {

const char* const kCorruptRemedy = "re-export it as PNG or JPEG";
const char* const kUnsupportedRemedy =
    "convert it to PNG or JPEG, or use a partplan build configured with -DPARTPLAN_IMAGE_BACKEND=opencv "
    "(docs/building.md)";

bool starts_with(std::string_view bytes, std::string_view magic, size_t at = 0) {
  return bytes.size() >= at + magic.size() && bytes.substr(at, magic.size()) == magic;
}

uint32_t le32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(k)]);
  return v;
}
uint16_t le16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | (static_cast<uint8_t>(b[at + 1]) << 8));
}

enum class Format { kPng, kJpeg, kBmp, kPnm, kOther };

// The format by its signature; throws UnsupportedFormatError for formats the OpenCV path reads
// and stb_image does not.
Format sniff(std::string_view b, const std::string& name) {
  auto refuse = [&](const char* what) {
    throw UnsupportedFormatError(name, std::string(what) + ", which this partplan build (images: stb) cannot decode",
                                 kUnsupportedRemedy);
  };
  if (starts_with(b, "\x89PNG\r\n\x1a\n")) return Format::kPng;
  if (starts_with(b, "\xff\xd8\xff")) return Format::kJpeg;
  if (starts_with(b, "BM")) return Format::kBmp;
  if (starts_with(b, "P5") || starts_with(b, "P6")) return Format::kPnm;
  if (starts_with(b, "P1") || starts_with(b, "P2") || starts_with(b, "P3") || starts_with(b, "P4"))
    refuse("a text or 1-bit PBM/PGM/PPM image");
  if (starts_with(b, std::string_view("II*\0", 4)) || starts_with(b, std::string_view("MM\0*", 4))) refuse("a TIFF image");
  if (starts_with(b, "RIFF") && starts_with(b, "WEBP", 8)) refuse("a WebP image");
  if (starts_with(b, std::string_view("\0\0\0\x0cjP  ", 8)) || starts_with(b, "\xff\x4f\xff\x51"))
    refuse("a JPEG 2000 image");
  if (starts_with(b, "\x76\x2f\x31\x01")) refuse("an OpenEXR image");
  if (starts_with(b, "#?RADIANCE") || starts_with(b, "#?RGBE")) refuse("a Radiance HDR image");
  return Format::kOther;
}

// Channels OpenCV's decoder gives for a file whose stb decode has `n`: a gray+alpha PNG
// (colour type 4) is read as BGRA, a gray PNG with a transparent colour (type 0 + tRNS) as
// gray; a BMP of at most 8 bits whose palette is all gray as gray.
int opencv_channels(std::string_view b, Format f, int n) {
  if (n == 2) return f == Format::kPng && b.size() > 25 && static_cast<uint8_t>(b[25]) == 4 ? 3 : 1;
  if (n == 4) return 3;
  if (n == 3 && f == Format::kBmp && b.size() >= 54) {
    const uint32_t header = le32(b, 14);
    const uint16_t bpp = header == 12 ? le16(b, 24) : le16(b, 28);
    if (bpp > 8) return 3;
    const size_t entry = header == 12 ? 3 : 4;
    uint32_t colours = header >= 40 ? le32(b, 46) : 0;
    if (colours == 0 || colours > (1u << bpp)) colours = 1u << bpp;
    const size_t at = 14 + header;
    if (b.size() < at + colours * entry) return 3;
    for (uint32_t i = 0; i < colours; ++i) {
      const size_t p = at + i * entry;
      if (b[p] != b[p + 1] || b[p] != b[p + 2]) return 3;
    }
    return 1;
  }
  return n;
}

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

// The decoded samples (8- or 16-bit), mapped to 1 or 3 channels and converted to T by from8 or
// from16: the u8 and unit decodes differ only in those.
template <typename T, typename Convert8, typename Convert16>
Image<T> decode(std::string_view bytes, const std::string& name, Convert8 from8, Convert16 from16) {
  if (bytes.empty()) throw DecodeError(name, "an empty file", kCorruptRemedy);
  const Format format = sniff(bytes, name);
  if (format == Format::kOther || bytes.size() > static_cast<size_t>(INT32_MAX))
    throw DecodeError(name, "not a decodable image (corrupt or unsupported format)", kCorruptRemedy);
  portable::check_declared_size(bytes, name, kCorruptRemedy);  // before stb allocates what a header claims
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, n = 0;
  const bool deep = stbi_is_16_bit_from_memory(data, len) != 0;
  // stb_image 2.27 reads 16-bit PGM/PPM samples in the wrong byte order.
  if (deep && format == Format::kPnm)
    throw UnsupportedFormatError(name, "a 16-bit PGM/PPM image, which this partplan build (images: stb) cannot decode",
                                 kUnsupportedRemedy);
  std::unique_ptr<void, StbFree> raw(deep ? static_cast<void*>(stbi_load_16_from_memory(data, len, &w, &h, &n, 0))
                                          : static_cast<void*>(stbi_load_from_memory(data, len, &w, &h, &n, 0)));
  if (!raw) {
    const char* why = stbi_failure_reason();
    throw DecodeError(name, std::string("not a decodable image (corrupt or unsupported format: ") + (why ? why : "?") + ")",
                      kCorruptRemedy);
  }
  const int channels = opencv_channels(bytes, format, n);
  Image<T> out(h, w, channels);
  const size_t plane = static_cast<size_t>(w) * static_cast<size_t>(h);
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < channels; ++c) {
      // Gray sources (n = 1 or 2) feed every output channel; RGB(A) ones their own.
      const size_t at = p * static_cast<size_t>(n) + static_cast<size_t>(n <= 2 ? 0 : c);
      out.pixels[p * static_cast<size_t>(channels) + static_cast<size_t>(c)] =
          deep ? from16(static_cast<const uint16_t*>(raw.get())[at]) : from8(static_cast<const uint8_t*>(raw.get())[at]);
    }
  return out;
}

std::string lower_extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

void check_encodable(const ImageU8& image, const std::string& what) {
  if (image.empty() || (image.channels != 1 && image.channels != 3))
    throw UsageError("cannot encode " + what + ": expected a non-empty image of 1 or 3 channels, got " +
                     std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                     std::to_string(image.channels));
}

void append(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

void put_le(std::vector<uint8_t>& out, uint32_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) out.push_back(static_cast<uint8_t>((v >> (8 * k)) & 0xff));
}

// An 8-bit BMP with a gray palette: stb_image_write writes every BMP as 24-bit, which would
// read back as RGB; OpenCV writes gray BMPs this way.
std::vector<uint8_t> gray_bmp(const ImageU8& im) {
  const uint32_t stride = (static_cast<uint32_t>(im.width) + 3u) & ~3u;
  const uint32_t offset = 14 + 40 + 256 * 4;
  const uint32_t size = offset + stride * static_cast<uint32_t>(im.height);
  std::vector<uint8_t> out;
  out.reserve(size);
  out.push_back('B');
  out.push_back('M');
  put_le(out, size, 4);
  put_le(out, 0, 4);
  put_le(out, offset, 4);
  put_le(out, 40, 4);
  put_le(out, static_cast<uint32_t>(im.width), 4);
  put_le(out, static_cast<uint32_t>(im.height), 4);  // positive: rows bottom-up
  put_le(out, 1, 2);
  put_le(out, 8, 2);
  put_le(out, 0, 4);  // BI_RGB
  put_le(out, stride * static_cast<uint32_t>(im.height), 4);
  put_le(out, 2835, 4);  // 72 dpi
  put_le(out, 2835, 4);
  put_le(out, 256, 4);
  put_le(out, 0, 4);
  for (uint32_t i = 0; i < 256; ++i) put_le(out, i * 0x010101u, 4);
  for (int y = im.height - 1; y >= 0; --y) {
    const uint8_t* row = &im.pixels[im.index(y, 0)];
    out.insert(out.end(), row, row + im.width);
    out.insert(out.end(), stride - static_cast<uint32_t>(im.width), 0);
  }
  return out;
}

// stb_easy_font draws characters 32..126 on a grid of 1-unit segments: capitals 7 units high
// above the baseline, descenders 2 below, advances of about 6. One unit is a whole number of
// pixels (1 at the report's scales of 0.35-0.5), so text stays crisp.
int font_unit(double scale) { return std::max(1, static_cast<int>(std::lround(scale * 22.0 / 7.0 - 0.25))); }
constexpr int kCapUnits = 7, kDescentUnits = 2;

std::string printable(const std::string& text) {
  std::string out = text;
  for (auto& ch : out)
    if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) ch = '?';
  return out;
}

}  // namespace

ImageU8 decode_u8(std::string_view bytes, const std::string& name) {
  return decode<uint8_t>(
      bytes, name, [](uint8_t v) { return v; },
      // OpenCV: convertTo(CV_8U, 1 / 257.0), computed in float and rounded to even.
      [](uint16_t v) {
        return static_cast<uint8_t>(std::clamp(static_cast<int>(std::lrintf(static_cast<float>(v) * static_cast<float>(1.0 / 257.0))), 0, 255));
      });
}

ImageF32 decode_unit(std::string_view bytes, const std::string& name) {
  return decode<float>(
      bytes, name, [](uint8_t v) { return static_cast<float>(v) * static_cast<float>(1.0 / 255.0); },
      [](uint16_t v) { return static_cast<float>(v) * static_cast<float>(1.0 / 65535.0); });
}

std::vector<uint8_t> encode_png(const ImageU8& image) {
  check_encodable(image, "a PNG");
  std::vector<uint8_t> out;
  if (!stbi_write_png_to_func(append, &out, image.width, image.height, image.channels, image.pixels.data(),
                              image.width * image.channels))
    throw IoError("cannot encode an image as PNG: stb_image_write failed (out of memory?)");
  return out;
}

std::vector<uint8_t> encode_as(const ImageU8& image, const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".webp" || ext == ".tif" || ext == ".tiff")
    throw DataError("cannot write '" + path + "': this partplan build (images: stb) writes .png, .jpg and .bmp, not " +
                    ext + "; use .png, or a build configured with -DPARTPLAN_IMAGE_BACKEND=opencv");
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg" && ext != ".bmp")
    throw DataError("cannot write '" + path + "': unknown image extension; use .png, .jpg or .bmp");
  check_encodable(image, "'" + path + "'");
  if (ext == ".png") return encode_png(image);
  if (ext == ".bmp" && image.channels == 1) return gray_bmp(image);
  std::vector<uint8_t> out;
  const int ok = ext == ".bmp" ? stbi_write_bmp_to_func(append, &out, image.width, image.height, image.channels,
                                                         image.pixels.data())
                               : stbi_write_jpg_to_func(append, &out, image.width, image.height, image.channels,
                                                        image.pixels.data(), /*quality=*/95);
  if (!ok) throw DataError("cannot encode '" + path + "' as " + ext + ": stb_image_write failed");
  return out;
}

template <typename T>
Image<T> resize(const Image<T>& image, int height, int width, Interpolation how) {
  return portable::resize(image, height, width, how);
}

template <typename T>
Image<T> convert_channels(const Image<T>& image, int channels) {
  return portable::convert_channels(image, channels);
}

template Image<uint8_t> resize(const Image<uint8_t>&, int, int, Interpolation);
template Image<float> resize(const Image<float>&, int, int, Interpolation);
template Image<uint8_t> convert_channels(const Image<uint8_t>&, int);
template Image<float> convert_channels(const Image<float>&, int);

void Canvas::line(Point from, Point to, Rgb color, int thickness, bool antialiased) {
  portable::draw_line(image_, from, to, color, thickness, antialiased);
}

void Canvas::rectangle(Point a, Point b, Rgb color) { portable::draw_rectangle(image_, a, b, color); }

void Canvas::circle(Point centre, int radius, Rgb color, bool filled, bool antialiased) {
  portable::draw_circle(image_, centre, radius, color, filled, antialiased);
}

void Canvas::text(const std::string& text, Point origin, double scale, Rgb color) {
  std::string s = printable(text);
  if (s.empty()) return;
  const int u = font_unit(scale);
  // 4 vertices of 16 bytes per quad; no character has more than 20 segments.
  std::vector<char> quads((s.size() + 1) * 20 * 64);
  const int n = stb_easy_font_print(0, 0, s.data(), nullptr, quads.data(), static_cast<int>(quads.size()));
  const int top = origin.y + 1 - kCapUnits * u;
  for (int q = 0; q < n; ++q) {
    float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
    for (int v = 0; v < 4; ++v) {
      float xy[2];
      std::memcpy(xy, quads.data() + (q * 4 + v) * 16, sizeof(xy));
      x0 = std::min(x0, xy[0]), x1 = std::max(x1, xy[0]);
      y0 = std::min(y0, xy[1]), y1 = std::max(y1, xy[1]);
    }
    portable::fill_rect(image_, origin.x + static_cast<int>(std::lround(x0)) * u, top + static_cast<int>(std::lround(y0)) * u,
                        origin.x + static_cast<int>(std::lround(x1)) * u, top + static_cast<int>(std::lround(y1)) * u,
                        color);
  }
}

TextSize Canvas::text_size(const std::string& text, double scale) {
  std::string s = printable(text);
  const int u = font_unit(scale);
  return {s.empty() ? 0 : stb_easy_font_width(s.data()) * u, kCapUnits * u, kDescentUnits * u};
}

}  // namespace partplan::imaging
