#pragma once
// Measurements that need no attacker training: the model-as-oracle exposure of a cut, the
// semantic agreement of reconstructions, and the linear probe on a cut's features.

#include <torch/torch.h>

#include <functional>

#include "partplan/data/preprocess.hpp"
#include "partplan/pipeline/assess.hpp"

namespace partplan::pipeline {

using ModelFn = std::function<at::Tensor(const at::Tensor& model_input)>;

/// Per image, KL(p || q) of the softmax distributions of logits [N,K]: [N], at least 0.
at::Tensor kl_per_image(const at::Tensor& logits_p, const at::Tensor& logits_q);

/// Oracle exposure of one cut. features [n,C,h,w] of images [n,Cin,H,W] in [0,1]; logits
/// the model's output on those images. Flat features give available = false.
OracleScore oracle_exposure(const at::Tensor& features, const at::Tensor& images, const at::Tensor& logits,
                            const ModelFn& model, const data::Preprocess& pre, const common::Shape& model_sample,
                            int64_t max_channels);

/// Top-1 accuracy on eval of a linear (softmax) probe trained on attacker-train features to
/// predict `train_labels` (the model's own predictions). Deterministic for a seed.
double linear_probe_accuracy(const at::Tensor& train_features, const at::Tensor& train_labels,
                             const at::Tensor& eval_features, const at::Tensor& eval_labels, int64_t classes,
                             uint64_t seed);

}  // namespace partplan::pipeline
