#pragma once
// Inversion attackers: learn to rebuild the input image from a cut's feature map, the way a
// curious host with same-distribution auxiliary data and black-box access to the front
// would (docs/data.md, "What the attacker is assumed to know"). Attackers register by name; `cgan` is the seeds'
// attack.
//
// An attacker is driven one batch at a time (step), so that the assessment can stream: one
// forward of the frozen model per batch feeds every cut's attacker, and no feature is kept
// per sample. Early stopping is the caller's, through TrainTracker (trainer.hpp);
// train_on_pairs() there drives an attacker over tensors held in memory.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "partplan/attacks/options.hpp"

namespace partplan::attacks {

/// Per-channel statistics of a cut's features, measured on attacker-train: the host knows its
/// own data. Features are standardised with them, so that one recipe works across layers whose
/// activations differ by orders of magnitude. Index i is position i along the sample's first
/// dimension (the channel of a [C,h,w] map, the feature of a flat [F] vector, the token of a
/// [T,D] sequence); the statistics pool every other dimension.
struct FeatureStats {
  std::vector<double> mean;
  std::vector<double> stddev;  ///< population standard deviation, floored at 1e-6 when used
};

/// The linear part of an inverse, fitted in closed form on attacker-train: for a spatial cut
/// [C,h,w] and images [Ci,H,W], a k x k convolution from each position's neighbourhood of
/// standardised features to the s x s block of image pixels it covers (s =
/// linear_inverse_scale, k = linear_inverse_kernel), least squares with a small ridge. Where
/// it explains nearly all of the pixel variance (adoptable(): the early cuts), the learned
/// attackers start from it and keep it (their generator's linear skip), so that there they
/// are never weaker than the best linear decoder, whatever their step budget.
struct LinearInverse {
  at::Tensor weight;  ///< [Ci*s*s, C, k, k] float32, CPU
  at::Tensor bias;    ///< [Ci*s*s] float32, CPU
  /// Share of the pixel variance it explains on the rows it was fitted to, adjusted for the
  /// number of inputs (1 - (1-R^2)(n-1)/(n-p-1)).
  double r2 = 0;
  /// Whether the generator adopts it (CganOptions::linear_min_r2): measured on the example
  /// CNN, adopting it at R^2 0.87 (its third stage) cost 0.02 SSIM against a learned skip,
  /// and gained 0.04 at R^2 1.0 (its first cut).
  bool adoptable(double min_r2) const { return weight.defined() && r2 >= min_r2; }
  bool empty() const { return !weight.defined(); }
};

/// s of the linear inverse and the generator's skip: the image side over the feature side,
/// rounded up to a power of two, at most 16. 0 for features that are not a [C,h,w] map with
/// a side above 2 (flat features, token sequences).
int64_t linear_inverse_scale(const std::vector<int64_t>& feature_shape, const std::vector<int64_t>& image_shape);

/// The layout the attackers' networks give a cut tensor. A token sequence [T, D] whose T is
/// g*g (patch tokens) or g*g + 1 (a class token first, then the patches), with g >= 3, is
/// taken as its patch grid [D, g, g], patches in row-major order; the class token is dropped
/// (it is one of T tokens and the patches carry the image's layout). Any other shape is
/// returned as it is ([C,h,w] maps are spatial, everything else flat).
std::vector<int64_t> attack_feature_shape(const std::vector<int64_t>& feature_shape);
/// features [B, feature_shape...] -> [B, attack_feature_shape...] (a view or a copy).
at::Tensor as_attack_features(const at::Tensor& features, const std::vector<int64_t>& feature_shape);

/// k of the linear inverse: 3 (a position and its 8 neighbours) while C*9 <= 1152, else 1.
int64_t linear_inverse_kernel(const std::vector<int64_t>& feature_shape);

/// An inversion attacker. Not thread-safe.
class Attacker {
 public:
  virtual ~Attacker() = default;
  virtual std::string name() const = 0;
  /// One optimiser step on a batch. features [B, feature_shape...] float32 (the raw cut
  /// tensor), images [B,C,H,W] float32 in [0,1], both on the attacker's device. Returns the
  /// batch's mean L1 pixel error before the step as a 0-dim float32 tensor on that device,
  /// detached; the step itself never waits for the device (reading the loss does). Throws
  /// DataError on a shape mismatch.
  virtual at::Tensor step(const at::Tensor& features, const at::Tensor& images) = 0;
  /// features [N, feature_shape...] (any device) -> [N,C,H,W] float32 in [0,1] on the
  /// attacker's device, no autograd, in eval mode.
  virtual at::Tensor reconstruct(const at::Tensor& features) = 0;
  /// Remember the current weights as the best so far (a copy on the attacker's device).
  virtual void keep_best() = 0;
  /// Go back to the weights of the last keep_best(); no-op when there were none.
  virtual void restore_best() = 0;
};

/// What an attacker is built for.
struct AttackerSpec {
  std::vector<int64_t> feature_shape;  ///< per sample: {C,h,w}, {F} or {T,D}
  std::vector<int64_t> image_shape;    ///< per sample: {C,H,W}
  FeatureStats feature_stats;          ///< empty = no standardisation
  LinearInverse linear_inverse;        ///< empty = the generator's skip starts at zero
  std::string device = "cpu";
  uint64_t seed = 0;  ///< seeds the weights (torch's global generator at construction)
  CganOptions cgan;
};

using Factory = std::function<std::unique_ptr<Attacker>(const AttackerSpec&)>;

/// Register `name` (replaces an existing one). The built-ins are "cgan" and "inverse".
void register_attacker(const std::string& name, Factory factory);
/// Build a registered attacker. Throws UsageError naming `name` and listing the valid ones,
/// DataError when feature_stats do not match feature_shape.
std::unique_ptr<Attacker> create_attacker(const std::string& name, const AttackerSpec& spec);
/// Registered names, sorted.
std::vector<std::string> attacker_names();

}  // namespace partplan::attacks
