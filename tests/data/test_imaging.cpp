// The image backend (include/partplan/imaging) in both builds, on tiny files embedded below:
// PNG (8- and 16-bit, gray+alpha) and JPEG decoding, exact PNG round trips, encode_as, resizing
// and channel conversion with known answers, the formats the stb build refuses by name, and the
// Canvas. In opencv builds also partplan's own resampling and gray conversion (the code the stb
// build runs, src/imaging/portable.cpp) against OpenCV's, on random images and on the example
// photos when set-up has made them (models/photos).
//
// The embedded files were written by OpenCV 4.6 (the gray+alpha PNG by stb_image_write, since
// OpenCV does not write 2-channel PNGs).
#include <ATen/ATen.h>  // before Catch2, whose CHECK would otherwise be glog's
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/common/log.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/imaging/canvas.hpp"
#include "partplan/imaging/image.hpp"
#include "src/imaging/portable.hpp"
#include "temp_dir.hpp"

namespace im = partplan::imaging;
using partplan::test::TempDir;

namespace {

// 663 bytes
constexpr char kQuadrantsJpeg[] =
    "\xff\xd8\xff\xe0\x00\x10\x4a\x46\x49\x46\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00\x43"
    "\x00\x02\x01\x01\x01\x01\x01\x02\x01\x01\x01\x02\x02\x02\x02\x02\x04\x03\x02\x02\x02\x02\x05\x04"
    "\x04\x03\x04\x06\x05\x06\x06\x06\x05\x06\x06\x06\x07\x09\x08\x06\x07\x09\x07\x06\x06\x08\x0b\x08"
    "\x09\x0a\x0a\x0a\x0a\x0a\x06\x08\x0b\x0c\x0b\x0a\x0c\x09\x0a\x0a\x0a\xff\xdb\x00\x43\x01\x02\x02"
    "\x02\x02\x02\x02\x05\x03\x03\x05\x0a\x07\x06\x07\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a"
    "\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a"
    "\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\x0a\xff\xc0\x00\x11\x08\x00\x20\x00\x20\x03"
    "\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xc4\x00\x1f\x00\x00\x01\x05\x01\x01\x01\x01\x01\x01\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff\xc4\x00\xb5\x10\x00"
    "\x02\x01\x03\x03\x02\x04\x03\x05\x05\x04\x04\x00\x00\x01\x7d\x01\x02\x03\x00\x04\x11\x05\x12\x21"
    "\x31\x41\x06\x13\x51\x61\x07\x22\x71\x14\x32\x81\x91\xa1\x08\x23\x42\xb1\xc1\x15\x52\xd1\xf0\x24"
    "\x33\x62\x72\x82\x09\x0a\x16\x17\x18\x19\x1a\x25\x26\x27\x28\x29\x2a\x34\x35\x36\x37\x38\x39\x3a"
    "\x43\x44\x45\x46\x47\x48\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69\x6a"
    "\x73\x74\x75\x76\x77\x78\x79\x7a\x83\x84\x85\x86\x87\x88\x89\x8a\x92\x93\x94\x95\x96\x97\x98\x99"
    "\x9a\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3\xc4\xc5\xc6"
    "\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf1"
    "\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xff\xc4\x00\x1f\x01\x00\x03\x01\x01\x01\x01\x01\x01\x01\x01"
    "\x01\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff\xc4\x00\xb5\x11\x00"
    "\x02\x01\x02\x04\x04\x03\x04\x07\x05\x04\x04\x00\x01\x02\x77\x00\x01\x02\x03\x11\x04\x05\x21\x31"
    "\x06\x12\x41\x51\x07\x61\x71\x13\x22\x32\x81\x08\x14\x42\x91\xa1\xb1\xc1\x09\x23\x33\x52\xf0\x15"
    "\x62\x72\xd1\x0a\x16\x24\x34\xe1\x25\xf1\x17\x18\x19\x1a\x26\x27\x28\x29\x2a\x35\x36\x37\x38\x39"
    "\x3a\x43\x44\x45\x46\x47\x48\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69"
    "\x6a\x73\x74\x75\x76\x77\x78\x79\x7a\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x92\x93\x94\x95\x96\x97"
    "\x98\x99\x9a\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3\xc4"
    "\xc5\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea"
    "\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00\xf9"
    "\x6e\x8a\x28\xaf\xe7\xf3\xfd\x7c\x3e\xb8\xa2\x8a\x2b\xe6\xcf\xf9\x5b\x3e\x07\xa2\x8a\x2b\xfd\xdc"
    "\x3f\xb4\x0f\xb9\x28\xa2\x8a\xff\x00\x31\xcf\xd6\x0f\xff\xd9"
;
// 341 bytes
constexpr char kGrayJpeg[] =
    "\xff\xd8\xff\xe0\x00\x10\x4a\x46\x49\x46\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00\x43"
    "\x00\x02\x01\x01\x01\x01\x01\x02\x01\x01\x01\x02\x02\x02\x02\x02\x04\x03\x02\x02\x02\x02\x05\x04"
    "\x04\x03\x04\x06\x05\x06\x06\x06\x05\x06\x06\x06\x07\x09\x08\x06\x07\x09\x07\x06\x06\x08\x0b\x08"
    "\x09\x0a\x0a\x0a\x0a\x0a\x06\x08\x0b\x0c\x0b\x0a\x0c\x09\x0a\x0a\x0a\xff\xc0\x00\x0b\x08\x00\x10"
    "\x00\x10\x01\x01\x11\x00\xff\xc4\x00\x1f\x00\x00\x01\x05\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff\xc4\x00\xb5\x10\x00\x02\x01\x03"
    "\x03\x02\x04\x03\x05\x05\x04\x04\x00\x00\x01\x7d\x01\x02\x03\x00\x04\x11\x05\x12\x21\x31\x41\x06"
    "\x13\x51\x61\x07\x22\x71\x14\x32\x81\x91\xa1\x08\x23\x42\xb1\xc1\x15\x52\xd1\xf0\x24\x33\x62\x72"
    "\x82\x09\x0a\x16\x17\x18\x19\x1a\x25\x26\x27\x28\x29\x2a\x34\x35\x36\x37\x38\x39\x3a\x43\x44\x45"
    "\x46\x47\x48\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69\x6a\x73\x74\x75"
    "\x76\x77\x78\x79\x7a\x83\x84\x85\x86\x87\x88\x89\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3"
    "\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9"
    "\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf1\xf2\xf3\xf4"
    "\xf5\xf6\xf7\xf8\xf9\xfa\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\xfc\xc7\xaf\xe9\x62\xbf\x9a\x7a"
    "\xfe\x96\x2b\xff\xd9"
;
// 83 bytes
constexpr char kGray16Png[] =
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x04\x00\x00\x00\x02"
    "\x10\x00\x00\x00\x00\x0a\x53\xfe\xfc\x00\x00\x00\x1a\x49\x44\x41\x54\x08\x1d\x63\x64\x60\x60\x60"
    "\x64\x64\xa8\xfb\xc7\xd8\xc0\x50\xff\x8f\x81\xd1\xd0\x0a\x00\x1c\x2d\x03\xea\xab\xac\x36\x1c\x00"
    "\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82"
;
// 77 bytes
constexpr char kGrayAlphaPng[] =
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x03\x00\x00\x00\x02"
    "\x08\x04\x00\x00\x00\x37\x7d\xae\x91\x00\x00\x00\x14\x49\x44\x41\x54\x78\x5e\x63\xe4\xfa\xaf\xf1"
    "\x48\xe3\x11\x4b\xc5\x32\x10\x05\x00\x2a\x38\x06\x55\xe6\x6a\xe9\xf4\x00\x00\x00\x00\x49\x45\x4e"
    "\x44\xae\x42\x60\x82"
;
// 192 bytes
constexpr char kTiny4x4Tiff[] =
    "\x49\x49\x2a\x00\x1e\x00\x00\x00\x80\x07\x82\x80\xa0\x04\x16\x0d\x06\x81\x41\x20\xf0\x78\x4c\x2e"
    "\x19\x03\x87\x41\xa0\x20\x0c\x00\x00\x01\x03\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01\x01\x03\x00"
    "\x01\x00\x00\x00\x04\x00\x00\x00\x02\x01\x03\x00\x03\x00\x00\x00\xb4\x00\x00\x00\x03\x01\x03\x00"
    "\x01\x00\x00\x00\x05\x00\x00\x00\x06\x01\x03\x00\x01\x00\x00\x00\x02\x00\x00\x00\x11\x01\x04\x00"
    "\x01\x00\x00\x00\x08\x00\x00\x00\x15\x01\x03\x00\x01\x00\x00\x00\x03\x00\x00\x00\x16\x01\x03\x00"
    "\x01\x00\x00\x00\x04\x00\x00\x00\x17\x01\x04\x00\x01\x00\x00\x00\x16\x00\x00\x00\x1c\x01\x03\x00"
    "\x01\x00\x00\x00\x01\x00\x00\x00\x3d\x01\x03\x00\x01\x00\x00\x00\x02\x00\x00\x00\x53\x01\x03\x00"
    "\x03\x00\x00\x00\xba\x00\x00\x00\x00\x00\x00\x00\x08\x00\x08\x00\x08\x00\x01\x00\x01\x00\x01\x00"
;
// 38 bytes
constexpr char kTiny4x4Webp[] =
    "\x52\x49\x46\x46\x1e\x00\x00\x00\x57\x45\x42\x50\x56\x50\x38\x4c\x11\x00\x00\x00\x2f\x03\xc0\x00"
    "\x00\x07\x50\x8a\x7a\x54\xa1\xff\x81\x88\xe8\x7f\x00\x00"
;

template <size_t N>
std::string bytes_of(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

const bool kStb = std::string(partplan::kImageBackend) == "stb";

// Deterministic pseudo-random pixels.
im::ImageU8 random_image(int h, int w, int c, uint32_t seed) {
  im::ImageU8 out(h, w, c);
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& v : out.pixels) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<uint8_t>(s >> 24);
  }
  return out;
}

// A smooth RGB gradient, which JPEG keeps well.
im::ImageU8 gradient(int h, int w) {
  im::ImageU8 out(h, w, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      out.at(y, x, 0) = static_cast<uint8_t>(40 + 160 * x / std::max(1, w - 1));
      out.at(y, x, 1) = static_cast<uint8_t>(60 + 120 * y / std::max(1, h - 1));
      out.at(y, x, 2) = 128;
    }
  return out;
}

im::ImageF32 to_float(const im::ImageU8& u8) {
  im::ImageF32 out(u8.height, u8.width, u8.channels);
  for (size_t i = 0; i < u8.pixels.size(); ++i) out.pixels[i] = u8.pixels[i] / 255.f;
  return out;
}

template <typename T>
double max_abs_diff(const im::Image<T>& a, const im::Image<T>& b) {
  REQUIRE(a.height == b.height);
  REQUIRE(a.width == b.width);
  REQUIRE(a.channels == b.channels);
  double d = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i)
    d = std::max(d, std::abs(static_cast<double>(a.pixels[i]) - static_cast<double>(b.pixels[i])));
  return d;
}

std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

bool near(const im::ImageU8& m, int y, int x, std::initializer_list<int> rgb, int tolerance) {
  int c = 0;
  for (int v : rgb)
    if (std::abs(m.at(y, x, c++) - v) > tolerance) return false;
  return true;
}

}  // namespace

TEST_CASE("imaging: PNGs round-trip exactly, gray and RGB", "[data][imaging]") {
  for (int c : {1, 3})
    for (auto [h, w] : {std::pair{1, 1}, std::pair{5, 7}, std::pair{33, 64}}) {
      const auto image = random_image(h, w, c, static_cast<uint32_t>(h * 100 + w + c));
      const auto png = im::encode_png(image);
      REQUIRE(png.size() > 8);
      CHECK(png[1] == 'P');
      CHECK(im::decode_u8(as_string(png), "strip.png") == image);
      const auto unit = im::decode_unit(as_string(png), "strip.png");
      REQUIRE(unit.pixels.size() == image.pixels.size());
      for (size_t i = 0; i < unit.pixels.size(); ++i) CHECK(std::abs(unit.pixels[i] - image.pixels[i] / 255.f) < 1e-7f);
    }
  CHECK_THROWS_AS(im::encode_png(im::ImageU8()), partplan::UsageError);
}

TEST_CASE("imaging: 16-bit and gray+alpha PNGs decode as OpenCV reads them", "[data][imaging]") {
  const auto unit = im::decode_unit(bytes_of(kGray16Png), "deep.png");
  REQUIRE(unit.channels == 1);
  REQUIRE(unit.height == 2);
  REQUIRE(unit.width == 4);
  const uint16_t raw[8] = {0, 1, 257, 32767, 32768, 65534, 65535, 12345};
  for (int i = 0; i < 8; ++i) CHECK(std::abs(unit.pixels[i] - raw[i] / 65535.f) < 1e-7f);
  // 8 bits: round(v / 257), ties to even.
  const auto u8 = im::decode_u8(bytes_of(kGray16Png), "deep.png");
  CHECK(u8.pixels == std::vector<uint8_t>{0, 0, 1, 127, 128, 255, 255, 48});

  const auto ga = im::decode_u8(bytes_of(kGrayAlphaPng), "ga.png");
  REQUIRE(ga.channels == 3);  // OpenCV reads gray+alpha as BGRA
  REQUIRE(ga.width == 3);
  for (int i = 0; i < 6; ++i)
    for (int c = 0; c < 3; ++c) CHECK(ga.at(i / 3, i % 3, c) == 40 * i + 10);
}

TEST_CASE("imaging: JPEGs decode to the colours they were saved with", "[data][imaging]") {
  const auto q = im::decode_u8(bytes_of(kQuadrantsJpeg), "quadrants.jpg");
  REQUIRE(q.channels == 3);
  REQUIRE(q.height == 32);
  REQUIRE(q.width == 32);
  // libjpeg and stb_image differ by a few levels; both keep each 16x16 quadrant's colour.
  CHECK(near(q, 8, 8, {220, 30, 30}, 6));
  CHECK(near(q, 8, 24, {30, 200, 60}, 6));
  CHECK(near(q, 24, 8, {40, 60, 210}, 6));
  CHECK(near(q, 24, 24, {128, 128, 128}, 6));
  const auto g = im::decode_u8(bytes_of(kGrayJpeg), "gray.jpg");
  REQUIRE(g.channels == 1);
  CHECK(std::abs(g.at(8, 3) - 50) <= 6);
  CHECK(std::abs(g.at(8, 12) - 200) <= 6);
  const auto unit = im::decode_unit(bytes_of(kGrayJpeg), "gray.jpg");
  CHECK(std::abs(unit.at(8, 3) - g.at(8, 3) / 255.f) < 1e-6f);
}

TEST_CASE("imaging: empty and corrupt bytes are decode errors naming the file", "[data][imaging]") {
  CHECK_THROWS_AS(im::decode_u8("", "a.png"), im::DecodeError);
  CHECK_THROWS_WITH(im::decode_u8("", "a.png"), Catch::Contains("'a.png'") && Catch::Contains("empty"));
  const std::string truncated = "\x89PNG\r\n\x1a\n but then garbage";
  CHECK_THROWS_WITH(im::decode_unit(truncated, "dir/b.png"),
                    Catch::Contains("'dir/b.png' is not a decodable image") && Catch::Contains("re-export"));
  try {
    im::decode_u8("not an image at all", "c.png");
    FAIL("no error");
  } catch (const im::DecodeError& e) {
    CHECK_THAT(e.reason(), Catch::StartsWith("not a decodable image"));
    CHECK(dynamic_cast<const im::UnsupportedFormatError*>(&e) == nullptr);
  }
}

namespace {
// What `fn` writes to file descriptor 2, with fd 2 sent to a temporary file meanwhile.
std::string fd2_of(const std::function<void()>& fn) {
  std::fflush(stderr);
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  const int saved = ::dup(2);
  ::dup2(::fileno(f), 2);
  try {
    fn();
  } catch (...) {
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string text(4096, '\0');
  text.resize(static_cast<size_t>(std::max<ssize_t>(0, ::pread(::fileno(f), text.data(), text.size(), 0))));
  std::fclose(f);
  return text;
}
}  // namespace

TEST_CASE("log: capture_stderr keeps a library's own lines off stderr and restores it", "[data][imaging]") {
  std::string got;
  const auto outside = fd2_of([&] {
    got = partplan::log::capture_stderr([] {
      std::fprintf(stderr, "libpng warning: iCCP: known incorrect sRGB profile\n");
      (void)!::write(2, "raw\n", 4);
    });
    std::fprintf(stderr, "after\n");
  });
  CHECK(got == "libpng warning: iCCP: known incorrect sRGB profile\nraw\n");
  CHECK(outside == "after\n");
  CHECK_THROWS_AS(partplan::log::capture_stderr([] { throw std::runtime_error("x"); }), std::runtime_error);
  CHECK(fd2_of([] { std::fprintf(stderr, "restored\n"); }) == "restored\n");
}

TEST_CASE("imaging: a truncated PNG is one partplan error, with no codec lines on stderr", "[data][imaging]") {
  im::ImageU8 image;
  image.width = image.height = 16;
  image.channels = 3;
  image.pixels.resize(16 * 16 * 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 37);
  const auto png = as_string(im::encode_as(image, "x.png"));
  const std::string cut = png.substr(0, png.size() / 2);
  std::string message;
  const auto err = fd2_of([&] {
    try {
      im::decode_u8(cut, "dir/cut.png");
    } catch (const im::DecodeError& e) {
      message = e.what();
    }
  });
  CHECK(err.empty());
  CHECK_THAT(message, Catch::Contains("'dir/cut.png' is not a decodable image"));
}

// Found by fuzz/fuzz_image.cpp in CI (scripts/fuzz.sh): a 290-byte JPEG whose frame header
// declares 7710 x 57118 pixels made OpenCV allocate 1.3 GB twice, past the fuzzer's 2 GiB.
TEST_CASE("imaging: a header that declares more than 100 million pixels is refused before decoding (fuzz regression)",
          "[data][imaging]") {
  const auto jpeg = partplan::common::base64_decode(
      "/9j/4AAQ7UpGSUYAAQEAAAEAAQAA/9sAQwAFAwQEBAMFBAQEp6enBgcMGAcHBwcfCwsJDBEPEhIRDxERExYcFxMUGhURIRgYERodHR8f"
      "HxMXIiQiHiQc2OAe/9sAQwEFBUJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQgV6eR4e"
      "Hh4e/8AAEQjfHh4eAwEiAAIRAQMRAQAAAB2wN8OoAv5N/ssAAAAAAAAAHfZmWvT19vf4+fr/2gAMAwEAAhEDEQCysrJEUgAAALIF");
  REQUIRE(jpeg);
  const std::string bytes(jpeg->begin(), jpeg->end());
  CHECK(partplan::imaging::portable::declared_size(bytes) == std::make_pair(int64_t{7710}, int64_t{57118}));
  CHECK_THROWS_AS(im::decode_u8(bytes, "big.jpg"), im::DecodeError);
  CHECK_THROWS_WITH(im::decode_unit(bytes, "big.jpg"),
                    Catch::Contains("'big.jpg' is an image whose header declares 7710x57118 pixels, more than "
                                    "partplan decodes (100 million)"));
  // A PNG header of 65535 x 65535 (the chunk's CRC is never reached).
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\xff\xff\0\0\xff\xff\x08\x02\0\0\0\0\0\0\0", 33);
  CHECK(partplan::imaging::portable::declared_size(png) == std::make_pair(int64_t{65535}, int64_t{65535}));
  CHECK_THROWS_WITH(im::decode_u8(png, "big.png"), Catch::Contains("declares 65535x65535 pixels"));
  // Real files' headers are read right, and decode.
  im::ImageU8 small(5, 7, 3);
  for (const char* ext : {"a.png", "a.jpg", "a.bmp"}) {
    INFO(ext);
    CHECK(partplan::imaging::portable::declared_size(as_string(im::encode_as(small, ext))) ==
          std::make_pair(int64_t{7}, int64_t{5}));
  }
  CHECK(partplan::imaging::portable::declared_size("P6\n# c\n7 5\n255\n") == std::make_pair(int64_t{7}, int64_t{5}));
}

TEST_CASE("imaging: TIFF and WebP are read by the opencv build and refused by name by the stb build",
          "[data][imaging]") {
  const auto tiff = bytes_of(kTiny4x4Tiff);
  if (!kStb) {
    const auto t = im::decode_u8(tiff, "x.tiff");
    REQUIRE(t.channels == 3);
    CHECK(near(t, 2, 2, {30, 20, 10}, 0));
    CHECK(near(im::decode_u8(bytes_of(kTiny4x4Webp), "x.webp"), 1, 1, {30, 20, 10}, 0));
    CHECK(im::decode_u8(as_string(im::encode_as(t, "y.TIFF")), "y.tiff") == t);
  } else {
    CHECK_THROWS_AS(im::decode_u8(tiff, "x.tiff"), im::UnsupportedFormatError);
    CHECK_THROWS_WITH(im::decode_unit(tiff, "dir/x.tiff"),
                      Catch::Contains("'dir/x.tiff' is a TIFF image") && Catch::Contains("images: stb") &&
                          Catch::Contains("PARTPLAN_IMAGE_BACKEND=opencv"));
    CHECK_THROWS_WITH(im::decode_u8(bytes_of(kTiny4x4Webp), "x.webp"), Catch::Contains("WebP"));
    CHECK_THROWS_WITH(im::encode_as(gradient(4, 4), "out/y.tiff"),
                      Catch::Contains("out/y.tiff") && Catch::Contains("images: stb"));
  }
  // In an image folder, a file this build cannot read at all fails the load, naming it.
  TempDir t;
  t.write("a.png", as_string(im::encode_png(gradient(8, 8))));
  t.write("b.tiff", tiff);
  partplan::data::LoadOptions o;
  o.sample_shape = {3, 4, 4};
  if (!kStb) {
    CHECK(partplan::data::load(t.path.string(), o).size() == 2);
  } else {
    CHECK_THROWS_WITH(partplan::data::load(t.path.string(), o),
                      Catch::Contains("b.tiff") && Catch::Contains("images: stb"));
  }
}

TEST_CASE("imaging: encode_as writes JPEG close and BMP exactly, gray staying gray", "[data][imaging]") {
  const auto smooth = gradient(16, 24);
  const auto jpg = im::decode_u8(as_string(im::encode_as(smooth, "a.jpg")), "a.jpg");
  CHECK(max_abs_diff(jpg, smooth) <= 8);
  for (int c : {1, 3}) {
    const auto image = random_image(9, 13, c, 7u + static_cast<uint32_t>(c));
    CHECK(im::decode_u8(as_string(im::encode_as(image, "b.BMP")), "b.bmp") == image);
  }
  CHECK_THROWS_AS(im::encode_as(smooth, "c.gif"), partplan::DataError);
  CHECK_THROWS_AS(im::encode_as(im::ImageU8(2, 2, 2), "d.png"), partplan::UsageError);
}

TEST_CASE("imaging: resizing and channel conversion, known answers", "[data][imaging]") {
  SECTION("nearest replicates, area averages blocks, bilinear interpolates centres") {
    im::ImageU8 two(2, 2, 1);
    two.pixels = {10, 20, 30, 40};
    const auto big = im::resize(two, 4, 4, im::Interpolation::kNearest);
    CHECK(big.pixels == std::vector<uint8_t>{10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40});
    // 2x2 means, rounded half up as OpenCV's (sum + 2) >> 2.
    im::ImageU8 four(4, 4, 1);
    four.pixels = {0, 1, 10, 10, 1, 1, 10, 11, 5, 5, 7, 8, 5, 6, 8, 8};
    CHECK(im::resize(four, 2, 2, im::Interpolation::kArea).pixels == std::vector<uint8_t>{1, 10, 5, 8});
    // Bilinear is bilinear at half size too: OpenCV takes the 2x2 mean there.
    CHECK(im::resize(four, 2, 2, im::Interpolation::kBilinear).pixels == std::vector<uint8_t>{1, 10, 5, 8});
    // Target centres of 1x2 -> 1x4 fall at source x = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    im::ImageU8 ramp(1, 2, 1);
    ramp.pixels = {0, 200};
    CHECK(im::resize(ramp, 1, 4, im::Interpolation::kBilinear).pixels == std::vector<uint8_t>{0, 50, 150, 200});
    // A 3x shrink averages 3x3 blocks.
    im::ImageU8 nine(3, 3, 1);
    nine.pixels = {9, 9, 9, 9, 9, 9, 9, 9, 18};
    CHECK(im::resize(nine, 1, 1, im::Interpolation::kArea).pixels == std::vector<uint8_t>{10});
  }
  SECTION("a flat image stays flat at any size and kernel; floats stay in [0, 1]") {
    const im::ImageU8 flat(11, 7, 3, 77);
    for (auto how : {im::Interpolation::kNearest, im::Interpolation::kBilinear, im::Interpolation::kArea})
      for (auto [h, w] : {std::pair{3, 5}, std::pair{20, 30}, std::pair{4, 21}}) {
        const auto r = im::resize(flat, h, w, how);
        CHECK(r.height == h);
        CHECK(r.width == w);
        CHECK(std::all_of(r.pixels.begin(), r.pixels.end(), [](uint8_t v) { return v == 77; }));
        const auto f = im::resize(to_float(random_image(11, 7, 3, 5)), h, w, how);
        CHECK(std::all_of(f.pixels.begin(), f.pixels.end(), [](float v) { return v >= 0.f && v <= 1.f; }));
      }
  }
  SECTION("resize_to shrinks by area and enlarges bilinearly; cover_crop fills and centres") {
    const auto image = random_image(8, 8, 3, 11);
    CHECK(im::resize_to(image, 3, 4, 4) == im::resize(image, 4, 4, im::Interpolation::kArea));
    CHECK(im::resize_to(image, 3, 12, 12) == im::resize(image, 12, 12, im::Interpolation::kBilinear));
    // 40x20, left half red and right half blue, covered to 32x16: the centre 16 columns.
    im::ImageU8 halves(20, 40, 3);
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 40; ++x) halves.at(y, x, x < 20 ? 0 : 2) = 255;
    const auto c = im::cover_crop(halves, 3, 16, 16);
    REQUIRE(c.height == 16);
    REQUIRE(c.width == 16);
    CHECK(near(c, 8, 0, {255, 0, 0}, 0));
    CHECK(near(c, 8, 15, {0, 0, 255}, 0));
    CHECK(im::cover_crop(halves, 1, 10, 10).channels == 1);
  }
  SECTION("channels: BT.601 luma in OpenCV's fixed point, gray replicated") {
    im::ImageU8 rgb(1, 3, 3, 0);
    rgb.at(0, 0, 0) = 255;
    rgb.at(0, 1, 1) = 255;
    rgb.at(0, 2, 2) = 255;
    CHECK(im::convert_channels(rgb, 1).pixels == std::vector<uint8_t>{76, 150, 29});
    CHECK(im::convert_channels(im::convert_channels(rgb, 1), 3).at(0, 1, 2) == 150);
    CHECK_THROWS_AS(im::convert_channels(rgb, 2), std::invalid_argument);
  }
  SECTION("crops, rotation, planar copies; bad arguments throw") {
    const auto image = random_image(4, 6, 3, 3);
    const auto part = im::crop(image, 2, 1, 3, 2);
    CHECK(part.at(0, 0, 1) == image.at(1, 2, 1));
    CHECK(part.at(1, 2, 2) == image.at(2, 4, 2));
    const auto rotated = im::rotate90_ccw(image);
    REQUIRE(rotated.height == 6);
    REQUIRE(rotated.width == 4);
    CHECK(rotated.at(0, 0, 0) == image.at(0, 5, 0));  // the top-right corner comes to the top-left
    CHECK(rotated.at(5, 3, 2) == image.at(3, 0, 2));
    std::vector<uint8_t> planar(image.pixels.size());
    im::to_planar(image, planar.data());
    CHECK(planar[static_cast<size_t>(2 * 24 + 1 * 6 + 4)] == image.at(1, 4, 2));
    CHECK(im::from_planar(planar.data(), 3, 4, 6) == image);
    auto canvas = im::ImageU8(4, 6, 3);
    im::paste(canvas, part, 3, 2);
    CHECK(canvas.at(3, 5, 0) == part.at(1, 2, 0));
    CHECK_THROWS_AS(im::paste(canvas, part, 4, 2), std::invalid_argument);
    CHECK_THROWS_AS(im::crop(image, 4, 0, 3, 1), std::invalid_argument);
    CHECK_THROWS_AS(im::resize(image, 0, 3, im::Interpolation::kArea), std::invalid_argument);
  }
}

TEST_CASE("imaging: the Canvas draws lines, rectangles, circles and text where asked", "[data][imaging]") {
  const im::Rgb black{0, 0, 0};
  auto is = [](const im::Canvas& c, int x, int y, int v) {
    return c.image().at(y, x, 0) == v && c.image().at(y, x, 1) == v && c.image().at(y, x, 2) == v;
  };
  im::Canvas c(24, 16, {255, 255, 255});
  c.line({2, 5}, {17, 5}, black);
  for (int x = 2; x <= 17; ++x) CHECK(is(c, x, 5, 0));
  CHECK(is(c, 1, 5, 255));
  CHECK(is(c, 18, 5, 255));
  CHECK(is(c, 10, 4, 255));
  c.rectangle({3, 8}, {8, 13}, black);
  CHECK(is(c, 3, 8, 0));
  CHECK(is(c, 8, 13, 0));
  CHECK(is(c, 5, 13, 0));
  CHECK(is(c, 5, 10, 255));
  c.circle({16, 11}, 3, black, /*filled=*/true, /*antialiased=*/true);
  CHECK(is(c, 16, 11, 0));
  CHECK(is(c, 21, 11, 255));
  c.circle({16, 11}, 6, {10, 10, 10}, /*filled=*/false, /*antialiased=*/true);
  CHECK(c.image().at(11, 22, 0) < 128);  // on the ring
  // An anti-aliased diagonal leaves pixels between the two colours.
  im::Canvas d(20, 20, {255, 255, 255});
  d.line({1, 2}, {18, 13}, black, /*thickness=*/2, /*antialiased=*/true);
  CHECK(std::any_of(d.image().pixels.begin(), d.image().pixels.end(), [](uint8_t v) { return v > 20 && v < 235; }));
  CHECK(im::decode_u8(as_string(d.encode_png()), "d.png") == d.image());

  const auto small = im::Canvas::text_size("Hi", 0.4), wide = im::Canvas::text_size("Hello, world", 0.4);
  CHECK(small.width > 0);
  CHECK(small.height > 0);
  CHECK(wide.width > small.width);
  CHECK(im::Canvas::text_size("Hello, world", 0.8).width > wide.width);
  im::Canvas t(120, 30, {255, 255, 255});
  const im::Point origin{4, 20};
  t.text("Hello, world", origin, 0.4, black);
  int inked = 0, outside = 0;
  for (int y = 0; y < t.height(); ++y)
    for (int x = 0; x < t.width(); ++x) {
      if (is(t, x, y, 255)) continue;
      ++inked;
      const bool in_box = x >= origin.x - 1 && x <= origin.x + wide.width + 1 && y >= origin.y - wide.height - 2 &&
                          y <= origin.y + wide.baseline + 1;
      outside += in_box ? 0 : 1;
    }
  CHECK(inked > 20);
  CHECK(outside == 0);
  CHECK_THROWS_AS(im::Canvas(0, 5, {}), std::invalid_argument);
}

TEST_CASE("imaging: partplan's rasteriser, known answers", "[data][imaging]") {
  const im::Rgb ink{0, 0, 0};
  im::ImageU8 a(12, 12, 3, 255);
  im::portable::draw_line(a, {0, 0}, {4, 4}, ink, 1, false);
  int set = 0;
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 12; ++x)
      if (a.at(y, x) == 0) {
        ++set;
        CHECK(x == y);
      }
  CHECK(set == 5);
  im::ImageU8 b(12, 12, 3, 255);
  im::portable::draw_line(b, {1, 6}, {10, 6}, ink, 3, false);
  for (int y : {5, 6, 7}) CHECK(b.at(y, 5) == 0);
  CHECK(b.at(4, 5) == 255);
  im::ImageU8 disc(20, 20, 3, 255);
  im::portable::draw_circle(disc, {10, 10}, 4, ink, true, false);
  int area = 0;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x)
      if (disc.at(y, x) == 0) {
        ++area;
        CHECK(std::hypot(x - 10, y - 10) <= 4.5);
      }
  CHECK(area > 45);  // pi 4.5^2 = 63.6 pixels at most
  CHECK(area < 70);
  im::ImageU8 clip(5, 5, 3, 255);
  im::portable::fill_rect(clip, -3, -3, 2, 2, ink);
  CHECK(clip.at(1, 1) == 0);
  CHECK(clip.at(2, 2) == 255);
}

#ifdef PARTPLAN_TEST_OPENCV_BACKEND
// The stb build resamples with src/imaging/portable.cpp; here it meets OpenCV's cv::resize on
// the same inputs. 8-bit results must be equal; float ones within float rounding (OpenCV's
// SIMD sums in another order).
TEST_CASE("imaging: partplan's resampling and gray conversion equal OpenCV's", "[data][imaging][opencv]") {
  struct Case {
    int h, w, th, tw;
  };
  const Case cases[] = {{37, 23, 16, 11},  {48, 36, 16, 12},   {48, 36, 24, 18},  {13, 9, 40, 31},   {20, 10, 8, 30},
                        {64, 64, 224, 224}, {300, 451, 224, 224}, {28, 28, 32, 32}, {28, 28, 224, 224}, {9, 50, 3, 7},
                        {1, 5, 3, 4},      {120, 160, 37, 41}, {7, 7, 7, 3},     {33, 65, 66, 130}};
  double worst_u8 = 0, worst_f32 = 0;
  for (const auto& k : cases)
    for (int c : {1, 3})
      for (auto how : {im::Interpolation::kNearest, im::Interpolation::kBilinear, im::Interpolation::kArea}) {
        const auto src = random_image(k.h, k.w, c, static_cast<uint32_t>(k.h * 31 + k.w * 7 + c));
        INFO(k.h << "x" << k.w << "x" << c << " -> " << k.th << "x" << k.tw << ", kernel " << static_cast<int>(how));
        const double du8 = max_abs_diff(im::resize(src, k.th, k.tw, how), im::portable::resize(src, k.th, k.tw, how));
        const auto f = to_float(src);
        const double df = max_abs_diff(im::resize(f, k.th, k.tw, how), im::portable::resize(f, k.th, k.tw, how));
        CHECK(du8 == 0);
        CHECK(df <= 1e-6);
        worst_u8 = std::max(worst_u8, du8);
        worst_f32 = std::max(worst_f32, df);
      }
  const auto rgb = random_image(17, 29, 3, 99);
  CHECK(max_abs_diff(im::convert_channels(rgb, 1), im::portable::convert_channels(rgb, 1)) == 0);
  CHECK(max_abs_diff(im::convert_channels(to_float(rgb), 1), im::portable::convert_channels(to_float(rgb), 1)) <= 1e-6);
  WARN("OpenCV vs partplan's resampling on random images: max |diff| " << worst_u8 << " (8-bit), " << worst_f32
                                                                         << " (float)");
}

#ifdef PARTPLAN_TEST_PHOTOS
TEST_CASE("imaging: partplan's resampling equals OpenCV's on the example photos", "[data][imaging][opencv]") {
  namespace fs = std::filesystem;
  int photos = 0;
  double worst = 0;
  for (const auto& entry : fs::directory_iterator(PARTPLAN_TEST_PHOTOS)) {
    const auto ext = entry.path().extension().string();
    if (ext != ".png" && ext != ".jpg") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto photo = im::decode_u8(bytes, entry.path().string());
    ++photos;
    INFO(entry.path().filename().string() << " " << photo.height << "x" << photo.width << "x" << photo.channels);
    // The data pipeline's sizes: shrinking to 224 (area), enlarging by 1.37 (bilinear), a 2x and
    // a non-integer shrink (area), and nearest.
    const struct {
      int h, w;
      im::Interpolation how;
    } targets[] = {{224, 224, im::Interpolation::kArea},
                   {photo.height * 137 / 100, photo.width * 137 / 100, im::Interpolation::kBilinear},
                   {photo.height / 2, photo.width / 2, im::Interpolation::kArea},
                   {photo.height * 2 / 7, photo.width * 3 / 11, im::Interpolation::kArea},
                   {97, 131, im::Interpolation::kNearest}};
    for (const auto& t : targets) {
      const double d = max_abs_diff(im::resize(photo, t.h, t.w, t.how), im::portable::resize(photo, t.h, t.w, t.how));
      CHECK(d == 0);
      worst = std::max(worst, d);
    }
  }
  WARN(photos << " photos: OpenCV vs partplan's resampling, max |diff| " << worst);
}
#endif
#endif
