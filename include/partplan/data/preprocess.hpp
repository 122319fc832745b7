#pragma once
// Between pixel space and the model's input space. Attackers reconstruct, and metrics
// compare, in [0,1] pixel space; the model sees pixels mapped to its input range and
// normalised per channel (docs/data.md, "Preprocessing").

#include <ATen/core/Tensor.h>

#include <array>
#include <vector>

#include "partplan/data/dataset.hpp"

namespace partplan::data {

/// torchvision's ImageNet statistics, the default for 3-channel models.
inline constexpr std::array<double, 3> kImageNetMean{0.485, 0.456, 0.406};
inline constexpr std::array<double, 3> kImageNetStd{0.229, 0.224, 0.225};

/// How a [0,1] pixel u becomes a model input value in channel c:
/// v = (pixel_min + u * (pixel_max - pixel_min) - mean[c]) / std[c].
struct Preprocess {
  double pixel_min = 0.0;    ///< model-input value of a black pixel, before normalisation
  double pixel_max = 1.0;    ///< model-input value of a white pixel, before normalisation
  std::vector<double> mean;  ///< per channel, or one value for all; empty = 0
  std::vector<double> std;   ///< per channel, or one value for all; empty = 1

  /// The defaults: ImageNet mean/std on [0,1] for 3 channels, no normalisation otherwise.
  static Preprocess defaults_for_channels(int64_t channels);
  /// Throws UsageError when pixel_max == pixel_min, a std is not positive, a value is not
  /// finite, or mean/std have neither 1 nor `channels` entries.
  void validate(int64_t channels) const;
};

/// The model's input preprocessing: the defaults for its channels (a flat input counts as one)
/// under the data options' overrides. Throws UsageError as Preprocess::validate.
Preprocess preprocess_for(const SampleShape& model_sample, const DataOptions& options);

/// Samples as float32 in [0,1] on the same device: uint8 divided by 255, floating converted.
/// Shape unchanged. Throws std::invalid_argument on other dtypes.
at::Tensor to_unit(const at::Tensor& samples);

/// Pixel space to model input. unit: [N,C,H,W] (or [N,F], channels = 1) float in [0,1], any
/// device. Returns float32 on that device, reshaped to [N, model_sample_shape...] when that is
/// given (its element count must match). Differentiable.
/// Throws UsageError (preprocess invalid for C channels) or DataError (element count mismatch).
at::Tensor to_model_input(const at::Tensor& unit, const Preprocess& preprocess,
                          const SampleShape& model_sample_shape = {});

/// to_model_input with its per-channel constants made once per device and rank, not on
/// every call: the assessment's many forwards share one. Same contract as to_model_input.
/// Not thread-safe.
class ModelInput {
 public:
  ModelInput(Preprocess preprocess, SampleShape model_sample_shape);
  at::Tensor operator()(const at::Tensor& unit) const;

 private:
  struct Constants {
    c10::Device device;
    int64_t dim;
    at::Tensor mean, std;
  };
  at::Tensor apply(const at::Tensor& unit, const at::Tensor& mean, const at::Tensor& std) const;
  Preprocess p_;
  SampleShape shape_;
  mutable int64_t checked_channels_ = -1;
  mutable std::vector<Constants> cache_;
};

/// The inverse of to_model_input: model input [N,...] back to pixel space, reshaped to
/// [N, image_shape...]. Not clipped to [0,1]. Same errors as to_model_input.
at::Tensor from_model_input(const at::Tensor& input, const Preprocess& preprocess, const SampleShape& image_shape);

/// Samples `indices` of `dataset` as float32 in [0,1], [n, sample_shape...] on CPU.
/// Throws std::out_of_range on an index outside the data set.
at::Tensor gather_unit(const Dataset& dataset, const std::vector<int64_t>& indices);

/// Attacker-train augmentation for natural images: per image a random resized crop (60-100%
/// of the area, aspect 3/4 to 4/3, bilinear back to H x W) and a horizontal flip with
/// probability 1/2, drawn from SplitMix64(seed). images [N,C,H,W] float32 in [0,1], any
/// device; returns the same shape, dtype and device, values in [0,1].
at::Tensor augment_crops_flips(const at::Tensor& images, uint64_t seed);

/// The random draws of augment_crops_flips for n images: [n,2,3] float32 affine matrices on
/// the CPU (drawn on the host, so that every device sees the same augmentation).
at::Tensor augment_params(int64_t n, uint64_t seed);
/// Apply augment_params' matrices: images [N,C,H,W] in [0,1] any device, theta [N,2,3] (any
/// device; already on the images' device costs no copy). Throws std::invalid_argument on shapes.
at::Tensor augment_with(const at::Tensor& images, const at::Tensor& theta);

}  // namespace partplan::data
