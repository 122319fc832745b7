#pragma once
// Adam for the attackers: torch::optim::Adam, or, on CUDA with a LibTorch that has it (2.x),
// ATen's fused multi-tensor kernel (one launch per step for every parameter; the same update
// up to rounding). Internal to attacks/.

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace partplan::attacks {

class Adam {
 public:
  /// `fused` asks for the fused kernel; it is used only when every parameter is on a CUDA
  /// device and this LibTorch has it (fused() says which). eps 1e-8, no weight decay.
  Adam(std::vector<torch::Tensor> params, double lr, double beta1, double beta2, bool fused);
  void zero_grad();
  void step();
  bool fused() const { return fused_; }

 private:
  std::vector<torch::Tensor> params_, exp_avg_, exp_avg_sq_, steps_;
  double lr_, beta1_, beta2_;
  bool fused_ = false;
  std::unique_ptr<torch::optim::Adam> plain_;
};

}  // namespace partplan::attacks
