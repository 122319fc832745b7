// Oracle exposure (Gu et al.'s Model Assessment Framework), semantic agreement and linear
// probes. All run without autograd except the probe's own small optimisation.
#include "src/pipeline/exposure.hpp"

#include <fmt/format.h>

namespace partplan::pipeline {

at::Tensor kl_per_image(const at::Tensor& logits_p, const at::Tensor& logits_q) {
  const auto lp = torch::log_softmax(logits_p.to(torch::kFloat), 1);
  const auto lq = torch::log_softmax(logits_q.to(torch::kFloat), 1);
  // KL >= 0; float32 round-off on identical predictions can land a hair below it.
  return (lp.exp() * (lp - lq)).sum(1).clamp_min(0);
}

OracleScore oracle_exposure(const at::Tensor& features, const at::Tensor& images, const at::Tensor& logits,
                            const ModelFn& model, const data::Preprocess& pre, const common::Shape& model_sample,
                            int64_t max_channels) {
  OracleScore s;
  if (features.dim() != 4) {
    s.note = "flat cut: its values are not image-like channels";
    return s;
  }
  if (logits.dim() != 2 || logits.size(1) < 2) {
    s.note = "the model is not a classifier: no prediction to compare";
    return s;
  }
  torch::NoGradGuard ng;
  const int64_t n = features.size(0), channels = features.size(1);
  const int64_t tried = std::min(channels, std::max<int64_t>(1, max_channels));
  const int64_t H = images.size(2), W = images.size(3), cin = images.size(1);
  double best = 1e300;
  for (int64_t t = 0; t < tried; ++t) {
    const int64_t c = tried == channels ? t : t * channels / tried;  // evenly spaced
    auto ch = features.narrow(1, c, 1).to(torch::kFloat);
    ch = torch::nn::functional::interpolate(ch, torch::nn::functional::InterpolateFuncOptions()
                                                    .size(std::vector<int64_t>{H, W})
                                                    .mode(torch::kBilinear)
                                                    .align_corners(false));
    // Scale each image to [0,1] (the input's pixel range), then to the input's channels.
    auto lo = std::get<0>(ch.flatten(1).min(1)).view({n, 1, 1, 1});
    auto hi = std::get<0>(ch.flatten(1).max(1)).view({n, 1, 1, 1});
    ch = (ch - lo) / (hi - lo).clamp_min(1e-12);
    ch = ch.expand({n, cin, H, W}).contiguous();
    const auto q = model(data::to_model_input(ch, pre, model_sample));
    const double kl = kl_per_image(logits, q).mean().item<double>();
    if (kl < best) {
      best = kl;
      s.channel = c;
    }
  }
  s.available = true;
  s.kl_min = best;
  s.channels_tested = tried;
  return s;
}

double linear_probe_accuracy(const at::Tensor& train_features, const at::Tensor& train_labels,
                             const at::Tensor& eval_features, const at::Tensor& eval_labels, int64_t classes,
                             uint64_t seed) {
  torch::manual_seed(seed);
  auto xt = train_features.flatten(1).to(torch::kFloat);
  auto xe = eval_features.flatten(1).to(torch::kFloat);
  const auto mean = xt.mean(0, true);
  const auto std = xt.std(0, /*unbiased=*/false, /*keepdim=*/true).clamp_min(1e-6);
  xt = (xt - mean) / std;
  xe = (xe - mean) / std;
  const int64_t n = xt.size(0), d = xt.size(1);
  constexpr double kLr = 1e-2, kWeightDecay = 1e-4;  // the objective: cross-entropy + kWeightDecay/2 |w|^2
  constexpr int kSteps = 200;
  torch::AutoGradMode grad(true);
  if (d <= n) {
    auto w = torch::zeros({d, classes}, xt.options()).requires_grad_(true);
    auto b = torch::zeros({classes}, xt.options()).requires_grad_(true);
    torch::optim::Adam opt({w, b}, torch::optim::AdamOptions(kLr).weight_decay(kWeightDecay));
    for (int step = 0; step < kSteps; ++step) {
      opt.zero_grad();
      auto loss = torch::cross_entropy_loss(torch::addmm(b, xt, w), train_labels);
      loss.backward();
      opt.step();
    }
    torch::NoGradGuard ng;
    return (torch::addmm(b, xe, w).argmax(1) == eval_labels).to(torch::kFloat).mean().item<double>();
  }
  // More features than samples (a 224x224 cut has up to ~800k): the L2-regularised optimum lies
  // in the span of the training rows (representer theorem), w = xt^T a / d, so the same objective
  // is solved for `a` (n x classes) through the n x n Gram matrix. The primal d x classes weight
  // would be 3.2 GB at ResNet-50's layer1 with 1000 classes, four times that with Adam's state
  // and its gradient, and each step ~700 GFLOPs.
  const double scale = static_cast<double>(d);
  torch::Tensor gram, cross;
  {
    torch::NoGradGuard ng;
    gram = torch::mm(xt, xt.t()) / scale;   // n x n
    cross = torch::mm(xe, xt.t()) / scale;  // eval x n
  }
  auto a = torch::zeros({n, classes}, xt.options()).requires_grad_(true);
  auto b = torch::zeros({classes}, xt.options()).requires_grad_(true);
  torch::optim::Adam opt({a, b}, torch::optim::AdamOptions(kLr));
  for (int step = 0; step < kSteps; ++step) {
    opt.zero_grad();
    const auto ka = torch::mm(gram, a);
    // |w|^2 = a^T (xt xt^T) a / d^2 = tr(a^T gram a) / d
    auto loss = torch::cross_entropy_loss(ka + b, train_labels) + (kWeightDecay / (2 * scale)) * (a * ka).sum();
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard ng;
  return (torch::addmm(b, cross, a).argmax(1) == eval_labels).to(torch::kFloat).mean().item<double>();
}

}  // namespace partplan::pipeline
