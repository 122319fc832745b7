// Generator / discriminator of the c-GAN attacker (docs/attacks.md). To change the
// architecture, keep the contract in networks.hpp: any feature shape in, [0,1] image out.
#include "attacks/networks.hpp"

#include <algorithm>
#include <cmath>

namespace partplan::attacks {
namespace {

namespace F = torch::nn::functional;

torch::nn::AnyModule make_norm(Norm norm, int64_t ch) {
  if (norm == Norm::kBatch) return torch::nn::AnyModule(torch::nn::BatchNorm2d(ch));
  if (norm == Norm::kInstance)
    return torch::nn::AnyModule(torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(ch).affine(true)));
  return torch::nn::AnyModule(torch::nn::Identity());
}

// For record MLPs: batch norm, layer norm for "instance" (one record has no spatial extent), or none.
torch::nn::AnyModule make_norm1d(Norm norm, int64_t width) {
  if (norm == Norm::kBatch) return torch::nn::AnyModule(torch::nn::BatchNorm1d(width));
  if (norm == Norm::kInstance) return torch::nn::AnyModule(torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  return torch::nn::AnyModule(torch::nn::Identity());
}

// Side of the starting map for flat features: halve the image side until <= 8 (28 -> 7, 224 -> 7).
int64_t start_side(int64_t side) {
  while (side > 8) side = (side + 1) / 2;
  return side;
}

// Bilinear resize of [N,C,h,w] to h x w; no-op when already that size.
torch::Tensor resize_to(const torch::Tensor& x, int64_t h, int64_t w) {
  if (x.size(2) == h && x.size(3) == w) return x;
  return F::interpolate(
      x, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
}

bool is_flat(const std::vector<int64_t>& fs) { return fs.size() != 3 || (fs[1] <= 2 && fs[2] <= 2); }

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// Linear map F -> out, through a 1024-wide bottleneck when the direct layer would be huge.
void add_flat_projection(torch::nn::Sequential& s, int64_t in, int64_t out) {
  if (in * out > (int64_t{16} << 20)) {
    s->push_back(torch::nn::Linear(in, 1024));
    s->push_back(torch::nn::ReLU());
    s->push_back(torch::nn::Linear(1024, out));
  } else {
    s->push_back(torch::nn::Linear(in, out));
  }
}

// Channels a layer of this side may have (CganOptions::channel_budget).
int64_t capped(int64_t channels, int64_t side, const CganOptions& o) {
  return std::min(channels, std::max<int64_t>(8, o.channel_budget / std::max<int64_t>(side, 1)));
}

constexpr double kSkipEps = 1e-3;

// g with g*g == t or g*g + 1 == t (g >= 3), else 0; `class_token` says which.
int64_t token_grid_side(int64_t t, bool& class_token) {
  for (int64_t extra : {0, 1}) {
    const auto g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(t - extra))));
    if (g >= 3 && g * g + extra == t) {
      class_token = extra == 1;
      return g;
    }
  }
  return 0;
}

}  // namespace

int64_t linear_inverse_scale(const std::vector<int64_t>& fs, const std::vector<int64_t>& is) {
  constexpr int64_t kMaxScale = 16;
  if (is_flat(fs) || is.size() != 3) return 0;
  const int64_t ratio = std::max((is[1] + fs[1] - 1) / fs[1], (is[2] + fs[2] - 1) / fs[2]);
  int64_t s = 1;
  while (s < ratio && s < kMaxScale) s *= 2;
  return s;
}

std::vector<int64_t> attack_feature_shape(const std::vector<int64_t>& fs) {
  bool cls = false;
  if (fs.size() == 2)
    if (const int64_t g = token_grid_side(fs[0], cls)) return {fs[1], g, g};
  return fs;
}

at::Tensor as_attack_features(const at::Tensor& f, const std::vector<int64_t>& fs) {
  bool cls = false;
  const int64_t g = fs.size() == 2 ? token_grid_side(fs[0], cls) : 0;
  if (g == 0) return f;
  auto patches = cls ? f.narrow(1, 1, g * g) : f;                    // [B, g*g, D]
  return patches.transpose(1, 2).reshape({f.size(0), fs[1], g, g});  // [B, D, g, g]
}

int64_t linear_inverse_kernel(const std::vector<int64_t>& fs) { return !fs.empty() && fs[0] * 9 <= 1152 ? 3 : 1; }

GeneratorImpl::GeneratorImpl(const std::vector<int64_t>& fs, const std::vector<int64_t>& is, const CganOptions& o,
                             const LinearInverse& o_linear)
    : record_(is.size() == 1),
      flat_(is_flat(fs)),
      out_h_(record_ ? 1 : is.at(1)),
      out_w_(record_ ? is.at(0) : is.at(2)),
      upsample_(o.upsample) {
  if (record_) {
    const int64_t in = numel(fs), hidden = 4 * o.width, out = is[0];
    mlp_ = torch::nn::Sequential();
    add_flat_projection(mlp_, in, hidden);
    mlp_->push_back(make_norm1d(o.norm, hidden));
    mlp_->push_back(torch::nn::ReLU());
    mlp_->push_back(torch::nn::Linear(hidden, hidden));
    mlp_->push_back(make_norm1d(o.norm, hidden));
    mlp_->push_back(torch::nn::ReLU());
    mlp_->push_back(torch::nn::Linear(hidden, out));
    register_module("mlp", mlp_);
    linear_ = register_module("linear", torch::nn::Linear(in, out));
    torch::NoGradGuard ng;
    linear_->weight.zero_();
    linear_->bias.zero_();
    return;
  }
  const int64_t channels = is.at(0);
  head_ = torch::nn::Sequential();
  if (flat_) {
    h0_ = start_side(out_h_);
    w0_ = start_side(out_w_);
    width0_ = capped(o.width, std::max(h0_, w0_), o);
    add_flat_projection(head_, numel(fs), width0_ * h0_ * w0_);
  } else {
    h0_ = fs[1];
    w0_ = fs[2];
    width0_ = capped(o.width, std::max(h0_, w0_), o);
    head_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(fs[0], width0_, 1)));
    head_->push_back(make_norm(o.norm, width0_));
    head_->push_back(torch::nn::ReLU());
  }
  register_module("head", head_);
  blocks_ = torch::nn::ModuleList();
  int64_t ch = width0_, h = h0_, w = w0_;
  while (h < out_h_ || w < out_w_) {
    const int64_t next = capped(std::max(o.min_width, ch / 2), 2 * std::max(h, w), o);
    torch::nn::Sequential b;
    b->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(ch, next, 3).padding(1)));
    b->push_back(make_norm(o.norm, next));
    b->push_back(torch::nn::ReLU());
    blocks_->push_back(b);
    ch = next;
    h *= 2;
    w *= 2;
  }
  register_module("blocks", blocks_);
  out_ = register_module("out", torch::nn::Conv2d(torch::nn::Conv2dOptions(ch, channels, 3).padding(1)));
  skip_scale_ = linear_inverse_scale(fs, is);
  if (skip_scale_ > 0) {
    const int64_t k = linear_inverse_kernel(fs);
    skip_ = register_module("skip",
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(fs[0], channels * skip_scale_ * skip_scale_, k)
                                                  .padding(k / 2)
                                                  .padding_mode(torch::kReplicate)));
    torch::NoGradGuard ng;
    if (!o_linear.adoptable(o.linear_min_r2)) {
      skip_->weight.zero_();
      skip_->bias.zero_();
    } else {
      if (o_linear.weight.sizes() != skip_->weight.sizes() || o_linear.bias.sizes() != skip_->bias.sizes())
        throw std::invalid_argument("Generator: linear inverse of the wrong shape");
      skip_->weight.copy_(o_linear.weight);
      skip_->bias.copy_(o_linear.bias);
      // Fixed: Adam's first steps move every weight by about lr, which wrecks a least-squares
      // solution over hundreds of correlated inputs (measured: L1 0.0025 -> 0.067 in 10 steps).
      skip_->weight.set_requires_grad(false);
      skip_->bias.set_requires_grad(false);
      skip_fixed_ = true;
      // Start from the linear solution exactly: the convolutional path adds nothing until it learns.
      out_->weight.zero_();
      out_->bias.zero_();
    }
  }
}

torch::Tensor GeneratorImpl::forward(torch::Tensor f) {
  if (record_) {
    const auto x = f.flatten(1);
    return torch::sigmoid(mlp_->forward(x) + linear_->forward(x));
  }
  torch::Tensor x;
  if (flat_) {
    x = head_->forward(f.flatten(1)).view({f.size(0), width0_, h0_, w0_});
    x = torch::relu(x);
  } else {
    x = head_->forward(f);
  }
  for (const auto& b : *blocks_) {
    auto opts = F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0});
    if (upsample_ == Upsample::kBilinear) {
      opts.mode(torch::kBilinear).align_corners(false);
    } else {
      opts.mode(torch::kNearest);
    }
    x = b->as<torch::nn::Sequential>()->forward(F::interpolate(x, opts));
  }
  x = resize_to(x, out_h_, out_w_);
  auto logits = out_->forward(x);
  if (skip_) {
    auto s = skip_->forward(f);
    if (skip_scale_ > 1) s = torch::pixel_shuffle(s, skip_scale_);
    s = resize_to(s, out_h_, out_w_);
    // A fitted skip predicts pixel values: add them as logits. A learned one is a logit already.
    if (skip_fixed_) s = torch::logit(s.clamp(kSkipEps, 1 - kSkipEps));
    logits = logits + s;
  }
  return torch::sigmoid(logits);
}

DiscriminatorImpl::DiscriminatorImpl(const std::vector<int64_t>& fs, const std::vector<int64_t>& is,
                                     const CganOptions& o)
    : record_(is.size() == 1),
      flat_(is_flat(fs)),
      cond_(o.cond_channels),
      out_h_(record_ ? 1 : is.at(1)),
      out_w_(record_ ? is.at(0) : is.at(2)) {
  if (record_) {
    const int64_t cond = 8 * cond_, width = 4 * o.disc_width;
    cond_proj_ = torch::nn::Sequential();
    add_flat_projection(cond_proj_, numel(fs), cond);
    register_module("cond_proj", cond_proj_);
    auto leaky = [] { return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)); };
    body_ = torch::nn::Sequential(torch::nn::Linear(is[0] + cond, width), leaky(), torch::nn::Linear(width, width),
                                  leaky(), torch::nn::Linear(width, 1));
    register_module("body", body_);
    return;
  }
  // Large images are judged at a reduced size: halve until the longer side is <= disc_max_side.
  while (std::max(out_h_, out_w_) > o.disc_max_side && std::min(out_h_, out_w_) >= 16) {
    out_h_ = (out_h_ + 1) / 2;
    out_w_ = (out_w_ + 1) / 2;
  }
  cond_proj_ = torch::nn::Sequential();
  if (flat_) {
    h0_ = start_side(out_h_);
    w0_ = start_side(out_w_);
    add_flat_projection(cond_proj_, numel(fs), cond_ * h0_ * w0_);
  } else {
    cond_proj_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(fs[0], cond_, 1)));
  }
  register_module("cond_proj", cond_proj_);
  const int64_t d = o.disc_width;
  auto conv = [](int64_t in, int64_t out, int64_t stride) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 4).stride(stride).padding(1));
  };
  body_ = torch::nn::Sequential();
  body_->push_back(conv(is.at(0) + cond_, d, 2));
  body_->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
  body_->push_back(conv(d, 2 * d, 2));
  body_->push_back(make_norm(o.norm, 2 * d));
  body_->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
  body_->push_back(conv(2 * d, 1, 1));
  register_module("body", body_);
}

torch::Tensor DiscriminatorImpl::forward(torch::Tensor image, torch::Tensor f) {
  if (record_) return body_->forward(torch::cat({image, cond_proj_->forward(f.flatten(1))}, 1));
  torch::Tensor c;
  if (flat_) {
    c = cond_proj_->forward(f.flatten(1)).view({f.size(0), cond_, h0_, w0_});
  } else {
    c = cond_proj_->forward(f);
  }
  c = resize_to(c, out_h_, out_w_);
  image = resize_to(image, out_h_, out_w_);
  return body_->forward(torch::cat({image, c}, 1));
}

}  // namespace partplan::attacks
