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

namespace {

/// Fits logits = x p + b by 200 Adam steps on cross-entropy + penalty(p, x p) + wd/2 |b|^2,
/// and returns the top-1 accuracy of x_eval p + b on eval_labels.
template <class Penalty>
double fit_softmax_probe(const at::Tensor& x, const at::Tensor& labels, const at::Tensor& x_eval,
                         const at::Tensor& eval_labels, int64_t classes, double weight_decay, Penalty penalty) {
  torch::AutoGradMode grad(true);
  auto p = torch::zeros({x.size(1), classes}, x.options()).requires_grad_(true);
  auto b = torch::zeros({classes}, x.options()).requires_grad_(true);
  torch::optim::Adam opt({p, b}, torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    const auto xp = torch::mm(x, p);
    auto loss = torch::cross_entropy_loss(xp + b, labels) + penalty(p, xp) + (weight_decay / 2) * b.square().sum();
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard ng;
  return (torch::addmm(b, x_eval, p).argmax(1) == eval_labels).to(torch::kFloat).mean().item<double>();
}

}  // namespace

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
  // The objective: cross-entropy of xt w + b, plus wd/2 (|w|^2 + |b|^2).
  constexpr double kWeightDecay = 1e-4;
  const int64_t n = xt.size(0), d = xt.size(1);
  if (d <= n)
    return fit_softmax_probe(xt, train_labels, xe, eval_labels, classes, kWeightDecay,
                             [](const at::Tensor& w, const at::Tensor&) { return (kWeightDecay / 2) * w.square().sum(); });
  // More features than samples (a 224x224 cut has up to ~800k): the optimum w lies in the span
  // of the training rows (representer theorem), w = xt^T a / d, so the same objective is solved
  // for `a` (n x classes) through the Gram matrix gram = xt xt^T / d, where xt w = gram a and
  // |w|^2 = tr(a^T gram a) / d. The d x classes weight would be 3.2 GB at ResNet-50's layer1
  // with 1000 classes, four times that with Adam's state and its gradient.
  const double scale = static_cast<double>(d);
  const auto gram = torch::mm(xt, xt.t()) / scale;   // n x n
  const auto cross = torch::mm(xe, xt.t()) / scale;  // eval x n
  return fit_softmax_probe(gram, train_labels, cross, eval_labels, classes, kWeightDecay,
                           [scale](const at::Tensor& a, const at::Tensor& gram_a) {
                             return (kWeightDecay / (2 * scale)) * (a * gram_a).sum();
                           });
}

}  // namespace partplan::pipeline
