#pragma once
// Inversion attackers: learn to rebuild the input image from a cut's feature map, the way a
// curious host with same-distribution auxiliary data and black-box access to the front
// would (design.md, threat model). Attackers register by name; `cgan` is the seeds' attack.
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

/// An inversion attacker. Not thread-safe.
class Attacker {
 public:
  virtual ~Attacker() = default;
  virtual std::string name() const = 0;
  /// One optimiser step on a batch. features [B, feature_shape...] float32 (the raw cut
  /// tensor), images [B,C,H,W] float32 in [0,1], both on the attacker's device. Returns the
  /// batch's mean L1 pixel error before the step. Throws DataError on a shape mismatch.
  virtual double step(const at::Tensor& features, const at::Tensor& images) = 0;
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
  std::string device = "cpu";
  uint64_t seed = 0;                   ///< seeds the weights (torch's global generator at construction)
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
