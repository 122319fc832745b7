#pragma once
// One forward, every selected cut: the feature extractor the attackers train on.

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "partplan/model/model.hpp"

namespace partplan::partition {

/// Runs the frozen model's nodes up to the deepest selected cut once and returns every
/// selected cut tensor. The model is never run once per cut.
class FeatureExtractor {
 public:
  /// `cut_ids` index model.summary().cuts (any order; duplicates removed). Runs on the
  /// model's device (model::LoadOptions::device). Throws UsageError on an empty or bad list.
  /// With include_output the forward runs to the end and the model's output is appended
  /// after the cut tensors (one forward gives features and predictions).
  FeatureExtractor(const model::Model& model, std::vector<int> cut_ids, bool include_output = false);

  /// x: model input [N, input_shape[1:]...], float32, on the model's device.
  /// Returns one tensor per cut, in the order of cut_ids(), each [N, ...] on the same device,
  /// computed without autograd and copied out of the forward (later in-place ops of the
  /// model cannot change them). Throws ModelError when the forward fails.
  std::vector<at::Tensor> operator()(const at::Tensor& x) const;

  /// As operator(), with autograd through the forward (the white-box attacker's gradient with
  /// respect to x); the model's weights are not updated.
  std::vector<at::Tensor> differentiable(const at::Tensor& x) const;

  /// The cut ids, ascending.
  const std::vector<int>& cut_ids() const { return ids_; }

 private:
  struct Impl;
  std::vector<at::Tensor> run(const at::Tensor& x) const;
  std::shared_ptr<Impl> impl_;
  std::vector<int> ids_;
};

/// The whole frozen model as one callable (same device as the model).
class ModelRunner {
 public:
  explicit ModelRunner(const model::Model& model);
  /// x: model input [N, ...] on the model's device -> the model's output, no autograd.
  at::Tensor operator()(const at::Tensor& x) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Measured time of each part of a split, median of `repeats` runs at batch 1 after four
/// warm-up runs, on `device` (a steady clock on the CPU; CUDA events on a GPU, so the time is
/// the device's, not the launch's). `model` must be loaded on `device`. `cut_ids`: 0 cuts (the
/// whole model), 1 (front, back) or 2 (front, middle, back). Throws UsageError on a bad cut
/// list.
std::vector<double> time_parts(const model::Model& model, const std::vector<int>& cut_ids, const std::string& device,
                               int repeats = 9);

}  // namespace partplan::partition
