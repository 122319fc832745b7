// Adam (adam.hpp). The fused path follows PyTorch's own use of aten::_fused_adam_: step
// counts are float tensors on the device, incremented before the kernel reads them.
#include "attacks/adam.hpp"

#include <torch/version.h>

#include <algorithm>

namespace partplan::attacks {

Adam::Adam(std::vector<torch::Tensor> params, double lr, double beta1, double beta2, bool fused)
    : params_(std::move(params)), lr_(lr), beta1_(beta1), beta2_(beta2) {
#if TORCH_VERSION_MAJOR >= 2
  fused_ = fused && !params_.empty() &&
           std::all_of(params_.begin(), params_.end(), [](const torch::Tensor& p) { return p.is_cuda(); });
#else
  (void)fused;
#endif
  if (!fused_) {
    plain_ = std::make_unique<torch::optim::Adam>(params_, torch::optim::AdamOptions(lr).betas({beta1, beta2}));
    return;
  }
  torch::NoGradGuard ng;
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
    steps_.push_back(torch::zeros({}, p.options().dtype(torch::kFloat)));
  }
}

void Adam::zero_grad() {
  if (plain_) {
    plain_->zero_grad();
    return;
  }
  for (auto& p : params_)
    if (p.mutable_grad().defined()) p.mutable_grad() = torch::Tensor();
}

void Adam::step() {
  if (plain_) {
    plain_->step();
    return;
  }
#if TORCH_VERSION_MAJOR >= 2
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> p, g, m, v, s;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& grad = params_[i].grad();
    if (!grad.defined()) continue;  // as torch::optim::Adam: a parameter without a gradient is left alone
    p.push_back(params_[i]);
    g.push_back(grad);
    m.push_back(exp_avg_[i]);
    v.push_back(exp_avg_sq_[i]);
    s.push_back(steps_[i]);
  }
  if (p.empty()) return;
  at::_foreach_add_(s, 1.0);
  at::_fused_adam_(p, g, m, v, /*max_exp_avg_sqs=*/{}, s, lr_, beta1_, beta2_, /*weight_decay=*/0.0, /*eps=*/1e-8,
                   /*amsgrad=*/false, /*maximize=*/false);
#endif
}

}  // namespace partplan::attacks
