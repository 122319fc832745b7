// `partplan metrics A B` in process: files and folders, JSON, and its one-line errors.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture_images.hpp"
#include "partplan/cli/cli.hpp"
#include "partplan/data/image_io.hpp"
#include "skimage_fixtures.hpp"

namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "partplan-metrics-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

struct Result {
  int rc;
  std::string out, err;
};

Result run(std::vector<std::string> args) {
  std::ostringstream out, err;
  args.insert(args.begin(), "-q");
  const int rc = partplan::cli::run(args, out, err);
  return {rc, out.str(), err.str()};
}

at::Tensor to_chw(const partplan::test::ByteImage& img) {
  return at::tensor(std::vector<int64_t>(img.v.begin(), img.v.end())).to(at::kByte).view({img.c, img.h, img.w});
}

const partplan::test::SkimageFixture& fixture(const std::string& name) {
  for (const auto& f : partplan::test::kSkimageFixtures)
    if (name == f.name) return f;
  throw std::runtime_error("no fixture " + name);
}

// Writes a fixture's pair as lossless PNGs and returns their paths.
std::pair<std::string, std::string> write_fixture(const TempDir& dir, const std::string& name,
                                                  const std::string& a_name, const std::string& b_name) {
  const auto& f = fixture(name);
  const auto a = partplan::test::base_image(f.base, f.seed, f.c, f.h, f.w);
  const auto b = partplan::test::distort(a, f.base, f.distortion, f.param, f.seed_b);
  partplan::data::write_image(dir / a_name, to_chw(a));
  partplan::data::write_image(dir / b_name, to_chw(b));
  return {dir / a_name, dir / b_name};
}

}  // namespace

TEST_CASE("metrics command scores two image files like scikit-image", "[metrics][cli]") {
  TempDir t;
  const auto [a, b] = write_fixture(t, "smooth_rgb_noise_40x36", "a.png", "b.png");
  const auto r = run({"metrics", a, b, "--json"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["pairs"].size() == 1);
  CHECK(j["pairs"][0]["ssim"].get<double>() == Approx(fixture("smooth_rgb_noise_40x36").ssim).margin(1e-4));
  CHECK(j["pairs"][0]["psnr_db"].get<double>() == Approx(fixture("smooth_rgb_noise_40x36").psnr_db).margin(1e-3));
  CHECK(j["pairs"][0]["shape"] == nlohmann::json::array({3, 40, 36}));
  CHECK(j["summary"]["n"] == 1);
  CHECK(j["summary"]["ssim"]["ci95_low"].is_null());  // one pair: no interval

  const auto text = run({"metrics", a, b});
  REQUIRE(text.rc == 0);
  CHECK_THAT(text.out, Catch::Contains("ssim") && Catch::Contains("psnr_db") && Catch::Contains("a.png"));
}

TEST_CASE("metrics command pairs two folders by name and caps identical pairs", "[metrics][cli]") {
  TempDir t;
  fs::create_directories(t.path / "ref" / "sub");
  fs::create_directories(t.path / "rec" / "sub");
  write_fixture(t, "smooth_mild_noise", "ref/one.png", "rec/one.png");
  write_fixture(t, "smooth_rgb_identical", "ref/sub/two.png", "rec/sub/two.bmp");  // pairs across extensions
  write_fixture(t, "smooth_contrast", "ref/three.png", "rec/three.png");
  const auto r = run({"metrics", t / "ref", t / "rec", "--json"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("inf") == std::string::npos);
  CHECK(r.out.find("nan") == std::string::npos);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["pairs"].size() == 3);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : j["pairs"]) by_name[p["name"].get<std::string>()] = p;
  REQUIRE(by_name.count("sub/two"));
  CHECK(by_name["sub/two"]["psnr_capped"] == true);
  CHECK(by_name["sub/two"]["psnr_db"] == 100.0);
  CHECK(by_name["sub/two"]["ssim"].get<double>() == Approx(1.0).margin(1e-6));
  CHECK(by_name["one"]["ssim"].get<double>() == Approx(fixture("smooth_mild_noise").ssim).margin(1e-4));
  CHECK(j["summary"]["n"] == 3);
  CHECK(j["summary"]["psnr_capped"] == 1);
  const double mean = (fixture("smooth_mild_noise").ssim + 1.0 + fixture("smooth_contrast").ssim) / 3.0;
  CHECK(j["summary"]["ssim"]["mean"].get<double>() == Approx(mean).margin(1e-4));
  CHECK(j["summary"]["ssim"]["ci95_low"].get<double>() < mean);
  CHECK(j["summary"]["ssim"]["ci95_high"].get<double>() > mean);

  const auto text = run({"metrics", t / "ref", t / "rec"});
  REQUIRE(text.rc == 0);
  CHECK_THAT(text.out,
             Catch::Contains("mean (n=3)") && Catch::Contains("95% CI") && Catch::Contains("capped at 100 dB"));
}

TEST_CASE("metrics command refuses mismatches unless --resize", "[metrics][cli]") {
  TempDir t;
  partplan::data::write_image(t / "big.png", at::rand({3, 32, 40}));
  partplan::data::write_image(t / "gray.png", at::rand({1, 16, 20}));
  const auto r = run({"metrics", t / "big.png", t / "gray.png"});
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::StartsWith("error: ") && Catch::Contains("3x32x40") && Catch::Contains("1x16x20") &&
                        Catch::Contains("--resize"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  const auto resized = run({"metrics", t / "big.png", t / "gray.png", "--resize", "--json"});
  INFO(resized.err);
  REQUIRE(resized.rc == 0);
  CHECK(nlohmann::json::parse(resized.out)["pairs"][0]["resized"] == true);
}

TEST_CASE("metrics command errors are one actionable line", "[metrics][cli]") {
  TempDir t;
  partplan::data::write_image(t / "a.png", at::rand({1, 16, 16}));
  partplan::data::write_image(t / "tiny.png", at::rand({1, 8, 8}));
  fs::create_directories(t.path / "d1");
  fs::create_directories(t.path / "d2");
  partplan::data::write_image(t / "d1/x.png", at::rand({1, 16, 16}));
  partplan::data::write_image(t / "d1/only_here.png", at::rand({1, 16, 16}));
  partplan::data::write_image(t / "d2/x.png", at::rand({1, 16, 16}));
  { std::ofstream(t / "corrupt.png") << "not a png at all"; }

  struct Case {
    std::vector<std::string> args;
    int rc;
    std::string says;
  };
  const std::vector<Case> cases{
      {{"metrics", t / "a.png", t / "missing.png"}, 1, "not found"},
      {{"metrics", t / "a.png", t / "corrupt.png"}, 1, "not a decodable image"},
      {{"metrics", t / "tiny.png", t / "tiny.png"}, 1, "at least 11x11"},
      {{"metrics", t / "a.png", t / "d1"}, 2, "two image files or two folders"},
      {{"metrics", t / "d1", t / "d2"}, 1, "only_here.png"},
      {{"metrics", t / "a.png"}, 2, "B is required"},
      {{"metrics", t / "a.png", t / "a.png", "--frobnicate"}, 2, "--frobnicate"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args);
    INFO(c.args[1] << " " << (c.args.size() > 2 ? c.args[2] : "") << " -> rc " << r.rc << ", stderr: " << r.err);
    CHECK(r.rc == c.rc);
    CHECK_THAT(r.err, Catch::StartsWith("error: ") && Catch::Contains(c.says));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}
