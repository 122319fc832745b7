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

WhiteboxResult whitebox_invert(const FrontFn& front, const at::Tensor& observed, const at::Tensor& start,
                               const WhiteboxOptions& o) {
  if (!observed.defined() || !start.defined() || observed.size(0) == 0 || observed.size(0) != start.size(0))
    throw DataError(fmt::format("white-box attack: {} observed cut tensors for {} start images",
                                observed.defined() ? observed.size(0) : 0, start.defined() ? start.size(0) : 0));
  torch::AutoGradMode grad(true);
  const auto t = observed.detach().to(torch::kFloat);
  const auto t_norm = t.flatten(1).square().sum(1).clamp_min(1e-12);
  auto x = start.detach().to(t.device(), torch::kFloat).clamp(0, 1).clone().set_requires_grad(true);
  torch::optim::Adam opt({x}, torch::optim::AdamOptions(o.lr));
  for (int64_t it = 0; it < o.iterations; ++it) {
    // Cosine decay from lr to lr / 10: large steps find the basin, small ones settle in it.
    const double progress = o.iterations > 1 ? static_cast<double>(it) / static_cast<double>(o.iterations - 1) : 1;
    const double lr = o.lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress)));
    static_cast<torch::optim::AdamOptions&>(opt.param_groups()[0].options()).lr(lr);
    opt.zero_grad();
    // The sum over images: Adam is element-wise, so each image follows its own gradient.
    const auto loss = objective(front(x), t, t_norm, x, o.tv_weight).sum();
    x.mutable_grad() = torch::autograd::grad({loss}, {x})[0];
    opt.step();
    {
      torch::NoGradGuard ng;
      x.clamp_(0, 1);  // projected onto the valid pixel range
    }
  }
  WhiteboxResult r;
  r.images = x.detach();
  {
    torch::AutoGradMode no(false);
    r.objective = objective(front(r.images), t, t_norm, r.images, o.tv_weight).detach();
  }
  return r;
}

WhiteboxResult keep_best_fit(const std::vector<WhiteboxResult>& c) {
  if (c.empty()) throw DataError("white-box attack: no candidate reconstruction");
  WhiteboxResult best{c[0].images.clone(), c[0].objective.clone()};
  for (size_t i = 1; i < c.size(); ++i) {
    const auto better = c[i].objective < best.objective;
    best.objective = torch::where(better, c[i].objective, best.objective);
    best.images = torch::where(better.view({-1, 1, 1, 1}), c[i].images, best.images);
  }
  return best;
}

}  // namespace partplan::attacks
