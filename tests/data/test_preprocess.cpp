// Pixel space <-> model input: known values, the round trip, and validation.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include "partplan/common/error.hpp"
#include "partplan/data/preprocess.hpp"

namespace pd = partplan::data;

TEST_CASE("preprocessing defaults: ImageNet for RGB, none for gray", "[data]") {
  const auto rgb = pd::Preprocess::defaults_for_channels(3);
  CHECK(rgb.mean == std::vector<double>{0.485, 0.456, 0.406});
  CHECK(rgb.std == std::vector<double>{0.229, 0.224, 0.225});
  CHECK(rgb.pixel_min == 0.0);
  CHECK(rgb.pixel_max == 1.0);
  const auto gray = pd::Preprocess::defaults_for_channels(1);
  CHECK(gray.mean.empty());
  CHECK(gray.std.empty());
}

TEST_CASE("to_model_input maps [0,1] pixels to the model's input and back", "[data]") {
  auto unit = at::rand({2, 3, 4, 5});
  const auto p = pd::Preprocess::defaults_for_channels(3);
  const auto x = pd::to_model_input(unit, p);
  CHECK(x.sizes() == unit.sizes());
  // A white pixel in channel 0: (1 - 0.485) / 0.229.
  unit[0][0][0][0] = 1.0;
  CHECK(pd::to_model_input(unit, p)[0][0][0][0].item<double>() == Approx((1 - 0.485) / 0.229).epsilon(1e-6));
  CHECK(pd::to_model_input(unit, p)[0][2][0][0].item<double>() ==
        Approx((unit[0][2][0][0].item<double>() - 0.406) / 0.225).epsilon(1e-5));
  CHECK(at::allclose(pd::from_model_input(pd::to_model_input(unit, p), p, {3, 4, 5}), unit, 1e-5, 1e-6));

  SECTION("pixel range 0..255 without normalisation") {
    pd::Preprocess q;
    q.pixel_max = 255.0;
    CHECK(at::allclose(pd::to_model_input(unit, q), unit * 255.0));
  }
  SECTION("pixel range -1..1 with one mean/std for all channels") {
    pd::Preprocess q;
    q.pixel_min = -1.0;
    q.mean = {0.5};
    q.std = {2.0};
    CHECK(at::allclose(pd::to_model_input(unit, q), ((unit * 2.0 - 1.0) - 0.5) / 2.0));
    CHECK(at::allclose(pd::from_model_input(pd::to_model_input(unit, q), q, {3, 4, 5}), unit, 1e-5, 1e-6));
  }
  SECTION("flat models get flat vectors") {
    const auto g = at::rand({2, 1, 4, 4});
    const auto flat = pd::to_model_input(g, pd::Preprocess{}, {16});
    CHECK(flat.sizes() == at::IntArrayRef({2, 16}));
    CHECK(at::allclose(pd::from_model_input(flat, pd::Preprocess{}, {1, 4, 4}), g));
    CHECK_THROWS_AS(pd::to_model_input(g, pd::Preprocess{}, {15}), partplan::DataError);
  }
  SECTION("uint8 samples to [0,1]") {
    const auto u8 = at::tensor(std::vector<int64_t>{0, 51, 255}).to(at::kByte);
    CHECK(at::allclose(pd::to_unit(u8), at::tensor(std::vector<float>{0.0f, 0.2f, 1.0f})));
  }
}

TEST_CASE("invalid preprocessing is a usage error", "[data]") {
  pd::Preprocess p;
  p.pixel_max = p.pixel_min;
  CHECK_THROWS_AS(p.validate(3), partplan::UsageError);
  pd::Preprocess q = pd::Preprocess::defaults_for_channels(3);
  CHECK_THROWS_WITH(q.validate(1), Catch::Contains("3 values") && Catch::Contains("1 channels"));
  q.std = {0.2, 0.0, 0.2};
  CHECK_THROWS_AS(q.validate(3), partplan::UsageError);
  CHECK_THROWS_AS(pd::to_model_input(at::rand({1, 1, 4, 4}), pd::Preprocess::defaults_for_channels(3)),
                  partplan::UsageError);
}

TEST_CASE("gather_unit returns [0,1] floats of the chosen samples", "[data]") {
  pd::Dataset d;
  d.samples = at::arange(0, 4 * 1 * 2 * 2, at::kLong).to(at::kByte).view({4, 1, 2, 2}) * 10;
  const auto g = pd::gather_unit(d, {3, 1});
  REQUIRE(g.sizes() == at::IntArrayRef({2, 1, 2, 2}));
  CHECK(g.scalar_type() == at::kFloat);
  CHECK(g[0][0][0][0].item<float>() == Approx(120.0 / 255.0));
  CHECK(g[1][0][0][0].item<float>() == Approx(40.0 / 255.0));
  CHECK_THROWS_AS(pd::gather_unit(d, {4}), std::out_of_range);
}

TEST_CASE("augmentation crops and flips within [0,1], seeded", "[data]") {
  // A horizontal ramp: a flip reverses it, a crop narrows its range.
  auto ramp = at::linspace(0, 1, 32).view({1, 1, 1, 32}).expand({16, 3, 32, 32}).contiguous();
  const auto a = partplan::data::augment_crops_flips(ramp, 7);
  CHECK(a.sizes() == ramp.sizes());
  CHECK(at::equal(a, partplan::data::augment_crops_flips(ramp, 7)));
  // A crop keeps 60-100% of the area: each image's row spans a narrower range of the ramp
  // than the original's 0..1, and some crop is clearly narrower (not a no-op).
  const auto span = (a.select(2, 16).select(1, 0).amax(1) - a.select(2, 16).select(1, 0).amin(1));  // [16]
  CHECK(span.max().item<double>() <= 1.0 + 1e-6);
  CHECK(span.min().item<double>() < 0.9);
  CHECK_FALSE(at::equal(a, partplan::data::augment_crops_flips(ramp, 8)));
  int flipped = 0, kept = 0;
  for (int64_t i = 0; i < 16; ++i) {
    const double left = a[i][0][16][0].item<double>(), right = a[i][0][16][31].item<double>();
    (left > right ? flipped : kept) += 1;
    CHECK(std::abs(right - left) <= 1.0 + 1e-6);
  }
  CHECK(flipped > 0);  // 16 coin flips: both outcomes
  CHECK(kept > 0);
}

TEST_CASE("augmentation drawn ahead (augment_params) equals drawn in place", "[data]") {
  const auto images = at::rand({6, 3, 16, 16});
  const auto theta = pd::augment_params(6, 11);
  CHECK(theta.sizes() == std::vector<int64_t>{6, 2, 3});
  CHECK(at::equal(pd::augment_with(images, theta), pd::augment_crops_flips(images, 11)));
  CHECK_THROWS_AS(pd::augment_with(images, pd::augment_params(5, 11)), std::invalid_argument);
}

TEST_CASE("ModelInput caches its constants and equals to_model_input bit for bit", "[data]") {
  auto p = pd::Preprocess::defaults_for_channels(3);
  p.pixel_min = -1;
  const pd::ModelInput in(p, {3, 8, 8});
  for (int k = 0; k < 2; ++k) {  // the second call uses the cached constants
    const auto unit = at::rand({4, 3, 8, 8});
    CHECK(at::equal(in(unit), pd::to_model_input(unit, p, {3, 8, 8})));
  }
  const pd::ModelInput flat(pd::Preprocess{}, {64});
  const auto rec = at::rand({2, 64});
  CHECK(at::equal(flat(rec), pd::to_model_input(rec, pd::Preprocess{}, {64})));
  pd::Preprocess bad = p;
  bad.std = {1, 0, 1};
  CHECK_THROWS_AS(pd::ModelInput(bad, {3, 8, 8})(at::rand({1, 3, 8, 8})), partplan::UsageError);
}
