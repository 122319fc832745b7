// The c-GAN attacker (pix2pix-style, design.md) and the plain inverse network, which is the
// same generator trained on the L1 loss alone. Features are standardised per channel with
// attacker-train statistics: the host knows its own data, and this keeps one recipe working
// across layers whose activations differ by orders of magnitude.
#include <torch/torch.h>

#include <chrono>
#include <deque>
#include <numeric>

#include "attacks/networks.hpp"
#include "partplan/attacks/attacker.hpp"
#include "partplan/common/error.hpp"
#include "partplan/metrics/ssim.hpp"

namespace partplan::attacks {
namespace {

using Clock = std::chrono::steady_clock;

class GanInverter final : public Attacker {
 public:
  GanInverter(const AttackerSpec& spec, bool adversarial)
      : spec_(spec), adversarial_(adversarial), device_(spec.device) {
    torch::manual_seed(spec.seed);
    gen_ = Generator(spec.feature_shape, spec.image_shape, spec.cgan);
    gen_->to(device_);
    if (adversarial_) {
      disc_ = Discriminator(spec.feature_shape, spec.image_shape, spec.cgan);
      disc_->to(device_);
    }
  }

  std::string name() const override { return adversarial_ ? "cgan" : "inverse"; }

  TrainStats train(const PairSet& tr, const PairSet& val, const TrainBudget& b,
                   const TrainProgressFn& progress) override {
    check(tr, "attacker-train");
    check(val, "attacker-val");
    torch::manual_seed(spec_.seed + 1);
    fit_standardiser(tr.features);
    const auto& o = spec_.cgan;
    torch::optim::Adam opt_g(gen_->parameters(), torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}));
    std::unique_ptr<torch::optim::Adam> opt_d;
    if (adversarial_)
      opt_d = std::make_unique<torch::optim::Adam>(disc_->parameters(),
                                                   torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}));
    const int64_t n = tr.features.size(0);
    const int64_t batch = std::min(b.batch_size, n);
    TrainStats st;
    std::deque<double> recent_l1;
    std::vector<double> first_l1;
    std::vector<std::pair<std::string, torch::Tensor>> best_state;
    int64_t since_best = 0;
    const auto t0 = Clock::now();
    auto last_report = t0;
    torch::Tensor perm = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong).device(device_));
    int64_t cursor = 0;

    for (int64_t step = 1; step <= b.steps; ++step) {
      gen_->train();
      if (cursor + batch > n) {
        perm = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong).device(device_));
        cursor = 0;
      }
      const auto idx = perm.narrow(0, cursor, batch);
      cursor += batch;
      const auto f = standardise(tr.features.index_select(0, idx));
      const auto real = tr.images.index_select(0, idx);
      auto rebuilt = gen_->forward(f);  // the generator's reconstruction (pix2pix's "fake")

      if (adversarial_) {
        disc_->train();
        opt_d->zero_grad();
        auto d_real = disc_->forward(real, f);
        auto d_rebuilt = disc_->forward(rebuilt.detach(), f);
        auto loss_d = 0.5 * (adv_loss(d_real, true) + adv_loss(d_rebuilt, false));
        loss_d.backward();
        opt_d->step();
      }
      opt_g.zero_grad();
      auto l1 = torch::l1_loss(rebuilt, real);
      auto loss_g = adversarial_ ? adv_loss(disc_->forward(rebuilt, f), true) + o.lambda_l1 * l1 : l1;
      loss_g.backward();
      opt_g.step();

      const double l1v = l1.item<double>();
      if (first_l1.size() < 10) first_l1.push_back(l1v);
      recent_l1.push_back(l1v);
      if (recent_l1.size() > 10) recent_l1.pop_front();
      st.steps_run = step;

      const bool check_now = step % b.eval_every == 0 || step == b.steps;
      double val_ssim = st.val_curve.empty() ? -1 : st.val_curve.back().second;
      if (check_now) {
        val_ssim = evaluate(val);
        st.val_curve.emplace_back(step, val_ssim);
        // Keep the best weights on any gain; only a gain of min_delta resets the patience.
        const bool first = st.val_curve.size() == 1;
        const double previous_best = st.best_val_ssim;
        if (first || val_ssim > previous_best) {
          st.best_val_ssim = val_ssim;
          st.best_step = step;
          best_state = snapshot();
        }
        since_best = (first || val_ssim > previous_best + b.min_delta) ? 0 : since_best + 1;
      }
      const auto now = Clock::now();
      const double secs = std::chrono::duration<double>(now - t0).count();
      if (progress && (check_now || std::chrono::duration<double>(now - last_report).count() > 2.0)) {
        last_report = now;
        progress({step, b.steps, step / std::max(secs, 1e-9), val_ssim, mean(recent_l1)});
      }
      if (check_now && b.patience > 0 && since_best >= b.patience) {
        st.early_stopped = step < b.steps;
        break;
      }
    }
    if (!best_state.empty()) restore(best_state);
    st.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    st.first_l1 = mean(first_l1);
    st.last_l1 = mean(recent_l1);
    return st;
  }

  at::Tensor reconstruct(const at::Tensor& features) override {
    torch::NoGradGuard ng;
    gen_->eval();
    std::vector<torch::Tensor> out;
    const int64_t n = features.size(0);
    for (int64_t i = 0; i < n; i += 256) {
      const auto f = features.narrow(0, i, std::min<int64_t>(256, n - i)).to(device_, torch::kFloat);
      out.push_back(gen_->forward(standardise(f)));
    }
    return torch::cat(out, 0);
  }

 private:
  template <typename Container>
  static double mean(const Container& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  }

  void check(const PairSet& p, const char* what) const {
    if (!p.features.defined() || !p.images.defined() || p.features.size(0) == 0 ||
        p.features.size(0) != p.images.size(0))
      throw DataError(std::string("attacker ") + name() + ": the " + what +
                      " set is empty or its features and images differ in count");
  }

  torch::Tensor adv_loss(const torch::Tensor& logits, bool real) const {
    const auto target = real ? torch::ones_like(logits) : torch::zeros_like(logits);
    if (spec_.cgan.adversarial_loss == "lsgan") return torch::mse_loss(logits, target);
    return torch::binary_cross_entropy_with_logits(logits, target);
  }

  void fit_standardiser(const torch::Tensor& f) {
    torch::NoGradGuard ng;
    // Per channel for maps ([N,C,h,w] -> stats over N,h,w), per feature for flat inputs.
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < f.dim(); ++d) dims.push_back(d);
    auto ff = f.to(torch::kFloat);
    mean_ = ff.mean(dims, /*keepdim=*/true);
    std_ = ff.std(dims, /*unbiased=*/false, /*keepdim=*/true).clamp_min(1e-6);
  }

  torch::Tensor standardise(const torch::Tensor& f) const { return (f.to(torch::kFloat) - mean_) / std_; }

  double evaluate(const PairSet& val) {
    auto rec = reconstruct(val.features);
    return metrics::ssim(rec, val.images).mean().item<double>();
  }

  std::vector<std::pair<std::string, torch::Tensor>> snapshot() const {
    std::vector<std::pair<std::string, torch::Tensor>> s;
    for (const auto& p : gen_->named_parameters()) s.emplace_back(p.key(), p.value().detach().clone());
    for (const auto& p : gen_->named_buffers()) s.emplace_back(p.key(), p.value().detach().clone());
    return s;
  }

  void restore(const std::vector<std::pair<std::string, torch::Tensor>>& s) {
    torch::NoGradGuard ng;
    auto params = gen_->named_parameters();
    auto buffers = gen_->named_buffers();
    for (const auto& [k, v] : s) {
      if (auto* p = params.find(k)) p->copy_(v);
      else if (auto* q = buffers.find(k)) q->copy_(v);
    }
  }

  AttackerSpec spec_;
  bool adversarial_;
  torch::Device device_;
  Generator gen_{nullptr};
  Discriminator disc_{nullptr};
  torch::Tensor mean_, std_;
};

}  // namespace

std::unique_ptr<Attacker> make_cgan(const AttackerSpec& spec) { return std::make_unique<GanInverter>(spec, true); }
std::unique_ptr<Attacker> make_inverse(const AttackerSpec& spec) {
  return std::make_unique<GanInverter>(spec, false);
}

}  // namespace partplan::attacks
