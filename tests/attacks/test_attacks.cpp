// The attacker must really work: on a first-layer feature map it rebuilds the input almost
// perfectly, far above the guesses that use no feature. A weak attacker would make partplan
// call an unsafe cut safe.
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include "partplan/attacks/attacker.hpp"
#include "partplan/attacks/trainer.hpp"
#include "partplan/attacks/whitebox.hpp"
#include "partplan/common/error.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/metrics/records.hpp"
#include "partplan/metrics/ssim.hpp"

#include <numeric>

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

attacks::AttackerSpec spec_for(const std::vector<int64_t>& feature_shape, const at::Tensor& train_features = {}) {
  attacks::AttackerSpec s;
  s.feature_shape = feature_shape;
  if (train_features.defined()) s.feature_stats = attacks::feature_stats(train_features);
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
  auto a = attacks::create_attacker("cgan", spec_for({8, 28, 28}, feat(d.train)));
  std::vector<double> seen;
  auto st = attacks::train_on_pairs(*a, {feat(d.train), d.train}, {feat(d.val), d.val}, budget(200), /*seed=*/3,
                                    [&](const attacks::TrainProgress& p) { seen.push_back(p.val_score); });
  const auto rec = a->reconstruct(feat(d.eval));
  CHECK(rec.sizes() == d.eval.sizes());
  // Not a constant guess: the reconstructions vary as much as the images do.
  CHECK(rec.std().item<double>() > 0.5 * d.eval.std().item<double>());
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
    auto a = attacks::create_attacker(name, spec_for({64}, feat(d.train)));
    attacks::train_on_pairs(*a, {feat(d.train), d.train}, {feat(d.val), d.val}, budget(150), /*seed=*/3);
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
  auto a = attacks::create_attacker("inverse", spec_for({4, 28, 28}, feat(d.train)));
  auto b = budget(400);
  b.eval_every = 20;
  b.patience = 2;
  b.min_delta = 0.05;  // demands big gains: stops early
  auto st = attacks::train_on_pairs(*a, {feat(d.train), d.train}, {feat(d.val), d.val}, b, /*seed=*/3);
  CHECK(st.early_stopped);
  CHECK(st.steps_run < 400);
  const double val = mean_ssim(a->reconstruct(feat(d.val)), d.val);
  CHECK(val == Approx(st.best_val).margin(1e-4));
}

TEST_CASE("registry lists the attackers and refuses an unknown one", "[attack]") {
  CHECK(attacks::attacker_names() == std::vector<std::string>{"cgan", "inverse"});
  CHECK_THROWS_AS(attacks::create_attacker("magic", spec_for({4})), UsageError);
  CHECK_THROWS_WITH(attacks::create_attacker("magic", spec_for({4})), Catch::Contains("valid: cgan, inverse"));
}

TEST_CASE("the tracker stops at the budget, or when patience runs out, and flags the best check", "[attack]") {
  attacks::TrainBudget b;
  b.steps = 10;
  b.eval_every = 3;
  b.patience = 0;
  attacks::TrainTracker t(b);
  std::vector<int64_t> checks;
  while (!t.done()) {
    t.on_step(0.5);
    if (t.check_due()) {
      checks.push_back(t.steps());
      t.on_check(0.1 * static_cast<double>(t.steps()));
    }
  }
  CHECK(checks == std::vector<int64_t>{3, 6, 9, 10});  // every 3 steps, and at the end
  CHECK(t.stats(0).steps_run == 10);
  CHECK_FALSE(t.stats(0).early_stopped);

  b.steps = 100;
  b.eval_every = 1;
  b.patience = 2;
  b.min_delta = 0.01;
  attacks::TrainTracker p(b);
  const std::vector<double> val{0.5, 0.6, 0.605, 0.604, 0.7};
  std::vector<bool> best;
  for (double v : val) {
    if (p.done()) break;
    p.on_step(0.1);
    best.push_back(p.on_check(v));
  }
  // 0.605 is a gain (kept as best) but below min_delta: with 0.604 that is two checks without progress.
  CHECK(best == std::vector<bool>{true, true, true, false});
  CHECK(p.done());
  CHECK(p.stats(0).early_stopped);
  CHECK(p.stats(0).best_step == 3);
  CHECK(p.stats(0).best_val == Approx(0.605));
}

TEST_CASE("a time budget's step limit stops the tracker and marks it cut short", "[attack][time_plan]") {
  attacks::TrainBudget b;
  b.steps = 100;
  b.eval_every = 10;
  b.patience = 0;
  attacks::TrainTracker t(b);
  std::vector<int64_t> checks;
  while (!t.done()) {
    t.on_step(0.5);
    if (t.check_due()) {
      checks.push_back(t.steps());
      t.on_check(0.5 + 0.01 * static_cast<double>(t.steps()));
      if (t.steps() == 20) t.limit_steps(35);  // re-fitted at the check of step 20
    }
  }
  CHECK(checks == std::vector<int64_t>{10, 20, 30, 35});  // the new last step is checked
  CHECK(t.stats(0).steps_run == 35);
  CHECK(t.stats(0).cut_short);
  t.limit_steps(200);  // never raised
  CHECK(t.stats(0).steps_run == 35);

  attacks::TrainTracker u(b);  // limited to the steps it already ran, after its check: done at once
  for (int i = 0; i < 10; ++i) u.on_step(0.5);
  u.on_check(0.5);
  u.limit_steps(4);
  CHECK(u.done());
  CHECK(u.stats(0).steps_run == 10);

  b.patience = 1;  // an attacker that stopped early on its own was not cut short
  attacks::TrainTracker e(b);
  e.limit_steps(50);
  while (!e.done()) {
    e.on_step(0.5);
    if (e.check_due()) e.on_check(0.5);
  }
  CHECK(e.stats(0).early_stopped);
  CHECK_FALSE(e.stats(0).cut_short);
  CHECK_FALSE(attacks::TrainTracker(b).stats(0).cut_short);  // no limit: never
}

TEST_CASE("losses read later (a GPU's checks) give the same statistics as losses read at once", "[attack]") {
  attacks::TrainBudget b;
  b.steps = 25;
  b.eval_every = 5;
  b.patience = 0;
  attacks::TrainTracker now(b), later(b);
  std::vector<double> pending;
  for (int64_t s = 1; !now.done(); ++s) {
    const double l1 = 1.0 / static_cast<double>(s);
    now.on_step(l1);
    later.on_step();
    pending.push_back(l1);
    CHECK(later.done() == now.done());
    if (now.check_due()) {
      for (double v : pending) later.add_l1(v);  // read at the check
      pending.clear();
      now.on_check(0.5);
      later.on_check(0.5);
    }
  }
  for (double v : pending) later.add_l1(v);
  const auto a = now.stats(0), c = later.stats(0);
  CHECK(c.steps_run == a.steps_run);
  CHECK(c.first_l1 == a.first_l1);
  CHECK(c.last_l1 == a.last_l1);
  CHECK(a.first_l1 > a.last_l1);
}

TEST_CASE("feature statistics accumulated over batches equal one pass", "[attack]") {
  torch::manual_seed(1);
  const auto f = torch::randn({10, 3, 4, 5}) * torch::tensor({1.0, 2.0, 3.0}).view({1, 3, 1, 1}) + 7;
  attacks::FeatureStatsAccumulator acc;
  acc.add(f.narrow(0, 0, 4));
  acc.add(f.narrow(0, 4, 6));
  const auto s = acc.result();
  const auto mean = f.mean({0, 2, 3}), sd = f.std({0, 2, 3}, /*unbiased=*/false);
  REQUIRE(s.mean.size() == 3);
  for (int64_t c = 0; c < 3; ++c) {
    CHECK(s.mean[static_cast<size_t>(c)] == Approx(mean[c].item<double>()).epsilon(1e-5));
    CHECK(s.stddev[static_cast<size_t>(c)] == Approx(sd[c].item<double>()).epsilon(1e-5));
  }
  CHECK(acc.samples() == 10);
  CHECK_THROWS_AS(attacks::create_attacker("cgan", spec_for({4, 4, 5}, f)), DataError);  // 3 stats, 4 channels
}

TEST_CASE("a 224x224 generator respects the channel budget and still rebuilds the image size", "[attack]") {
  auto s = spec_for({64, 56, 56});
  s.image_shape = {3, 224, 224};
  s.cgan.width = 128;
  s.cgan.channel_budget = 4096;
  auto a = attacks::create_attacker("cgan", s);
  const auto rec = a->reconstruct(torch::randn({2, 64, 56, 56}));
  CHECK(rec.sizes() == std::vector<int64_t>{2, 3, 224, 224});
  // One step on a tiny batch runs end to end at this size.
  CHECK(a->step(torch::randn({2, 64, 56, 56}), torch::rand({2, 3, 224, 224})).item<double>() > 0);
}

TEST_CASE("the linear inverse recovers a linear, invertible cut in closed form (colour images)", "[attack]") {
  auto d = fashion();
  auto col = [](const at::Tensor& x) { return torch::cat({x, x.flip(3), 1 - x}, 1).contiguous(); };
  d.train = col(d.train);
  d.val = col(d.val);
  d.eval = col(d.eval);
  torch::manual_seed(2);
  // A stride-2 convolution with enough channels to keep each 2x2 block: linear and invertible.
  const auto w = torch::randn({24, 3, 3, 3});
  auto feat = [&](const at::Tensor& x) { return torch::conv2d(x, w, {}, 2, 1) * 3.0 + 1.0; };
  const std::vector<int64_t> fs{24, 14, 14};
  CHECK(attacks::linear_inverse_scale(fs, {3, 28, 28}) == 2);
  CHECK(attacks::linear_inverse_kernel(fs) == 3);
  CHECK(attacks::linear_inverse_scale({64}, {3, 28, 28}) == 0);
  CHECK(attacks::linear_inverse_kernel({512, 7, 7}) == 1);
  attacks::LinearInverseAccumulator acc(fs, {3, 28, 28});
  const auto ft = feat(d.train);
  for (int64_t i = 0; i < 1000; i += 100) acc.add(ft.narrow(0, i, 100), d.train.narrow(0, i, 100));
  const auto stats = attacks::feature_stats(ft);
  const auto lin = acc.result(stats);
  REQUIRE_FALSE(lin.empty());
  CHECK(lin.weight.sizes() == std::vector<int64_t>{12, 24, 3, 3});
  // Applied by hand to standardised eval features: conv (replicate padding), pixel shuffle.
  const auto mean = torch::tensor(stats.mean).to(torch::kFloat).view({1, 24, 1, 1});
  const auto sd = torch::tensor(stats.stddev).to(torch::kFloat).view({1, 24, 1, 1});
  auto fe = (feat(d.eval) - mean) / sd;
  fe = torch::nn::functional::pad(fe, torch::nn::functional::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
  const auto rec = torch::pixel_shuffle(torch::conv2d(fe, lin.weight, lin.bias), 2);
  const double err = (rec - d.eval).abs().mean().item<double>();
  INFO("mean abs error " << err);
  CHECK(err < 0.01);
  // The attacker built from it starts there: before any step it already rebuilds the eval set.
  auto s = spec_for(fs, ft);
  s.image_shape = {3, 28, 28};
  s.linear_inverse = lin;
  auto a = attacks::create_attacker("cgan", s);
  CHECK(mean_ssim(a->reconstruct(feat(d.eval)), d.eval) > 0.95);
  // Training steps do not move it away (the linear part is fixed; the residual starts at 0).
  for (int64_t i = 0; i < 20; ++i) a->step(ft.narrow(0, 32 * i, 32), d.train.narrow(0, 32 * i, 32));
  CHECK(mean_ssim(a->reconstruct(feat(d.eval)), d.eval) > 0.95);
  // No linear inverse: the attacker starts far from it.
  auto s0 = spec_for(fs, ft);
  s0.image_shape = {3, 28, 28};
  auto a0 = attacks::create_attacker("cgan", s0);
  CHECK(mean_ssim(a0->reconstruct(feat(d.eval)), d.eval) < 0.5);
}

TEST_CASE("token sequences are attacked as their patch grid", "[attack]") {
  CHECK(attacks::attack_feature_shape({17, 32}) == std::vector<int64_t>{32, 4, 4});  // class token + 4x4
  CHECK(attacks::attack_feature_shape({16, 32}) == std::vector<int64_t>{32, 4, 4});
  CHECK(attacks::attack_feature_shape({10, 32}) == std::vector<int64_t>{32, 3, 3});  // class token + 3x3
  CHECK(attacks::attack_feature_shape({11, 32}) == std::vector<int64_t>{11, 32});    // not a grid: flat
  CHECK(attacks::attack_feature_shape({5, 32}) == std::vector<int64_t>{5, 32});      // 2x2+1: too small
  CHECK(attacks::attack_feature_shape({8, 4, 4}) == std::vector<int64_t>{8, 4, 4});
  // Patch i of the grid (row-major) is token i + 1; the class token is dropped.
  const auto tokens = torch::arange(2 * 17 * 3, torch::kFloat).view({2, 17, 3});
  const auto grid = attacks::as_attack_features(tokens, {17, 3});
  REQUIRE(grid.sizes() == std::vector<int64_t>{2, 3, 4, 4});
  CHECK(grid[1][2][1][3].item<float>() == tokens[1][1 + 1 * 4 + 3][2].item<float>());

  // A ViT-like patch embedding (7x7 patches, 32 dims, a class token): the first cut leaks.
  torch::manual_seed(3);
  const auto d = fashion();
  const auto w = torch::randn({32, 1, 7, 7}) * 0.2;
  auto feat = [&](const at::Tensor& x) {
    const auto t = torch::conv2d(x, w, {}, 7).flatten(2).transpose(1, 2);      // [N, 16, 32]
    return torch::cat({torch::zeros({x.size(0), 1, 32}), t}, 1).contiguous();  // [N, 17, 32]
  };
  auto a = attacks::create_attacker("cgan", spec_for({17, 32}, feat(d.train)));
  attacks::train_on_pairs(*a, {feat(d.train), d.train}, {feat(d.val), d.val}, budget(200), /*seed=*/3);
  const double ssim = mean_ssim(a->reconstruct(feat(d.eval)), d.eval);
  const double mean_image = mean_ssim(d.train.mean(0, true).expand_as(d.eval).contiguous(), d.eval);
  INFO("SSIM " << ssim << " mean-image " << mean_image);
  CHECK(ssim > mean_image + 0.4);
}

TEST_CASE("convergence: a still-rising validation curve is flagged, a flat or early-stopped one is not", "[attack]") {
  attacks::TrainStats s;
  s.val_curve = {{50, 0.40}, {100, 0.50}, {150, 0.55}, {200, 0.60}};
  attacks::judge_convergence(s, 0.002);
  CHECK(s.still_improving);
  CHECK(s.val_slope == Approx(0.05));  // least squares over the last three checks
  s.val_curve = {{50, 0.40}, {100, 0.600}, {150, 0.601}, {200, 0.600}};
  attacks::judge_convergence(s, 0.002);
  CHECK_FALSE(s.still_improving);
  s.val_curve = {{50, 0.40}, {100, 0.50}, {150, 0.55}, {200, 0.60}};
  s.early_stopped = true;
  attacks::judge_convergence(s, 0.002);
  CHECK_FALSE(s.still_improving);
  s.early_stopped = false;
  s.val_curve = {{50, 0.4}};  // one check shows nothing levelling off
  attacks::judge_convergence(s, 0.002);
  CHECK(s.still_improving);
  // The tracker applies the rule: a budget that ends on a rising curve.
  attacks::TrainBudget b;
  b.steps = 6;
  b.eval_every = 2;
  b.patience = 0;
  attacks::TrainTracker t(b);
  while (!t.done()) {
    t.on_step(0.5);
    if (t.check_due()) t.on_check(0.1 * static_cast<double>(t.steps()));
  }
  CHECK(t.stats(0).still_improving);
}

TEST_CASE("the white-box attacker rebuilds images from a first-layer cut through the front's weights", "[attack]") {
  torch::manual_seed(3);
  const auto d = fashion();
  const auto w = torch::randn({8, 1, 3, 3}) * 0.5;
  const attacks::FrontFn front = [&](const at::Tensor& x) { return torch::relu(torch::conv2d(x, w, {}, 2, 1)); };
  const auto images = d.eval.narrow(0, 0, 16);
  const auto observed = front(images).detach();
  const auto mean = d.train.mean(0, true).expand_as(images);
  attacks::WhiteboxOptions o;
  const auto from_mean = attacks::whitebox_invert(front, observed, mean, o);
  INFO("white-box SSIM " << mean_ssim(from_mean.images, images) << ", mean image " << mean_ssim(mean, images));
  CHECK(mean_ssim(from_mean.images, images) > 0.95);
  CHECK(mean_ssim(mean, images) < 0.5);
  // It moved from its start: the fit is far closer to the observation than the mean image's.
  CHECK(from_mean.objective.mean().item<double>() <
        0.1 * attacks::whitebox_invert(front, observed, mean, [] {
                attacks::WhiteboxOptions z;
                z.iterations = 1;
                return z;
              }()).objective.mean().item<double>());
  // Images are independent of their batch: the first, among 15 other images instead of its
  // own batch's, gives the same result. (The batch size stays 16: a batch of one runs other
  // convolution kernels, whose rounding differs by about 2e-4 after 200 steps on some CPUs.)
  const auto others = d.eval.narrow(0, 16, 15);
  const auto mixed = attacks::whitebox_invert(front, torch::cat({observed.narrow(0, 0, 1), front(others).detach()}),
                                              mean, o);
  CHECK((mixed.images.narrow(0, 0, 1) - from_mean.images.narrow(0, 0, 1)).abs().max().item<double>() < 1e-5);
  CHECK((mixed.images.narrow(0, 1, 15) - from_mean.images.narrow(0, 1, 15)).abs().max().item<double>() > 0.1);
  // keep_best_fit keeps, per image, the candidate that fits the observed features better.
  o.iterations = 1;
  const auto barely = attacks::whitebox_invert(front, observed, mean, o);
  const auto best = attacks::keep_best_fit({barely, from_mean});
  CHECK(torch::allclose(best.images, from_mean.images));
  CHECK((best.objective <= barely.objective).all().item<bool>());
}

namespace {
// Synthetic records [n, 12]: 8 numeric fields in [0,1] and 4 categorical ones of 5 categories.
at::Tensor synthetic_records(int64_t n, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto numeric = at::rand({n, 8}, g);
  const auto codes = at::randint(0, 5, {n, 4}, g).to(at::kFloat) / 4;
  return at::cat({numeric, codes}, 1);
}
std::vector<metrics::RecordField> record_fields() {
  std::vector<metrics::RecordField> f(8);
  for (int i = 0; i < 4; ++i) f.push_back({"c", true, 5, false});
  return f;
}
}  // namespace

TEST_CASE("record attackers rebuild records from a first-layer cut, far above the mean record", "[attack][records]") {
  torch::manual_seed(0);
  const auto train = synthetic_records(2000, 1), val = synthetic_records(200, 2), eval = synthetic_records(300, 3);
  const auto w = torch::randn({32, 12}) / 3.5;
  auto feat = [&](const at::Tensor& x) { return torch::relu(torch::linear(x, w)); };
  std::vector<int64_t> own(300);
  std::iota(own.begin(), own.end(), int64_t{0});
  const auto guess = metrics::record_prototype(train, record_fields()).unsqueeze(0).expand({300, 12}).contiguous();
  const auto base = metrics::record_scores(guess, eval, own, record_fields(), 0.05);
  for (const std::string name : {"cgan", "inverse"}) {
    auto spec = spec_for({32}, feat(train));
    spec.image_shape = {12};
    auto a = attacks::create_attacker(name, spec);
    attacks::train_on_pairs(*a, {feat(train), train}, {feat(val), val}, budget(400), /*seed=*/3);
    const auto rec = a->reconstruct(feat(eval));
    REQUIRE(rec.sizes() == at::IntArrayRef({300, 12}));
    const auto s = metrics::record_scores(rec, eval, own, record_fields(), 0.05);
    INFO(name << " re-identified " << s.reidentification.mean << " categorical " << s.categorical_accuracy->mean
              << " (mean record " << base.categorical_accuracy->mean << ") numeric error " << s.numeric_error->mean
              << " (mean record " << base.numeric_error->mean << ")");
    CHECK(s.reidentification.mean > 0.9);
    CHECK(s.categorical_accuracy->mean > base.categorical_accuracy->mean + 0.3);
    CHECK(s.numeric_error->mean < base.numeric_error->mean / 2);
  }
  // White-box: the cut is a linear map of full column rank, so the record is recovered exactly.
  const auto w_full = torch::randn({24, 12});
  const attacks::FrontFn front = [&](const at::Tensor& x) { return torch::linear(x, w_full); };
  attacks::WhiteboxOptions o;
  o.iterations = 300;
  o.lr = 0.02;
  const auto fit = attacks::whitebox_invert(front, front(eval).detach(), guess, o);
  REQUIRE(fit.images.sizes() == at::IntArrayRef({300, 12}));
  const auto s = metrics::record_scores(fit.images, eval, own, record_fields(), 0.05);
  INFO("white-box numeric error " << s.numeric_error->mean);
  CHECK(s.reidentification.mean == 1);
  CHECK(s.numeric_error->mean < 0.01);
}
