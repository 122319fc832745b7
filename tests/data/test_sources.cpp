// Each data source on tiny generated data: Fashion-MNIST IDX files written here (and the
// Debian package's files when installed), an image folder with a corrupt file, and a
// NaN-laden TON_IoT-style CSV; plus the dispatch on the SRC string.
#include <array>
#include <fstream>
#include <sstream>
#include <cmath>
#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <zlib.h>

#include <filesystem>

#include "partplan/common/error.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/imaging/image.hpp"
#include "temp_dir.hpp"

namespace pd = partplan::data;
using partplan::test::TempDir;

namespace {

// Big-endian IDX of uint8 with `dims`, gzip-compressed; `payload_cut` drops bytes of data.
void write_idx_gz(const std::string& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string bytes{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<char>((d >> shift) & 0xff));
  bytes.append(data.begin(), data.end());
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// Image k of the tiny set: pixel p = (31 k + p) mod 256, label k mod 10.
void write_fashion(const TempDir& t, const std::string& prefix, int n, int first) {
  std::vector<uint8_t> images, labels;
  for (int k = first; k < first + n; ++k) {
    for (int p = 0; p < 784; ++p) images.push_back(static_cast<uint8_t>((31 * k + p) % 256));
    labels.push_back(static_cast<uint8_t>(k % 10));
  }
  write_idx_gz(t / (prefix + "-images-idx3-ubyte.gz"), {static_cast<uint32_t>(n), 28, 28}, images);
  write_idx_gz(t / (prefix + "-labels-idx1-ubyte.gz"), {static_cast<uint32_t>(n)}, labels);
}

pd::LoadOptions fashion_options(const TempDir& t) {
  pd::LoadOptions o;
  o.fashion_mnist_dir = t.path.string();
  return o;
}

namespace im = partplan::imaging;

// An image file in the format its extension names, through the build's image backend.
void write_image(const std::string& path, const im::ImageU8& image) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto bytes = im::encode_as(image, path);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

// A PNG that imaging does not write (16-bit, or with alpha): h x w pixels, all `sample`
// (`channels` values of `bits` bits), made here with zlib.
void write_raw_png(const std::string& path, int h, int w, int bits, const std::vector<uint16_t>& sample) {
  const int channels = static_cast<int>(sample.size()), bytes_per = bits / 8;
  std::string rows;
  for (int y = 0; y < h; ++y) {
    rows.push_back('\0');  // filter: none
    for (int x = 0; x < w; ++x)
      for (uint16_t v : sample) {
        if (bytes_per == 2) rows.push_back(static_cast<char>(v >> 8));
        rows.push_back(static_cast<char>(v & 0xff));
      }
  }
  uLongf packed_size = compressBound(static_cast<uLong>(rows.size()));
  std::string packed(packed_size, '\0');
  REQUIRE(compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                   reinterpret_cast<const Bytef*>(rows.data()), static_cast<uLong>(rows.size())) == Z_OK);
  packed.resize(packed_size);
  std::string png = "\x89PNG\r\n\x1a\n";
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string body = type + data;
    png += be32(static_cast<uint32_t>(data.size())) + body +
           be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  };
  const char colour_type = channels == 1 ? 0 : channels == 2 ? 4 : channels == 3 ? 2 : 6;
  chunk("IHDR", be32(static_cast<uint32_t>(w)) + be32(static_cast<uint32_t>(h)) +
                    std::string{static_cast<char>(bits), colour_type, 0, 0, 0});
  chunk("IDAT", packed);
  chunk("IEND", "");
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << png;
}

int px(const at::Tensor& s, int64_t n, int64_t c, int64_t i, int64_t j) { return s[n][c][i][j].item<int>(); }
float fx(const at::Tensor& s, int64_t n, int64_t k) { return s[n].flatten()[k].item<float>(); }

}  // namespace

TEST_CASE("builtin:fashion-mnist reads gzip IDX files", "[data]") {
  TempDir t;
  write_fashion(t, "train", 5, 0);
  write_fashion(t, "t10k", 3, 5);
  const auto d = pd::load("builtin:fashion-mnist", fashion_options(t));
  REQUIRE(d.samples.sizes() == at::IntArrayRef({8, 1, 28, 28}));
  CHECK(d.samples.scalar_type() == at::kByte);
  REQUIRE(d.has_labels());
  CHECK(d.labels.scalar_type() == at::kLong);
  for (int k = 0; k < 8; ++k) {
    CHECK(d.labels[k].item<int64_t>() == k % 10);
    CHECK(px(d.samples, k, 0, 0, 0) == (31 * k) % 256);
    CHECK(px(d.samples, k, 0, 1, 2) == (31 * k + 30) % 256);
  }
  CHECK(d.class_names.size() == 10);
  CHECK(d.class_names[9] == "Ankle boot");
  CHECK(d.source == "builtin:fashion-mnist");
  CHECK(d.memory_bytes() == 8 * 784 + 8 * 8);

  CHECK(pd::load("builtin:fashion-mnist:train", fashion_options(t)).size() == 5);
  const auto test = pd::load("builtin:fashion-mnist:test", fashion_options(t));
  REQUIRE(test.size() == 3);
  CHECK(px(test.samples, 0, 0, 0, 0) == (31 * 5) % 256);

  SECTION("resized, cropped and made RGB for a 3x32x32 model") {
    auto o = fashion_options(t);
    o.sample_shape = {3, 32, 32};
    const auto r = pd::load("builtin:fashion-mnist", o);
    REQUIRE(r.samples.sizes() == at::IntArrayRef({8, 3, 32, 32}));
    CHECK(r.samples[0][0].equal(r.samples[0][2]));  // gray replicated
  }
  SECTION("a flat model of 784 values keeps the images") {
    auto o = fashion_options(t);
    o.sample_shape = {784};
    CHECK(pd::load("builtin:fashion-mnist", o).samples.sizes() == at::IntArrayRef({8, 1, 28, 28}));
    o.sample_shape = {100};
    CHECK_THROWS_AS(pd::load("builtin:fashion-mnist", o), partplan::UsageError);
  }
  SECTION("max_samples keeps a seeded subset in source order") {
    auto o = fashion_options(t);
    o.max_samples = 4;
    o.seed = 3;
    const auto a = pd::load("builtin:fashion-mnist", o);
    const auto b = pd::load("builtin:fashion-mnist", o);
    REQUIRE(a.size() == 4);
    CHECK(a.samples.equal(b.samples));
    int64_t previous = -1;
    for (int i = 0; i < 4; ++i) {
      const int64_t k = ((px(a.samples, i, 0, 0, 0) * 223) % 256);  // 31^-1 mod 256 = 223: recovers k
      CHECK(k > previous);
      CHECK(a.labels[i].item<int64_t>() == k % 10);
      previous = k;
    }
  }
}

TEST_CASE("builtin:fashion-mnist errors name the Debian package or the bad file", "[data]") {
  TempDir t;
  CHECK_THROWS_WITH(pd::load("builtin:fashion-mnist", fashion_options(t)),
                    Catch::Contains("apt-get install dataset-fashion-mnist"));
  CHECK_THROWS_AS(pd::load("builtin:fashion-mnist", fashion_options(t)), partplan::DataError);
  CHECK_THROWS_AS(pd::load("builtin:mnist", fashion_options(t)), partplan::UsageError);

  write_fashion(t, "train", 2, 0);
  write_fashion(t, "t10k", 2, 2);
  SECTION("header promises more images than the file holds") {
    write_idx_gz(t / "t10k-images-idx3-ubyte.gz", {3, 28, 28}, std::vector<uint8_t>(2 * 784));
    CHECK_THROWS_WITH(pd::load("builtin:fashion-mnist", fashion_options(t)), Catch::Contains("truncated or corrupt"));
  }
  SECTION("labels and images disagree") {
    write_idx_gz(t / "t10k-labels-idx1-ubyte.gz", {3}, {0, 1, 2});
    CHECK_THROWS_WITH(pd::load("builtin:fashion-mnist", fashion_options(t)), Catch::Contains("labels"));
  }
  SECTION("a cut-off gzip stream") {
    std::string gz;
    {
      std::ifstream in(t / "train-images-idx3-ubyte.gz", std::ios::binary);
      gz.assign(std::istreambuf_iterator<char>(in), {});
    }
    t.write("train-images-idx3-ubyte.gz", gz.substr(0, gz.size() / 2));
    CHECK_THROWS_AS(pd::load("builtin:fashion-mnist", fashion_options(t)), partplan::DataError);
  }
  SECTION("wrong magic number") {
    write_idx_gz(t / "train-labels-idx1-ubyte.gz", {2, 1}, {0, 1});
    CHECK_THROWS_WITH(pd::load("builtin:fashion-mnist", fashion_options(t)), Catch::Contains("magic"));
  }
  SECTION("sizes whose product overflows 64 bits (fuzz_idx)") {
    write_idx_gz(t / "train-images-idx3-ubyte.gz", {0xffffffff, 0xffffffff, 0xffffffff}, std::vector<uint8_t>(784));
    CHECK_THROWS_AS(pd::load("builtin:fashion-mnist", fashion_options(t)), partplan::DataError);
    CHECK_THROWS_WITH(pd::load("builtin:fashion-mnist", fashion_options(t)),
                      Catch::Contains("holds 784 data bytes but its header promises more "
                                      "(4294967295x4294967295x4294967295)"));
  }
}

// Required data: the README demo and the examples run on it, so a machine without it fails
// here, naming the package, rather than passing a smaller suite.
TEST_CASE("builtin:fashion-mnist from the Debian package", "[data]") {
  const std::string images = std::string(pd::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz";
  INFO("dataset-fashion-mnist is not installed (no " << images
                                                      << "): apt-get install dataset-fashion-mnist, or run scripts/setup.sh");
  REQUIRE(std::filesystem::exists(images));
  const auto d = pd::load("builtin:fashion-mnist:test");
  REQUIRE(d.samples.sizes() == at::IntArrayRef({10000, 1, 28, 28}));
  // The test set is balanced: 1000 images per class.
  const auto counts = at::bincount(d.labels);
  CHECK(counts.equal(at::full({10}, 1000, at::kLong)));
}

TEST_CASE("an image folder is decoded, fitted and labelled by sub-folder", "[data]") {
  TempDir t;
  // 40x20 RGB: left half red, right half blue.
  im::ImageU8 halves(20, 40, 3);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 40; ++x) halves.at(y, x, x < 20 ? 0 : 2) = 255;
  write_image(t / "shoes/a.png", halves);
  im::ImageU8 greenish(24, 24, 3);
  for (size_t p = 0; p < greenish.pixels.size(); ++p) greenish.pixels[p] = std::array<uint8_t, 3>{30, 200, 10}[p % 3];
  write_image(t / "shoes/b.jpg", greenish);
  write_image(t / "bags/c.bmp", im::ImageU8(20, 20, 1, 100));
  write_raw_png(t / "bags/d.png", 30, 30, /*bits=*/16, {32768});
  write_raw_png(t / "bags/e.png", 18, 18, /*bits=*/8, {0, 255, 0, 128});  // RGBA
  t.write("bags/bad.png", "\x89PNG\r\n\x1a\n but then garbage");
  write_image(t / ".hidden/h.png", im::ImageU8(20, 20, 1, 1));
  t.write("bags/notes.txt", "not an image");

  pd::LoadOptions o;
  o.sample_shape = {3, 16, 16};
  SECTION("one bad file in six is above the default 10%") {
    CHECK_THROWS_AS(pd::load(t.path.string(), o), partplan::DataError);
    CHECK_THROWS_WITH(pd::load(t.path.string(), o), Catch::Contains("bags/bad.png") && Catch::Contains("fraction"));
  }
  o.max_bad_fraction = 0.2;
  const auto d = pd::load(t.path.string(), o);
  REQUIRE(d.samples.sizes() == at::IntArrayRef({5, 3, 16, 16}));
  CHECK(d.report.files_seen == 6);
  CHECK(d.report.files_bad == 1);
  REQUIRE(d.report.bad_examples.size() == 1);
  CHECK_THAT(d.report.bad_examples[0], Catch::StartsWith("bags/bad.png"));
  CHECK(d.class_names == std::vector<std::string>{"bags", "shoes"});
  // Sorted order: bags/c.bmp, bags/d.png, bags/e.png, shoes/a.png, shoes/b.jpg.
  CHECK(d.labels.equal(at::tensor(std::vector<int64_t>{0, 0, 0, 1, 1})));
  CHECK(px(d.samples, 0, 0, 5, 5) == 100);  // gray replicated into RGB
  CHECK(px(d.samples, 0, 2, 5, 5) == 100);
  CHECK(std::abs(px(d.samples, 1, 1, 5, 5) - 128) <= 1);  // 16-bit 32768 -> 8-bit
  CHECK(px(d.samples, 2, 1, 5, 5) == 255);                // RGBA: alpha dropped, green kept
  CHECK(px(d.samples, 2, 0, 5, 5) == 0);
  // 40x20 covered to 32x16, centre 16 columns: red on the left edge, blue on the right, RGB order.
  CHECK(px(d.samples, 3, 0, 8, 0) == 255);
  CHECK(px(d.samples, 3, 2, 8, 0) == 0);
  CHECK(px(d.samples, 3, 0, 8, 15) == 0);
  CHECK(px(d.samples, 3, 2, 8, 15) == 255);

  SECTION("to one channel: BT.601 luma") {
    o.sample_shape = {1, 16, 16};
    const auto g = pd::load(t.path.string(), o);
    CHECK(std::abs(px(g.samples, 3, 0, 8, 0) - 76) <= 1);  // 0.299 * 255
  }
  SECTION("no shape given: the first decodable image's") {
    o.sample_shape = {};
    CHECK(pd::load(t.path.string(), o).samples.sizes() == at::IntArrayRef({5, 1, 20, 20}));
  }
}

TEST_CASE("image folder edge cases", "[data]") {
  TempDir t;
  SECTION("images at the top level: no labels") {
    write_image(t / "x.png", im::ImageU8(12, 12, 1, 5));
    write_image(t / "sub/y.png", im::ImageU8(12, 12, 1, 6));
    const auto d = pd::load(t.path.string());
    CHECK(d.size() == 2);
    CHECK_FALSE(d.has_labels());
  }
  SECTION("no usable image") {
    t.write("a.png", "garbage");
    t.write("b.jpg", "");
    CHECK_THROWS_WITH(pd::load(t.path.string()), Catch::Contains("no usable image"));
  }
  SECTION("no image at all") {
    t.write("readme.txt", "hello");
    CHECK_THROWS_WITH(pd::load(t.path.string()), Catch::Contains("holds no images"));
  }
  SECTION("memory bound") {
    write_image(t / "x.png", im::ImageU8(12, 12, 1, 5));
    pd::LoadOptions o;
    o.max_bytes = 100;
    CHECK_THROWS_WITH(pd::load(t.path.string(), o), Catch::Contains("above the bound"));
  }
}

namespace {

const char* kCsv =
    "ts,src_ip,src_port,proto,duration,const_col,service,label,type\n"
    "1000,192.168.1.10,80,tcp,0.5,7,http,0,normal\n"
    "1001,10.0.0.2,443,udp,NaN,7,-,1,ddos\r\n"
    "1002,10.0.0.10,-,tcp,inf,7,dns,1,scanning\n"
    "\n"
    "1003,-,22,icmp,,7,\"http, weird\",0,normal\n"
    "1004,::1,8080,tcp,2.5,7,http,1,ddos\n";

const pd::ColumnEncoding& column(const pd::Dataset& d, const std::string& name) {
  for (const auto& c : d.report.columns)
    if (c.name == name) return c;
  throw std::runtime_error("no column " + name);
}

}  // namespace

TEST_CASE("a TON_IoT-style CSV becomes 1xSxS images in [0,1]", "[data]") {
  TempDir t;
  const auto path = t.write("flows.csv", kCsv);
  const auto d = pd::load(path);
  // 7 features (label kept aside, type dropped so it cannot leak): S = 3, two zero pads.
  REQUIRE(d.samples.sizes() == at::IntArrayRef({5, 1, 3, 3}));
  CHECK(d.samples.scalar_type() == at::kFloat);
  CHECK(d.labels.equal(at::tensor(std::vector<int64_t>{0, 1, 1, 0, 1})));
  CHECK(d.class_names.empty());
  CHECK(d.report.rows == 5);

  const std::vector<std::vector<float>> expected{
      // ts    src_ip  port             proto dur  const service
      // missing cells read as 0, so the port range is [0, 8080] and the duration range [0, 2.5]
      {0.00f, 1.00f, 80 / 8080.f, 0.5f, 0.2f, 0.0f, 2 / 3.f}, {0.25f, 0.50f, 443 / 8080.f, 1.0f, 0.0f, 0.0f, 0.0f},
      {0.50f, 0.75f, 0.0f, 0.5f, 1.0f, 0.0f, 1 / 3.f},        {0.75f, 0.00f, 22 / 8080.f, 0.0f, 0.0f, 0.0f, 1.0f},
      {1.00f, 0.25f, 1.0f, 0.5f, 1.0f, 0.0f, 2 / 3.f},
  };
  for (int64_t n = 0; n < 5; ++n) {
    for (int64_t k = 0; k < 7; ++k) {
      INFO("record " << n << " feature " << k);
      CHECK(fx(d.samples, n, k) == Approx(expected[n][k]).margin(1e-6));
    }
    CHECK(fx(d.samples, n, 7) == 0.0f);  // padding
    CHECK(fx(d.samples, n, 8) == 0.0f);
  }
  CHECK(column(d, "src_ip").kind == pd::ColumnKind::kIp);
  CHECK(column(d, "src_ip").categories == 5);
  CHECK(column(d, "proto").kind == pd::ColumnKind::kCategorical);
  CHECK(column(d, "src_port").missing == 1);
  CHECK(column(d, "duration").missing == 2);
  CHECK(column(d, "duration").infinite == 1);
  CHECK(column(d, "duration").min == 0.0);
  CHECK(column(d, "duration").max == 2.5);
  CHECK(column(d, "const_col").constant);
  CHECK(column(d, "type").kind == pd::ColumnKind::kDropped);
  CHECK(column(d, "label").kind == pd::ColumnKind::kLabel);
  std::string notes;
  for (const auto& n : d.report.notes) notes += n + "\n";
  CHECK_THAT(notes, Catch::Contains("const_col") && Catch::Contains("duration (2)") && Catch::Contains("infinite"));
  CHECK(at::isfinite(d.samples).all().item<bool>());
}

TEST_CASE("CSV labels, dropped columns and layouts are configurable", "[data]") {
  TempDir t;
  const auto path = t.write("flows.csv", kCsv);
  pd::LoadOptions o;
  SECTION("the attack type as the label: names sorted, label dropped") {
    o.csv.label = "type";
    const auto d = pd::load(path, o);
    CHECK(d.class_names == std::vector<std::string>{"ddos", "normal", "scanning"});
    CHECK(d.labels.equal(at::tensor(std::vector<int64_t>{1, 0, 2, 1, 0})));
    CHECK(column(d, "label").kind == pd::ColumnKind::kDropped);
    CHECK(column(d, "type").categories == 3);
  }
  SECTION("explicit drop list") {
    o.csv.drop = {"ts", "type"};
    const auto d = pd::load(path, o);
    CHECK(d.samples.sizes() == at::IntArrayRef({5, 1, 3, 3}));
    CHECK(fx(d.samples, 0, 0) == 1.0f);  // src_ip comes first now
    CHECK(fx(d.samples, 0, 6) == 0.0f);
    o.csv.drop = {"nope"};
    CHECK_THROWS_AS(pd::load(path, o), partplan::UsageError);
  }
  SECTION("no label") {
    o.csv.label = "";
    const auto d = pd::load(path, o);
    CHECK_FALSE(d.has_labels());
    CHECK(d.samples.sizes() == at::IntArrayRef({5, 1, 3, 3}));  // 9 features: label and type are features now
    CHECK(column(d, "label").kind == pd::ColumnKind::kNumeric);
    o.csv.label = "missing_column";
    CHECK_THROWS_WITH(pd::load(path, o), Catch::Contains("missing_column") && Catch::Contains("src_port"));
  }
  SECTION("flat vectors or the model's own 1xHxW") {
    o.sample_shape = {7};
    CHECK(pd::load(path, o).samples.sizes() == at::IntArrayRef({5, 7}));
    o.sample_shape = {8};
    CHECK_THROWS_WITH(pd::load(path, o), Catch::Contains("7 features"));
    o.sample_shape = {1, 2, 4};
    CHECK(pd::load(path, o).samples.sizes() == at::IntArrayRef({5, 1, 2, 4}));
    o.sample_shape = {1, 2, 3};
    CHECK_THROWS_AS(pd::load(path, o), partplan::UsageError);
    o.sample_shape = {3, 3, 3};
    CHECK_THROWS_AS(pd::load(path, o), partplan::UsageError);
  }
  SECTION("max_samples") {
    o.max_samples = 3;
    const auto d = pd::load(path, o);
    CHECK(d.size() == 3);
    CHECK(d.report.rows == 5);
  }
}

TEST_CASE("malformed CSV files are clear errors", "[data]") {
  TempDir t;
  CHECK_THROWS_WITH(pd::load(t.write("a.csv", "a,b,label\n1,2,0\n3,0\n")),
                    Catch::Contains("a.csv:3") && Catch::Contains("2 fields"));
  CHECK_THROWS_WITH(pd::load(t.write("b.csv", "a,label\n\"open,0\n")),
                    Catch::Contains("b.csv:2: unterminated quoted field: close its quote"));
  CHECK_THROWS_WITH(pd::load(t.write("c.csv", "a,label\n1,\n")), Catch::Contains("empty label"));
  CHECK_THROWS_WITH(pd::load(t.write("d.csv", "")), Catch::Contains("empty"));
  CHECK_THROWS_WITH(pd::load(t.write("e.csv", "a,label\n")), Catch::Contains("no records"));
  CHECK_THROWS_WITH(pd::load(t.write("f.csv", "label,type\n0,x\n")), Catch::Contains("no feature columns"));
  CHECK_THROWS_WITH(pd::load(t.write("g.csv", "a,a\n1,2\n")), Catch::Contains("twice"));
  CHECK_THROWS_AS(pd::load(t / "missing.csv"), partplan::IoError);
}

TEST_CASE("a CSV is streamed: records across read chunks, line numbers, a subset kept in file order", "[data]") {
  TempDir t;
  // 130000 records of two lines each (a quoted cell with an escaped quote and a newline),
  // CRLF-terminated: about 2.3 MB, so records straddle the reader's 1 MiB chunks.
  const int64_t n = 130000;
  std::string text = "a,b,label\r\n";
  for (int64_t i = 0; i < n; ++i) text += fmt::format("{},\"q\"\"{}\n.\",{}\r\n", i, i % 7, i % 10);
  REQUIRE(text.size() > (size_t{2} << 20));
  const auto path = t.write("big.csv", text);
  const auto d = pd::load(path);
  REQUIRE(d.size() == n);
  CHECK(column(d, "b").kind == pd::ColumnKind::kCategorical);
  CHECK(column(d, "b").categories == 7);
  const auto flat = d.samples.reshape({n, -1});
  for (int64_t i : {int64_t{0}, int64_t{27961}, n - 1}) {  // a = i / (n-1); b = rank of "q\"{i%7}\n."
    CHECK(flat[i][0].item<float>() == Approx(static_cast<double>(i) / (n - 1)).margin(1e-6));
    CHECK(flat[i][1].item<float>() == Approx((i % 7) / 6.0).margin(1e-6));
    CHECK(d.labels[i].item<int64_t>() == i % 10);
  }
  // Record j starts on line 2 + 2j: a ragged one after the last names line 2 + 2n.
  const auto bad = t.write("bad.csv", text + "1,2\r\n");
  CHECK_THROWS_WITH(pd::load(bad), Catch::Contains(fmt::format("bad.csv:{}: 2 fields", 2 + 2 * n)));
  pd::LoadOptions o;
  o.max_samples = 1000;
  o.seed = 5;
  const auto sub = pd::load(path, o);
  REQUIRE(sub.size() == 1000);
  CHECK(sub.report.rows == n);
  CHECK(sub.samples.equal(pd::load(path, o).samples));
  const auto a = sub.samples.reshape({1000, -1}).select(1, 0);
  CHECK((a.slice(0, 1) > a.slice(0, 0, -1)).all().item<bool>());  // file order, no repeats
}

TEST_CASE("the SRC string selects the source", "[data]") {
  TempDir t;
  CHECK_THROWS_AS(pd::load("builtin:cifar10"), partplan::UsageError);
  CHECK_THROWS_WITH(pd::load("builtin:cifar10"), Catch::Contains("builtin:fashion-mnist"));
  CHECK_THROWS_AS(pd::load(t / "nope"), partplan::IoError);
  CHECK_THROWS_AS(pd::load(t.write("x.txt", "1,2\n")), partplan::UsageError);
  pd::LoadOptions o;
  o.max_samples = -1;
  CHECK_THROWS_AS(pd::load(t.path.string(), o), partplan::UsageError);
}

// The synthetic TON_IoT CSV is generated at build time (tests/data/CMakeLists.txt needs Python 3):
// the record tests are part of every build, never left out.
#ifndef PARTPLAN_TONIOT_CSV
#error "PARTPLAN_TONIOT_CSV is not defined: tests/data/CMakeLists.txt generates the synthetic TON_IoT CSV"
#endif
TEST_CASE("the synthetic TON_IoT CSV from scripts/make_toniot_csv.py loads", "[data]") {
  const auto d = pd::load(PARTPLAN_TONIOT_CSV);
  CHECK(d.size() == 600);
  CHECK(d.report.columns.size() == 46);
  // "1.1" or "-" (no HTTP): missing reads as 0, so the column still tells HTTP from the rest.
  CHECK(column(d, "http_version").kind == pd::ColumnKind::kNumeric);
  CHECK_FALSE(column(d, "http_version").constant);
  CHECK(column(d, "http_referrer").constant);
  CHECK(column(d, "type").kind == pd::ColumnKind::kDropped);
  CHECK(column(d, "src_ip").kind == pd::ColumnKind::kIp);
  CHECK(column(d, "proto").kind == pd::ColumnKind::kCategorical);
  CHECK(column(d, "dst_bytes").kind == pd::ColumnKind::kNumeric);
  // 44 features (46 columns less label and type) -> 1x7x7.
  CHECK(d.samples.sizes() == at::IntArrayRef({600, 1, 7, 7}));
  CHECK(at::isfinite(d.samples).all().item<bool>());
  CHECK(d.samples.min().item<float>() >= 0.0f);
  CHECK(d.samples.max().item<float>() <= 1.0f);
  CHECK(at::bincount(d.labels).size(0) == 2);
  pd::LoadOptions o;
  o.csv.label = "type";
  CHECK(pd::load(PARTPLAN_TONIOT_CSV, o).class_names.size() >= 5);
}

TEST_CASE("partplan encodes the synthetic TON_IoT records as make_toniot_csv.py does", "[data]") {
  // scripts/export_models.py trains the example record models through the Python encoder.
  pd::LoadOptions o;
  o.sample_shape = {44};
  const auto d = pd::load(PARTPLAN_TONIOT_CSV, o);
  std::ifstream in(PARTPLAN_TONIOT_ENCODED);
  std::string line;
  std::getline(in, line);  // feature names
  int64_t row = 0;
  double worst = 0;
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string cell;
    for (int64_t k = 0; std::getline(cells, cell, ','); ++k)
      worst = std::max(worst, std::abs(std::stod(cell) - d.samples[row][k].item<double>()));
    ++row;
  }
  CHECK(row == 600);
  CHECK(worst < 1e-6);
}


TEST_CASE("CSV columns: keep, categorical and log scaling are the user's", "[data]") {
  TempDir t;
  const auto path = t.write("flows.csv", kCsv);
  pd::LoadOptions o;
  o.sample_shape = {3};
  o.csv.keep = {"src_port", "duration", "proto"};
  o.csv.categorical = {"src_port"};
  const auto d = pd::load(path, o);
  REQUIRE(d.record_features == 3);
  CHECK(column(d, "ts").kind == pd::ColumnKind::kDropped);
  CHECK(column(d, "label").kind == pd::ColumnKind::kLabel);
  CHECK(column(d, "src_port").kind == pd::ColumnKind::kCategorical);
  // Ports as categories in byte order: "-", "22", "443", "80", "8080".
  CHECK(fx(d.samples, 0, 0) == Approx(3 / 4.0).margin(1e-6));
  CHECK(fx(d.samples, 2, 0) == 0.0f);
  o.csv.categorical.clear();
  o.csv.scaling = pd::CsvScaling::kLogMinMax;
  const auto l = pd::load(path, o);
  // log1p(443) / log1p(8080) for the second record's port.
  CHECK(fx(l.samples, 1, 0) == Approx(std::log1p(443.0) / std::log1p(8080.0)).margin(1e-6));
  CHECK(column(l, "src_port").log_scaled);
  CHECK(column(l, "src_port").max == Approx(8080.0));
  o.csv.keep = {"label"};
  CHECK_THROWS_WITH(pd::load(path, o), Catch::Contains("both the label") && Catch::Contains("data.csv.keep"));
  o.csv.keep = {"nope"};
  CHECK_THROWS_WITH(pd::load(path, o), Catch::Contains("'nope'") && Catch::Contains("data.csv.keep"));
}

TEST_CASE("bad records are refused with the file, line and column", "[data]") {
  TempDir t;
  pd::LoadOptions strict;
  strict.csv.nonfinite = pd::NonFinite::kError;
  // kCsv's second record holds NaN in duration, its third inf: the first is named.
  const auto flows = t.write("flows.csv", kCsv);
  CHECK_THROWS_WITH(pd::load(flows, strict), Catch::Contains("flows.csv:3") && Catch::Contains("column 5 'duration'") &&
                                                 Catch::Contains("'NaN'") && Catch::Contains("data.csv.nonfinite"));
  CHECK_THROWS_WITH(pd::load(t.write("inf.csv", "a,b,label\n1,2,0\n3,-inf,1\n"), strict),
                    Catch::Contains("inf.csv:3") && Catch::Contains("column 2 'b'") && Catch::Contains("'-inf'"));
  CHECK_NOTHROW(pd::load(flows));  // the default rule reads them and counts them
  CHECK_THROWS_WITH(pd::load(t.write("ragged.csv", "a,b,label\n1,2,0\n3,1\n")),
                    Catch::Contains("ragged.csv:3") && Catch::Contains("2 fields") &&
                        Catch::Contains("column 3 'label' onwards missing"));
  CHECK_THROWS_WITH(pd::load(t.write("long.csv", "a,label\n1,0,9\n")),
                    Catch::Contains("long.csv:2") && Catch::Contains("column 3 onwards extra"));
  pd::LoadOptions no_label;
  no_label.csv.label = "attack";
  CHECK_THROWS_WITH(pd::load(flows, no_label),
                    Catch::Contains("'attack'") && Catch::Contains("flows.csv") && Catch::Contains("data.csv.label"));
  pd::LoadOptions all_dropped;
  all_dropped.csv.drop = {"auto", "ts", "src_ip", "src_port", "proto", "duration", "const_col", "service"};
  CHECK_THROWS_WITH(pd::load(flows, all_dropped),
                    Catch::Contains("no feature columns") && Catch::Contains("data.csv.drop"));
}

TEST_CASE("crops per image: k samples per file, grouped by file, seeded", "[data]") {
  TempDir t;
  im::ImageU8 big(120, 160, 3), half(120, 160, 3);
  uint32_t s = 1;
  for (size_t i = 0; i < big.pixels.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    big.pixels[i] = static_cast<uint8_t>(s >> 24);
    half.pixels[i] = static_cast<uint8_t>(big.pixels[i] / 2);
  }
  write_image(t / "a.png", big);
  write_image(t / "b.png", half);
  write_image(t / "c.png", im::ImageU8(40, 40, 3, 9));
  pd::LoadOptions o;
  o.sample_shape = {3, 32, 32};
  o.crops_per_image = 5;
  const auto d = pd::load(t.path.string(), o);
  REQUIRE(d.size() == 15);
  REQUIRE(d.groups.defined());
  CHECK(d.groups[0].item<int64_t>() == d.groups[4].item<int64_t>());
  CHECK(d.groups[4].item<int64_t>() != d.groups[5].item<int64_t>());
  CHECK(d.is_image_folder);
  // Crop 0 is the centred cover crop; the others differ from it and from each other.
  CHECK_FALSE(at::equal(d.samples[0], d.samples[1]));
  CHECK_FALSE(at::equal(d.samples[1], d.samples[2]));
  CHECK(at::equal(d.samples, pd::load(t.path.string(), o).samples));  // seeded
  o.crops_per_image = 0;
  CHECK_THROWS_AS(pd::load(t.path.string(), o), partplan::UsageError);
}
