// Known answers for the training-free measurements: the oracle exposure, the KL helper and
// the linear probe.
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include "src/pipeline/exposure.hpp"

using namespace partplan;

namespace {
// A fixed linear "classifier" of 1x16x16 images into 4 classes.
struct Toy {
  at::Tensor w = torch::randn({4, 256});
  at::Tensor operator()(const at::Tensor& x) const { return torch::linear(x.flatten(1), w) * 3.0; }
};
}  // namespace

TEST_CASE("KL of identical predictions is 0 and matches the formula", "[pipeline]") {
  const auto p = torch::tensor({{2.0, 0.0, -1.0}});
  CHECK(pipeline::kl_per_image(p, p).item<double>() == Approx(0.0).margin(1e-7));
  const auto q = torch::zeros({1, 3});
  const auto prob = torch::softmax(p, 1);
  const double expected = (prob * (prob.log() - std::log(1.0 / 3))).sum().item<double>();
  CHECK(pipeline::kl_per_image(p, q).item<double>() == Approx(expected).epsilon(1e-6));
}

TEST_CASE("oracle: a channel that is the input itself has KL 0 and noise channels score higher", "[pipeline]") {
  torch::manual_seed(3);
  Toy model;
  auto images = torch::rand({6, 1, 16, 16});
  // Stretch every image to exactly [0,1] so min-max scaling leaves it unchanged.
  images.select(2, 0).select(2, 0).fill_(0.0);
  images.select(2, 0).select(2, 1).fill_(1.0);
  const auto logits = model(images);
  const auto noise = torch::rand({6, 3, 8, 8});
  const auto features = torch::cat({noise, torch::avg_pool2d(images, 2)}, 1);
  const data::Preprocess pre = data::Preprocess::defaults_for_channels(1);
  auto fn = [&](const at::Tensor& x) { return model(x); };

  auto identity = pipeline::oracle_exposure(images, images, logits, fn, pre, {1, 16, 16}, 8);
  REQUIRE(identity.available);
  CHECK(identity.kl_min == Approx(0.0).margin(1e-6));
  CHECK(identity.channel == 0);

  auto mixed = pipeline::oracle_exposure(features, images, logits, fn, pre, {1, 16, 16}, 8);
  CHECK(mixed.channel == 3);  // the down-sampled image beats the noise channels
  CHECK(mixed.channels_tested == 4);
  auto noise_only = pipeline::oracle_exposure(noise, images, logits, fn, pre, {1, 16, 16}, 8);
  CHECK(noise_only.kl_min > mixed.kl_min);

  auto flat = pipeline::oracle_exposure(torch::rand({6, 10}), images, logits, fn, pre, {1, 16, 16}, 8);
  CHECK_FALSE(flat.available);
  CHECK(flat.note.find("flat") != std::string::npos);
}

TEST_CASE("linear probe: separable features give top-1 1.0, noise gives about chance", "[pipeline]") {
  torch::manual_seed(4);
  const auto labels = torch::randint(0, 3, {300}, torch::kLong);
  const auto eval_labels = torch::randint(0, 3, {150}, torch::kLong);
  auto separable = [](const at::Tensor& y) {
    return torch::one_hot(y, 3).to(torch::kFloat) * 4 + torch::randn({y.size(0), 3}) * 0.1;
  };
  CHECK(pipeline::linear_probe_accuracy(separable(labels), labels, separable(eval_labels), eval_labels, 3, 0) == 1.0);
  const double noise =
      pipeline::linear_probe_accuracy(torch::randn({300, 5}), labels, torch::randn({150, 5}), eval_labels, 3, 0);
  CHECK(noise < 0.55);
}

TEST_CASE("linear probe with more features than samples: solved through the Gram matrix", "[pipeline]") {
  // 90 samples of 20,000 features (a 224x224 cut has up to ~800k): a primal weight would be
  // 20,000 x classes; the dual form holds 90 x 90. Class means spread over every feature.
  torch::manual_seed(5);
  const int64_t d = 20000;
  const auto means = torch::randn({3, d});
  const auto labels = torch::randint(0, 3, {90}, torch::kLong);
  const auto eval_labels = torch::randint(0, 3, {150}, torch::kLong);
  auto sample = [&](const at::Tensor& y) { return means.index_select(0, y) + torch::randn({y.size(0), d}); };
  CHECK(pipeline::linear_probe_accuracy(sample(labels), labels, sample(eval_labels), eval_labels, 3, 0) == 1.0);
  const double noise =
      pipeline::linear_probe_accuracy(torch::randn({90, d}), labels, torch::randn({150, d}), eval_labels, 3, 0);
  CHECK(noise < 0.55);
  // Spatial features are flattened the same way: [N, C, H, W] with C*H*W > N.
  const auto spatial = sample(labels).reshape({90, 5, 40, 100});
  const auto spatial_eval = sample(eval_labels).reshape({150, 5, 40, 100});
  CHECK(pipeline::linear_probe_accuracy(spatial, labels, spatial_eval, eval_labels, 3, 0) == 1.0);
}
