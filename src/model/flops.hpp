#pragma once
// Per-node cost model used for the front-part FLOPs and parameter bytes of each cut.

#include <torch/script.h>

#include <unordered_map>
#include <unordered_set>

namespace partplan::model {

struct NodeCost {
  double flops = 0;         ///< per sample
  double flops_approx = 0;  ///< the part of `flops` that is estimated
  int64_t param_bytes = 0;  ///< bytes of tensor constants first used by this node
};

/// Cost of one top-level node. Convolutions, linear layers and matrix products are counted
/// exactly (2 FLOPs per multiply-add); other tensor ops are estimated at one FLOP per output
/// element (two for normalisation); views, shape and list ops cost nothing. `activations`
/// maps top-level values to their probe tensors (batch `batch`). Weights already in
/// `seen_params` are not counted again.
NodeCost node_cost(const torch::jit::Node* node,
                   const std::unordered_map<const torch::jit::Value*, at::Tensor>& activations, int64_t batch,
                   std::unordered_set<const torch::jit::Value*>& seen_params);

}  // namespace partplan::model
