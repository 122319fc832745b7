#pragma once
// Generator and conditional PatchGAN discriminator of the c-GAN attacker.

#include <torch/torch.h>

#include "partplan/attacks/attacker.hpp"

namespace partplan::attacks {

/// Feature map [N, feature_shape...] -> image [N,C,H,W] in [0,1], or, for a record target
/// (image_shape {F}), -> record [N,F] in [0,1] through an MLP over the flattened features
/// (two hidden layers of 4 x width, CganOptions::norm as BatchNorm1d, plus a linear skip that
/// starts at zero), whatever the cut's layout. Spatial features go
/// through a 1x1 projection; flat ones (or maps of side <= 2) through a linear layer that
/// reshapes them to width x h0 x w0. Then [upsample x2, 3x3 conv, norm, ReLU] blocks up to
/// the image size (a final resize covers sizes that are not powers of two), a 3x3 conv to C
/// and a sigmoid. Layer widths respect CganOptions::channel_budget. Upsample + conv, not
/// ConvTranspose2d: LibTorch's CPU transposed conv is ~5x slower.
/// Spatial features also feed a linear skip (a k x k conv to C*s*s channels,
/// linear_inverse_kernel, and a pixel shuffle by s, linear_inverse_scale) whose output joins
/// the logits before the sigmoid. Given an adoptable closed-form LinearInverse, the skip is set to it and
/// fixed, its pixel values enter as logits (clamped to [1e-3, 1-1e-3]) and the output conv
/// starts at zero: the generator starts as that linear decoder and learns the residual.
/// Without one the skip starts at zero and is trained. An early cut of a convolutional model
/// is close to a linear function of each pixel's neighbourhood, so the skip carries most of
/// its inverse.
class GeneratorImpl : public torch::nn::Module {
 public:
  GeneratorImpl(const std::vector<int64_t>& feature_shape, const std::vector<int64_t>& image_shape,
                const CganOptions& o, const LinearInverse& linear = {});
  torch::Tensor forward(torch::Tensor f);

 private:
  bool record_ = false;  ///< record target: mlp_ and linear_ only
  torch::nn::Sequential mlp_{nullptr};
  torch::nn::Linear linear_{nullptr};
  bool flat_ = false;
  int64_t h0_ = 0, w0_ = 0, width0_ = 0, out_h_ = 0, out_w_ = 0;
  Upsample upsample_ = Upsample::kNearest;
  torch::nn::Sequential head_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::Conv2d out_{nullptr};
  torch::nn::Conv2d skip_{nullptr};  ///< linear skip; null for flat features
  int64_t skip_scale_ = 0;
  bool skip_fixed_ = false;  ///< set from a LinearInverse: predicts pixels, not trained
};
TORCH_MODULE(Generator);

/// Conditional PatchGAN: sees the image concatenated with the features projected to
/// cond_channels and resized to the image size; outputs a map of patch logits. Images larger
/// than CganOptions::disc_max_side are judged at half size (repeatedly), bilinear. For a
/// record target (image_shape {F}): an MLP over the record and the features projected to
/// 8 x cond_channels, one logit per record.
class DiscriminatorImpl : public torch::nn::Module {
 public:
  DiscriminatorImpl(const std::vector<int64_t>& feature_shape, const std::vector<int64_t>& image_shape,
                    const CganOptions& o);
  torch::Tensor forward(torch::Tensor image, torch::Tensor f);

 private:
  bool record_ = false;
  bool flat_ = false;
  int64_t h0_ = 0, w0_ = 0, cond_ = 0, out_h_ = 0, out_w_ = 0;
  torch::nn::Sequential cond_proj_{nullptr};
  torch::nn::Sequential body_{nullptr};
};
TORCH_MODULE(Discriminator);

}  // namespace partplan::attacks
