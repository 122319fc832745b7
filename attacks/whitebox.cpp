// The white-box optimisation attacker: projected Adam on the pixels, a relative feature
// error plus a total-variation prior, cosine-decayed step. See whitebox.hpp and
// docs/attacks.md.
#include "partplan/attacks/whitebox.hpp"

#include <torch/torch.h>

#include <fmt/format.h>

#include <cmath>

#include "partplan/common/error.hpp"

namespace partplan::attacks {
namespace {

/// Per image: the anisotropic total variation, mean |x(i+1,j) - x(i,j)| + |x(i,j+1) - x(i,j)|.
torch::Tensor total_variation(const torch::Tensor& x) {
  using torch::indexing::Slice;
  const auto dh = (x.index({Slice(), Slice(), Slice(1, torch::indexing::None)}) -
                   x.index({Slice(), Slice(), Slice(torch::indexing::None, -1)}))
                      .abs()
                      .flatten(1)
                      .mean(1);
  const auto dw = (x.index({Slice(), Slice(), Slice(), Slice(1, torch::indexing::None)}) -
                   x.index({Slice(), Slice(), Slice(), Slice(torch::indexing::None, -1)}))
                      .abs()
                      .flatten(1)
                      .mean(1);
  return dh + dw;
}

/// Per image: ||f - t||^2 / ||t||^2 + tv_weight * TV(x).
torch::Tensor objective(const torch::Tensor& f, const torch::Tensor& t, const torch::Tensor& t_norm,
                        const torch::Tensor& x, double tv_weight) {
  auto e = (f - t).flatten(1).square().sum(1) / t_norm;
  if (tv_weight > 0) e = e + tv_weight * total_variation(x);
  return e;
}

}  // namespace

int64_t coarsest_scale(int64_t side) {
  int64_t s = 1;
  while (s < 8 && side / (s * 2) >= kMinCoarseSide) s *= 2;
  return s;
}

WhiteboxResult whitebox_invert(const FrontFn& front, const at::Tensor& observed, const at::Tensor& start,
                               const WhiteboxOptions& o) {
  namespace F = torch::nn::functional;
  if (!observed.defined() || !start.defined() || observed.size(0) == 0 || observed.size(0) != start.size(0))
    throw DataError(fmt::format("white-box attack: {} observed cut tensors for {} start images",
                                observed.defined() ? observed.size(0) : 0, start.defined() ? start.size(0) : 0));
  torch::AutoGradMode grad(true);
  const auto t = observed.detach().to(torch::kFloat);
  const auto t_norm = t.flatten(1).square().sum(1).clamp_min(1e-12);
  // Records [N,F]: one stage on the values, no image prior.
  const bool record = start.dim() == 2;
  const double tv_weight = record ? 0.0 : o.tv_weight;
  const std::vector<int64_t> size =
      record ? std::vector<int64_t>{1, 1} : std::vector<int64_t>{start.size(2), start.size(3)};
  auto image_of = [&](const torch::Tensor& z) {
    return record || (z.size(2) == size[0] && z.size(3) == size[1])
               ? z
               : F::interpolate(z, F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(false));
  };
  auto score = [&](const torch::Tensor& x) {
    torch::NoGradGuard ng;
    return objective(front(x), t, t_norm, x, tv_weight);
  };
  // Coarse to fine: pixels at 1/s of the side, bilinearly upsampled, for s = 8, 4, 2, 1 (as
  // far as the coarse side stays >= kMinCoarseSide); low frequencies settle first, and
  // gradient descent on full-resolution pixels alone fills a deep cut's null space with noise.
  std::vector<int64_t> scales;
  for (int64_t s = record ? 1 : coarsest_scale(std::min(size[0], size[1])); s >= 1; s /= 2) scales.push_back(s);
  // Fewer iterations than stages: drop the coarsest, so that the full resolution always runs.
  while (static_cast<int64_t>(scales.size()) > std::max<int64_t>(o.iterations, 1)) scales.erase(scales.begin());
  const int64_t per_stage = std::max<int64_t>(1, o.iterations / static_cast<int64_t>(scales.size()));
  auto x = start.detach().to(t.device(), torch::kFloat).clamp(0, 1);
  std::vector<WhiteboxResult> ends;  // each stage's result: the host keeps the best fit
  for (size_t k = 0; k < scales.size(); ++k) {
    const int64_t s = scales[k];
    const int64_t iters = k + 1 == scales.size() ? o.iterations - per_stage * static_cast<int64_t>(k) : per_stage;
    auto z =
        (s > 1
             ? F::interpolate(
                   x,
                   F::InterpolateFuncOptions().size(std::vector<int64_t>{size[0] / s, size[1] / s}).mode(torch::kArea))
             : x)
            .detach()
            .clone()
            .set_requires_grad(true);
    torch::optim::Adam opt({z}, torch::optim::AdamOptions(o.lr));
    for (int64_t it = 0; it < iters; ++it) {
      // Cosine decay from lr to lr / 10: large steps find the basin, small ones settle in it.
      const double progress = iters > 1 ? static_cast<double>(it) / static_cast<double>(iters - 1) : 1;
      static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options())
          .lr(o.lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress))));
      opt.zero_grad();
      const auto xi = image_of(z);
      // The sum over images: Adam is element-wise, so each image follows its own gradient.
      const auto loss = objective(front(xi), t, t_norm, xi, tv_weight).sum();
      z.mutable_grad() = torch::autograd::grad({loss}, {z})[0];
      opt.step();
      torch::NoGradGuard ng;
      z.clamp_(0, 1);  // projected onto the valid pixel range
    }
    x = image_of(z).detach();
    ends.push_back({x, score(x)});
  }
  return keep_best_fit(ends);
}

WhiteboxResult keep_best_fit(const std::vector<WhiteboxResult>& c) {
  if (c.empty()) throw DataError("white-box attack: no candidate reconstruction");
  WhiteboxResult best{c[0].images.clone(), c[0].objective.clone()};
  for (size_t i = 1; i < c.size(); ++i) {
    const auto better = c[i].objective < best.objective;
    best.objective = torch::where(better, c[i].objective, best.objective);
    std::vector<int64_t> view(static_cast<size_t>(best.images.dim()), 1);
    view[0] = -1;
    best.images = torch::where(better.view(view), c[i].images, best.images);
  }
  return best;
}

}  // namespace partplan::attacks
