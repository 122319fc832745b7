// Known answers, fast-vs-reference agreement and scikit-image fixtures for SSIM and PSNR,
// plus the mean/CI helper.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "fixture_images.hpp"
#include "partplan/common/error.hpp"
#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/reference.hpp"
#include "partplan/metrics/ssim.hpp"
#include "partplan/metrics/stats.hpp"
#include "skimage_fixtures.hpp"

namespace pm = partplan::metrics;
using partplan::test::ByteImage;

namespace {

at::Tensor to_tensor(const ByteImage& img, at::ScalarType dtype) {
  auto t = at::empty({1, img.c, img.h, img.w}, at::kDouble);
  auto* p = t.data_ptr<double>();
  for (size_t i = 0; i < img.v.size(); ++i) p[i] = img.v[i] / 255.0;
  return t.to(dtype);
}

pm::reference::HostImages to_host(const at::Tensor& t) {
  const auto c = t.to(at::kDouble).contiguous();
  pm::reference::HostImages h{c.size(0), c.size(1), c.size(2), c.size(3), {}};
  h.values.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  return h;
}

// A pair of correlated images in [0,1]: x uniform, y = x + noise, clipped.
std::pair<at::Tensor, at::Tensor> random_pair(std::vector<int64_t> shape, double noise, uint64_t seed,
                                              at::ScalarType dtype = at::kDouble) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto x = at::rand(shape, gen, at::TensorOptions().dtype(at::kDouble));
  auto y = (x + noise * at::randn(shape, gen, at::TensorOptions().dtype(at::kDouble))).clamp(0.0, 1.0);
  return {x.to(dtype), y.to(dtype)};
}

}  // namespace

TEST_CASE("SSIM of an image with itself is 1", "[metrics]") {
  auto [x, y] = random_pair({3, 2, 20, 24}, 0.1, 1);
  CHECK(at::allclose(pm::ssim(x, x), at::ones({3}, at::kDouble), /*rtol=*/0, /*atol=*/1e-12));
  const auto xf = x.to(at::kFloat);
  CHECK(at::allclose(pm::ssim(xf, xf), at::ones({3}), 0, 1e-6));
  // A flat image has zero variance; C1 and C2 keep SSIM defined and equal to 1.
  const auto flat = at::full({1, 1, 16, 16}, 0.25, at::kDouble);
  CHECK(pm::ssim(flat, flat).item<double>() == Approx(1.0).margin(1e-12));
  CHECK(pm::ssim(x, y).lt(1.0).all().item<bool>());
}

TEST_CASE("SSIM fast path matches the plain-loop reference", "[metrics]") {
  for (double noise : {0.02, 0.2, 1.0}) {
    auto [x, y] = random_pair({2, 2, 14, 17}, noise, 7);
    const auto ref = pm::reference::ssim(to_host(x), to_host(y));
    const auto fast64 = pm::ssim(x, y);
    const auto fast32 = pm::ssim(x.to(at::kFloat), y.to(at::kFloat));
    for (int64_t i = 0; i < 2; ++i) {
      INFO("noise " << noise << " image " << i << " reference " << ref[i]);
      CHECK(fast64[i].item<double>() == Approx(ref[i]).margin(1e-10));
      CHECK(fast32[i].item<double>() == Approx(ref[i]).margin(2e-5));
    }
  }
  SECTION("non-default options reach the computation") {
    pm::SsimOptions o;
    o.window = 7;
    o.sigma = 1.0;
    o.k1 = 0.02;
    o.data_range = 255.0;
    auto [x, y] = random_pair({1, 3, 9, 12}, 0.3, 3);
    x = x * 255.0;
    y = y * 255.0;
    const auto ref = pm::reference::ssim(to_host(x), to_host(y), o);
    CHECK(pm::ssim(x, y, o).item<double>() == Approx(ref[0]).margin(1e-10));
    CHECK(pm::ssim_map(x, y, o).sizes() == at::IntArrayRef({1, 3, 3, 6}));
  }
}

TEST_CASE("SSIM matches scikit-image fixtures within 1e-3", "[metrics]") {
  double max_diff64 = 0, max_diff32 = 0;
  for (const auto& f : partplan::test::kSkimageFixtures) {
    INFO("fixture " << f.name << " (skimage SSIM " << f.ssim << ")");
    const ByteImage a = partplan::test::base_image(f.base, f.seed, f.c, f.h, f.w);
    const ByteImage b = partplan::test::distort(a, f.base, f.distortion, f.param, f.seed_b);
    REQUIRE(a.sum() == f.sum_a);  // the images are the ones scikit-image scored
    REQUIRE(b.sum() == f.sum_b);
    const double s64 = pm::ssim(to_tensor(a, at::kDouble), to_tensor(b, at::kDouble)).item<double>();
    const double s32 = pm::ssim(to_tensor(a, at::kFloat), to_tensor(b, at::kFloat)).item<double>();
    CHECK(std::fabs(s64 - f.ssim) <= 1e-3);
    CHECK(std::fabs(s32 - f.ssim) <= 1e-3);
    // The definitions are identical, so float64 agrees to rounding; float32 to its precision.
    CHECK(std::fabs(s64 - f.ssim) <= 1e-9);
    CHECK(std::fabs(s32 - f.ssim) <= 1e-4);
    max_diff64 = std::max(max_diff64, std::fabs(s64 - f.ssim));
    max_diff32 = std::max(max_diff32, std::fabs(s32 - f.ssim));

    const auto p = pm::psnr(to_tensor(a, at::kDouble), to_tensor(b, at::kDouble));
    if (f.identical) {
      CHECK(p.capped.item<bool>());
      CHECK(p.psnr_db.item<double>() == pm::kPsnrCapDb);
    } else {
      CHECK_FALSE(p.capped.item<bool>());
      CHECK(p.psnr_db.item<double>() == Approx(f.psnr_db).margin(1e-9));
    }
  }
  INFO("max |SSIM - skimage|: float64 " << max_diff64 << ", float32 " << max_diff32);
  CHECK(max_diff32 <= 1e-3);
}

TEST_CASE("SSIM is per image across a batch, including chunked batches", "[metrics]") {
  auto [x, y] = random_pair({5, 3, 16, 16}, 0.15, 11, at::kFloat);
  const auto batched = pm::ssim(x, y);
  REQUIRE(batched.sizes() == at::IntArrayRef({5}));
  REQUIRE(batched.scalar_type() == at::kFloat);
  for (int64_t i = 0; i < 5; ++i)
    CHECK(batched[i].item<double>() ==
          Approx(pm::ssim(x.narrow(0, i, 1), y.narrow(0, i, 1)).item<double>()).margin(1e-6));

  // 1700 images of 1x64x64 exceed one chunk (2^25 stacked values = 1638 such images).
  auto [bx, by] = random_pair({1700, 1, 64, 64}, 0.2, 12, at::kFloat);
  const auto whole = pm::ssim(bx, by);
  const auto head = pm::ssim(bx.narrow(0, 0, 900), by.narrow(0, 0, 900));
  const auto tail = pm::ssim(bx.narrow(0, 900, 800), by.narrow(0, 900, 800));
  CHECK(at::allclose(whole, at::cat({head, tail}), 0, 1e-6));
}

TEST_CASE("SSIM half precision is computed in float32", "[metrics]") {
  auto [x, y] = random_pair({2, 1, 12, 12}, 0.1, 5, at::kFloat);
  const auto s = pm::ssim(x.to(at::kHalf), y.to(at::kHalf));
  CHECK(s.scalar_type() == at::kFloat);
  CHECK(at::allclose(s, pm::ssim(x.to(at::kHalf).to(at::kFloat), y.to(at::kHalf).to(at::kFloat)), 0, 1e-6));
}

TEST_CASE("SSIM is differentiable", "[metrics]") {
  auto [x, y] = random_pair({2, 1, 16, 16}, 0.2, 9, at::kFloat);
  auto xr = x.clone().set_requires_grad(true);
  pm::ssim(xr, y).sum().backward();
  REQUIRE(xr.grad().defined());
  CHECK(at::isfinite(xr.grad()).all().item<bool>());
  CHECK(xr.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("SSIM refuses what it cannot score", "[metrics]") {
  const auto small = at::rand({1, 1, 10, 30});
  CHECK_THROWS_AS(pm::ssim(small, small), partplan::DataError);
  CHECK_THROWS_WITH(pm::ssim(small, small), Catch::Contains("at least 11x11"));
  CHECK_THROWS_AS(pm::ssim(at::rand({1, 1, 12, 12}), at::rand({1, 1, 12, 13})), partplan::DataError);
  CHECK_THROWS_AS(pm::ssim(at::zeros({1, 1, 12, 12}, at::kByte), at::zeros({1, 1, 12, 12}, at::kByte)),
                  std::invalid_argument);
  CHECK_THROWS_AS(pm::ssim(at::rand({12, 12}), at::rand({12, 12})), std::invalid_argument);
  pm::SsimOptions even;
  even.window = 10;
  CHECK_THROWS_AS(pm::ssim(at::rand({1, 1, 12, 12}), at::rand({1, 1, 12, 12}), even), partplan::UsageError);
  CHECK_THROWS_AS(pm::gaussian_window(11, 0.0), partplan::UsageError);
}

TEST_CASE("Gaussian window is normalised and symmetric", "[metrics]") {
  const auto g = pm::gaussian_window(11, 1.5);
  REQUIRE(g.numel() == 11);
  CHECK(g.sum().item<double>() == Approx(1.0).margin(1e-15));
  CHECK(g[0].item<double>() == Approx(g[10].item<double>()).margin(0));
  // Unnormalised centre/edge ratio: exp(25 / 4.5).
  CHECK(g[5].item<double>() / g[0].item<double>() == Approx(std::exp(25.0 / 4.5)).epsilon(1e-12));
}

TEST_CASE("PSNR of a known MSE", "[metrics]") {
  const auto zeros = at::zeros({2, 1, 4, 4}, at::kDouble);
  auto other = zeros.clone();
  other[0].fill_(0.1);   // MSE 0.01  -> 20 dB
  other[1].fill_(0.01);  // MSE 1e-4  -> 40 dB
  const auto p = pm::psnr(zeros, other);
  CHECK(p.psnr_db[0].item<double>() == Approx(20.0).margin(1e-9));
  CHECK(p.psnr_db[1].item<double>() == Approx(40.0).margin(1e-9));
  CHECK(p.mse[0].item<double>() == Approx(0.01).margin(1e-15));
  CHECK_FALSE(p.capped.any().item<bool>());

  SECTION("half the pixels off by 0.2: MSE 0.02") {
    auto y = zeros.clone();
    y.narrow(3, 0, 2).fill_(0.2);
    CHECK(pm::psnr(zeros, y).psnr_db[0].item<double>() == Approx(10.0 * std::log10(1.0 / 0.02)).margin(1e-9));
  }
  SECTION("an identical pair is capped and flagged, never infinite") {
    const auto q = pm::psnr(other, other);
    CHECK(q.capped.all().item<bool>());
    CHECK((q.psnr_db == pm::kPsnrCapDb).all().item<bool>());
    CHECK(at::isfinite(q.psnr_db).all().item<bool>());
    auto f = other.to(at::kFloat);
    CHECK((pm::psnr(f, f).psnr_db == pm::kPsnrCapDb).all().item<bool>());
  }
  SECTION("data range 255") {
    const auto q = pm::psnr(zeros * 255.0, other * 255.0, 255.0);
    CHECK(q.psnr_db[0].item<double>() == Approx(20.0).margin(1e-9));
  }
  SECTION("agrees with the reference") {
    auto [x, y] = random_pair({4, 3, 5, 6}, 0.1, 21);
    std::vector<bool> capped;
    const auto ref = pm::reference::psnr_db(to_host(x), to_host(y), &capped);
    const auto fast = pm::psnr(x, y).psnr_db;
    for (int64_t i = 0; i < 4; ++i) CHECK(fast[i].item<double>() == Approx(ref[i]).margin(1e-9));
  }
  CHECK_THROWS_AS(pm::psnr(zeros, at::zeros({2, 1, 4, 5}, at::kDouble)), partplan::DataError);
  CHECK_THROWS_AS(pm::psnr(zeros, zeros, 0.0), partplan::UsageError);
}

TEST_CASE("Student t quantiles and the mean's confidence interval", "[metrics]") {
  // Table values of t_{0.975, dof}.
  CHECK(pm::student_t_quantile(0.975, 1) == Approx(12.7062047362).epsilon(1e-9));
  CHECK(pm::student_t_quantile(0.975, 2) == Approx(4.3026527297).epsilon(1e-9));
  CHECK(pm::student_t_quantile(0.975, 4) == Approx(2.7764451052).epsilon(1e-9));
  CHECK(pm::student_t_quantile(0.975, 10) == Approx(2.2281388520).epsilon(1e-9));
  CHECK(pm::student_t_quantile(0.975, 30) == Approx(2.0422724563).epsilon(1e-9));
  CHECK(pm::student_t_quantile(0.975, 1e6) == Approx(1.9599663).epsilon(1e-6));
  CHECK(pm::student_t_quantile(0.025, 4) == Approx(-2.7764451052).epsilon(1e-9));
  CHECK(pm::student_t_cdf(0.0, 3) == Approx(0.5).margin(1e-15));

  const auto m = pm::mean_ci({1, 2, 3, 4, 5});
  CHECK(m.n == 5);
  CHECK(m.mean == Approx(3.0));
  CHECK(m.stddev == Approx(std::sqrt(2.5)));
  REQUIRE(m.has_ci);
  CHECK(m.half_width == Approx(2.7764451052 * std::sqrt(2.5) / std::sqrt(5.0)).epsilon(1e-9));
  CHECK(m.low == Approx(3.0 - m.half_width));

  const auto one = pm::mean_ci({0.7});
  CHECK_FALSE(one.has_ci);
  CHECK(one.low == 0.7);
  CHECK(one.high == 0.7);
  CHECK_THROWS_AS(pm::mean_ci({}), std::invalid_argument);
  CHECK_THROWS_AS(pm::mean_ci({1.0, NAN}), std::invalid_argument);
}
