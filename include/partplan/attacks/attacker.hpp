#pragma once
// Inversion attackers: learn to rebuild the input image from a cut's feature map, the way a
// curious host with same-distribution auxiliary data and black-box access to the front
// would (design.md, threat model). Attackers register by name; `cgan` is the seeds' attack.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "partplan/attacks/options.hpp"

namespace partplan::attacks {

/// (feature, image) pairs, both on the training device.
struct PairSet {
  at::Tensor features;  ///< [N, feature_shape...] float32 (the cut tensor)
  at::Tensor images;    ///< [N, C, H, W] float32 in [0,1] (pixel space)
};

/// Reported while training, after every check and every ~2 s.
struct TrainProgress {
  int64_t step = 0;
  int64_t total_steps = 0;
  double steps_per_second = 0;
  double val_ssim = -1;       ///< latest attacker-val SSIM; -1 before the first check
  double loss_l1 = 0;         ///< running mean L1 of the latest steps
};
using TrainProgressFn = std::function<void(const TrainProgress&)>;

/// An inversion attacker. Not thread-safe.
class Attacker {
 public:
  virtual ~Attacker() = default;
  virtual std::string name() const = 0;
  /// Train on `train`, early-stop on the SSIM of `val` (both on the attacker's device), and
  /// keep the weights of the best check. Throws DataError on shape mismatch or empty sets.
  virtual TrainStats train(const PairSet& train, const PairSet& val, const TrainBudget& budget,
                           const TrainProgressFn& progress) = 0;
  /// features [N, feature_shape...] on the attacker's device -> [N,C,H,W] float32 in [0,1],
  /// same device, no autograd.
  virtual at::Tensor reconstruct(const at::Tensor& features) = 0;
};

/// What an attacker is built for.
struct AttackerSpec {
  std::vector<int64_t> feature_shape;  ///< per sample: {C,h,w} or {F}
  std::vector<int64_t> image_shape;    ///< per sample: {C,H,W}
  std::string device = "cpu";
  uint64_t seed = 0;
  CganOptions cgan;
};

using Factory = std::function<std::unique_ptr<Attacker>(const AttackerSpec&)>;

/// Register `name` (replaces an existing one). The built-ins are "cgan" and "inverse".
void register_attacker(const std::string& name, Factory factory);
/// Build a registered attacker. Throws UsageError naming `name` and listing the valid ones.
std::unique_ptr<Attacker> create_attacker(const std::string& name, const AttackerSpec& spec);
/// Registered names, sorted.
std::vector<std::string> attacker_names();

}  // namespace partplan::attacks
