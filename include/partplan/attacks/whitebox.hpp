#pragma once
// The white-box optimisation attacker (He, Zhang and Lee, ACSAC 2019): when the front's
// weights are public, the host can search for an image whose features match the ones it
// observes. No training: one optimisation per image, batched, on the front's device.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "partplan/attacks/options.hpp"

namespace partplan::attacks {

/// The front of the split as a differentiable function: images [N,C,H,W] float32 in [0,1] on
/// the front's device -> the cut tensor [N, ...] with autograd through it (the caller applies
/// the model's input preprocessing inside).
using FrontFn = std::function<at::Tensor(const at::Tensor& images)>;

struct WhiteboxResult {
  at::Tensor images;     ///< [N,C,H,W] (or records [N,F]) float32 in [0,1], on the observed tensor's device
  at::Tensor objective;  ///< [N] float32: the final objective of each image (lower = better fit)
};

/// The coarse optimisation stages stop at this side (28: a Fashion-MNIST image is optimised
/// at full resolution only).
inline constexpr int64_t kMinCoarseSide = 28;
/// The first stage's downscale for an image side: the largest of 1, 2, 4, 8 that keeps the
/// coarse side >= kMinCoarseSide (224 -> 8, 64 -> 2, 28 -> 1).
int64_t coarsest_scale(int64_t side);

/// Optimise each image from `start` so that front(x) matches `observed` (see WhiteboxOptions
/// for the objective and the optimiser), coarse to fine: the
/// iterations are shared by stages at 1/s of the side (s from coarsest_scale down to 1,
/// bilinearly upsampled), and the stage end with the lowest objective is kept per image. observed [N, ...] float32 and
/// start [N,C,H,W] in [0,1] on one device. Images are independent: the result of one does not depend on the others in
/// its batch. A record start [N,F] (values in [0,1]) is optimised in one stage with no total-variation term. Throws
/// DataError on a count mismatch or an empty batch.
WhiteboxResult whitebox_invert(const FrontFn& front, const at::Tensor& observed, const at::Tensor& start,
                               const WhiteboxOptions& options);

/// Per image, the candidate with the lowest objective: what a host that cannot see the
/// original would keep. All candidates have the same N. Throws DataError on an empty list.
WhiteboxResult keep_best_fit(const std::vector<WhiteboxResult>& candidates);

}  // namespace partplan::attacks
