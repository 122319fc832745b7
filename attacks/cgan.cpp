// The c-GAN attacker (pix2pix-style, docs/attacks.md) and the plain inverse network, which is the
// same generator trained on the L1 loss alone. Features are standardised per channel with
// attacker-train statistics (AttackerSpec::feature_stats). The attacker is stepped one batch
// at a time by its caller; it owns its networks, optimisers and best-weights copy.
#include <torch/torch.h>

#include <fmt/format.h>

#include "attacks/adam.hpp"
#include "attacks/networks.hpp"
#include "partplan/attacks/attacker.hpp"
#include "partplan/common/error.hpp"
#include "partplan/metrics/ssim.hpp"
#include "partplan/model/device.hpp"

namespace partplan::attacks {
namespace {

class GanInverter final : public Attacker {
 public:
  GanInverter(const AttackerSpec& spec, bool adversarial)
      : spec_(spec), adversarial_(adversarial), device_(spec.device) {
    torch::manual_seed(spec.seed);
    const auto shape = attack_feature_shape(spec.feature_shape);
    const auto& o = spec.cgan;
    channels_last_ = device_.is_cuda() && o.channels_last;
    gen_ = Generator(shape, spec.image_shape, spec.cgan,
                     shape == spec.feature_shape ? spec.linear_inverse : LinearInverse{});
    gen_->to(device_);
    if (channels_last_) to_channels_last(*gen_);
    std::vector<torch::Tensor> trainable;
    for (const auto& p : gen_->parameters())
      if (p.requires_grad()) trainable.push_back(p);
    opt_g_ = std::make_unique<Adam>(trainable, o.lr, o.beta1, o.beta2, o.fused_adam);
    if (adversarial_) {
      disc_ = Discriminator(shape, spec.image_shape, spec.cgan);
      disc_->to(device_);
      if (channels_last_) to_channels_last(*disc_);
      opt_d_ = std::make_unique<Adam>(disc_->parameters(), o.lr, o.beta1, o.beta2, o.fused_adam);
    }
    set_standardiser(spec.feature_stats);
  }

  std::string name() const override { return adversarial_ ? "cgan" : "inverse"; }

  at::Tensor step(const at::Tensor& features, const at::Tensor& images) override {
    if (features.size(0) != images.size(0) || features.size(0) == 0)
      throw DataError(fmt::format("attacker {}: a batch of {} feature rows and {} images", name(), features.size(0),
                                  images.size(0)));
    // No host synchronisation in here: the loss is returned as a device tensor, read by the
    // caller at its checks (a device-to-host copy waits for the device).
    torch::AutoGradMode grad(true);
    const auto dev = device_.str();
    gen_->train();
    const auto f = standardise(features);
    const auto real = layout(images);
    at::Tensor rebuilt;
    {
      model::AutocastGuard bf16(dev, spec_.cgan.bf16);
      rebuilt = gen_->forward(f);  // what pix2pix calls the generated image
    }
    rebuilt = rebuilt.to(torch::kFloat);
    if (adversarial_) {
      disc_->train();
      opt_d_->zero_grad();
      at::Tensor d_real, d_rebuilt;
      {
        model::AutocastGuard bf16(dev, spec_.cgan.bf16);
        d_real = disc_->forward(real, f);
        d_rebuilt = disc_->forward(rebuilt.detach(), f);
      }
      auto loss_d = 0.5 * (adv_loss(d_real.to(torch::kFloat), true) + adv_loss(d_rebuilt.to(torch::kFloat), false));
      loss_d.backward();
      opt_d_->step();
    }
    opt_g_->zero_grad();
    auto l1 = torch::l1_loss(rebuilt, real);
    // The reconstruction term: L1, plus the score the attacker is judged by when asked (images;
    // a record's score, re-identification, is not differentiable, and L1 is its closeness).
    auto recon = l1;
    if (spec_.cgan.ssim_weight > 0 && real.dim() == 4)
      recon = l1 + spec_.cgan.ssim_weight * (1 - metrics::ssim(rebuilt, real).mean());
    at::Tensor loss_g = recon;
    if (adversarial_) {
      at::Tensor judged;
      {
        model::AutocastGuard bf16(dev, spec_.cgan.bf16);
        judged = disc_->forward(rebuilt, f);
      }
      loss_g = adv_loss(judged.to(torch::kFloat), true) + spec_.cgan.lambda_l1 * recon;
    }
    loss_g.backward();
    opt_g_->step();
    return l1.detach();
  }

  at::Tensor reconstruct(const at::Tensor& features) override {
    torch::NoGradGuard ng;
    gen_->eval();
    std::vector<torch::Tensor> out;
    const int64_t n = features.size(0);
    for (int64_t i = 0; i < n; i += 256) {
      const auto f = features.narrow(0, i, std::min<int64_t>(256, n - i)).to(device_, torch::kFloat);
      model::AutocastGuard bf16(device_.str(), spec_.cgan.bf16);
      out.push_back(gen_->forward(standardise(f)).to(torch::kFloat).contiguous());
    }
    return out.size() == 1 ? out[0] : torch::cat(out, 0);
  }

  void keep_best() override {
    torch::NoGradGuard ng;
    best_.clear();
    for (const auto& p : gen_->named_parameters()) best_.emplace_back(p.key(), p.value().detach().clone());
    for (const auto& p : gen_->named_buffers()) best_.emplace_back(p.key(), p.value().detach().clone());
  }

  void restore_best() override {
    torch::NoGradGuard ng;
    auto params = gen_->named_parameters();
    auto buffers = gen_->named_buffers();
    for (const auto& [k, v] : best_) {
      if (auto* p = params.find(k))
        p->copy_(v);
      else if (auto* q = buffers.find(k))
        q->copy_(v);
    }
  }

 private:
  torch::Tensor adv_loss(const torch::Tensor& logits, bool real) const {
    const auto target = real ? torch::ones_like(logits) : torch::zeros_like(logits);
    if (spec_.cgan.adversarial_loss == AdversarialLoss::kLeastSquares) return torch::mse_loss(logits, target);
    return torch::binary_cross_entropy_with_logits(logits, target);
  }

  void set_standardiser(const FeatureStats& s) {
    if (s.mean.empty()) return;
    const auto& fs = spec_.feature_shape;
    if (fs.empty() || s.mean.size() != static_cast<size_t>(fs[0]) || s.stddev.size() != s.mean.size())
      throw DataError(fmt::format("attacker {}: feature statistics of {} entries for features of first dimension {}",
                                  name(), s.mean.size(), fs.empty() ? 0 : fs[0]));
    // [1, D1, 1, ...]: broadcast over the batch and every dimension after the first.
    std::vector<int64_t> view{1, fs[0]};
    for (size_t d = 1; d < fs.size(); ++d) view.push_back(1);
    auto opts = torch::TensorOptions().dtype(torch::kDouble);
    mean_ = torch::tensor(s.mean, opts).to(torch::kFloat).view(view).to(device_);
    std_ = torch::tensor(s.stddev, opts).clamp_min(1e-6).to(torch::kFloat).view(view).to(device_);
  }

  // Standardised with the statistics of the cut tensor's own layout, then laid out as the
  // networks take it (a token sequence as its patch grid).
  torch::Tensor standardise(const torch::Tensor& f) const {
    auto x = f.to(device_, torch::kFloat);
    return layout(as_attack_features(mean_.defined() ? (x - mean_) / std_ : x, spec_.feature_shape));
  }

  /// A 4-d tensor in the networks' memory format (channels-last when that switch is on).
  torch::Tensor layout(const torch::Tensor& t) const {
    return channels_last_ && t.dim() == 4 ? t.contiguous(at::MemoryFormat::ChannelsLast) : t;
  }

  static void to_channels_last(torch::nn::Module& m) {
    torch::NoGradGuard ng;
    for (auto& p : m.parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }

  AttackerSpec spec_;
  bool adversarial_;
  torch::Device device_;
  Generator gen_{nullptr};
  Discriminator disc_{nullptr};
  bool channels_last_ = false;
  std::unique_ptr<Adam> opt_g_, opt_d_;
  torch::Tensor mean_, std_;
  std::vector<std::pair<std::string, torch::Tensor>> best_;
};

}  // namespace

std::unique_ptr<Attacker> make_cgan(const AttackerSpec& spec) { return std::make_unique<GanInverter>(spec, true); }
std::unique_ptr<Attacker> make_inverse(const AttackerSpec& spec) { return std::make_unique<GanInverter>(spec, false); }

}  // namespace partplan::attacks
