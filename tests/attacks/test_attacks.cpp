// The attacker must really work: on a first-layer feature map it rebuilds the input almost
// perfectly, far above the guesses that use no feature. A weak attacker would make partplan
// call an unsafe cut safe.
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include "partplan/attacks/attacker.hpp"
#include "partplan/common/error.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/metrics/ssim.hpp"

using namespace partplan;

namespace {

struct Data {
  at::Tensor train, val, eval;  // [N,1,28,28] in [0,1]
};

Data fashion() {
  data::LoadOptions lo;
  lo.max_samples = 1400;
  lo.seed = 5;
  auto ds = data::load("builtin:fashion-mnist:test", lo);
  auto unit = data::to_unit(ds.samples);
  return {unit.narrow(0, 0, 1000), unit.narrow(0, 1000, 150), unit.narrow(0, 1150, 250)};
}

attacks::AttackerSpec spec_for(const std::vector<int64_t>& feature_shape) {
  attacks::AttackerSpec s;
  s.feature_shape = feature_shape;
  s.image_shape = {1, 28, 28};
  s.seed = 1;
  s.cgan.width = 64;
  s.cgan.disc_width = 32;
  return s;
}

attacks::TrainBudget budget(int64_t steps) {
  attacks::TrainBudget b;
  b.steps = steps;
  b.batch_size = 32;
  b.eval_every = 50;
  b.patience = 0;
  return b;
}

double mean_ssim(const at::Tensor& a, const at::Tensor& b) { return metrics::ssim(a, b).mean().item<double>(); }

}  // namespace

TEST_CASE("c-GAN rebuilds the input from a first-layer feature map", "[attack]") {
  torch::manual_seed(0);
  const auto d = fashion();
  const auto w = torch::randn({8, 1, 3, 3}) * 0.5;
  auto feat = [&](const at::Tensor& x) { return torch::relu(torch::conv2d(x, w, {}, 1, 1)); };
  auto a = attacks::create_attacker("cgan", spec_for({8, 28, 28}));
  std::vector<double> seen;
  auto st = a->train({feat(d.train), d.train}, {feat(d.val), d.val}, budget(200),
                     [&](const attacks::TrainProgress& p) { seen.push_back(p.val_ssim); });
  const auto rec = a->reconstruct(feat(d.eval));
  CHECK(rec.sizes() == d.eval.sizes());
  CHECK(rec.min().item<double>() >= 0.0);
  CHECK(rec.max().item<double>() <= 1.0);
  const double ssim = mean_ssim(rec, d.eval);
  const double blank = mean_ssim(torch::zeros_like(d.eval), d.eval);
  const double mean_image = mean_ssim(d.train.mean(0, true).expand_as(d.eval).contiguous(), d.eval);
  INFO("SSIM " << ssim << " blank " << blank << " mean-image " << mean_image);
  CHECK(ssim > 0.85);
  CHECK(ssim > mean_image + 0.5);
  CHECK(st.last_l1 < st.first_l1 * 0.5);  // the loss went down
  CHECK(st.steps_run == 200);
  CHECK(st.val_curve.size() == 4);
  CHECK_FALSE(seen.empty());
}

TEST_CASE("attackers take flat features (after a linear layer)", "[attack]") {
  torch::manual_seed(0);
  const auto d = fashion();
  const auto w = torch::randn({64, 784}) / 28.0;
  auto feat = [&](const at::Tensor& x) { return torch::relu(torch::linear(x.flatten(1), w)); };
  const double mean_image = mean_ssim(d.train.mean(0, true).expand_as(d.eval).contiguous(), d.eval);
  for (const std::string name : {"cgan", "inverse"}) {
    auto a = attacks::create_attacker(name, spec_for({64}));
    a->train({feat(d.train), d.train}, {feat(d.val), d.val}, budget(150), nullptr);
    const double ssim = mean_ssim(a->reconstruct(feat(d.eval)), d.eval);
    INFO(name << " SSIM " << ssim << " mean-image " << mean_image);
    CHECK(ssim > mean_image + 0.15);
  }
}

TEST_CASE("early stopping keeps the best weights", "[attack]") {
  torch::manual_seed(0);
  const auto d = fashion();
  const auto w = torch::randn({4, 1, 3, 3});
  auto feat = [&](const at::Tensor& x) { return torch::conv2d(x, w, {}, 1, 1); };
  auto a = attacks::create_attacker("inverse", spec_for({4, 28, 28}));
  auto b = budget(400);
  b.eval_every = 20;
  b.patience = 2;
  b.min_delta = 0.05;  // demands big gains: stops early
  auto st = a->train({feat(d.train), d.train}, {feat(d.val), d.val}, b, nullptr);
  CHECK(st.early_stopped);
  CHECK(st.steps_run < 400);
  const double val = mean_ssim(a->reconstruct(feat(d.val)), d.val);
  CHECK(val == Approx(st.best_val_ssim).margin(1e-4));
}

TEST_CASE("registry lists the attackers and refuses an unknown one", "[attack]") {
  CHECK(attacks::attacker_names() == std::vector<std::string>{"cgan", "inverse"});
  CHECK_THROWS_AS(attacks::create_attacker("magic", spec_for({4})), UsageError);
  CHECK_THROWS_WITH(attacks::create_attacker("magic", spec_for({4})), Catch::Contains("valid: cgan, inverse"));
}
