#pragma once
// Attacker settings and training statistics: plain structs, torch-free, so that config,
// pipeline results and reports can carry them. Each struct's defaults are the quick preset,
// and its visit() lists every field once: config::SettingsReader/Writer read and write the
// settings tree from that list (docs/config.md documents each key).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace partplan::attacks {

enum class Upsample { kNearest, kBilinear };
enum class Norm { kBatch, kInstance, kNone };
enum class AdversarialLoss { kBce, kLeastSquares };

/// Spellings in settings files (config::SettingsReader looks them up through these).
inline const std::vector<std::pair<Upsample, std::string>>& enum_names(Upsample) {
  static const std::vector<std::pair<Upsample, std::string>> n{{Upsample::kNearest, "nearest"},
                                                               {Upsample::kBilinear, "bilinear"}};
  return n;
}
inline const std::vector<std::pair<Norm, std::string>>& enum_names(Norm) {
  static const std::vector<std::pair<Norm, std::string>> n{
      {Norm::kBatch, "batch"}, {Norm::kInstance, "instance"}, {Norm::kNone, "none"}};
  return n;
}
inline const std::vector<std::pair<AdversarialLoss, std::string>>& enum_names(AdversarialLoss) {
  static const std::vector<std::pair<AdversarialLoss, std::string>> n{{AdversarialLoss::kBce, "bce"},
                                                                      {AdversarialLoss::kLeastSquares, "lsgan"}};
  return n;
}

/// Architecture and optimiser of the c-GAN (docs/attacks.md).
struct CganOptions {
  int64_t width = 128;     ///< channels after the 1x1 projection; halved per upsample block
  int64_t min_width = 32;  ///< floor of the halving
  /// Cap on channels x side: a generator layer of side s has at most channel_budget / s
  /// channels (never below 8). Keeps 224x224 generators affordable; no effect up to side 64
  /// at the default width (4096 / 28 > 128).
  int64_t channel_budget = 4096;
  Upsample upsample = Upsample::kNearest;
  Norm norm = Norm::kBatch;
  int64_t disc_width = 32;  ///< PatchGAN discriminator base width
  /// The discriminator judges images halved until their longer side is at most this (224 ->
  /// 112): the L1 term keeps the full resolution, and the GAN step costs a quarter.
  int64_t disc_max_side = 128;
  int64_t cond_channels = 8;                                 ///< feature channels the discriminator sees, projected
  AdversarialLoss adversarial_loss = AdversarialLoss::kBce;  ///< non-saturating BCE or least squares
  double lambda_l1 = 100.0;                                  ///< weight of the L1 term
  double lr = 1e-3;  ///< Adam; 2e-4 (the recipe's) suits long budgets, 1e-3 short ones
  double beta1 = 0.5;
  double beta2 = 0.999;
  /// The generator adopts a cut's closed-form linear inverse (fixed) from this adjusted R^2
  /// up; below it the linear skip is learned (docs/attacks.md). Above 1: never adopted.
  double linear_min_r2 = 0.95;
  /// Weight of the SSIM term in the reconstruction loss: the generator minimises
  /// L1 + ssim_weight * (1 - SSIM) (times lambda_l1 for the c-GAN), so that it is trained on
  /// the score it is judged by. 0 = L1 alone (docs/attacks.md has the measurement).
  double ssim_weight = 1.0;
  // Speed switches (docs/gpu.md). Each applies on a CUDA device only and is ignored on the CPU.
  /// Networks and their inputs in channels-last layout: the same arithmetic, faster
  /// convolutions on tensor cores.
  bool channels_last = true;
  /// Forward passes under bf16 autocast (losses and SSIM stay float32). Off until measured
  /// not to weaken the attack (docs/benchmarks.md).
  bool bf16 = false;
  /// One fused Adam kernel per optimiser step where the LibTorch has one (2.x: the same update
  /// as torch::optim::Adam up to rounding); LibTorch 1.13 steps its own Adam.
  bool fused_adam = true;
};

template <class V>
void visit(CganOptions& o, V&& v) {
  v("width", o.width, 1, 4096);
  v("min_width", o.min_width, 1, 4096);
  v("channel_budget", o.channel_budget, 64, int64_t{1} << 24);
  v("upsample", o.upsample);
  v("norm", o.norm);
  v("disc_width", o.disc_width, 1, 4096);
  v("disc_max_side", o.disc_max_side, 16, 65536);
  v("cond_channels", o.cond_channels, 1, 1024);
  v("adversarial_loss", o.adversarial_loss);
  v("lambda_l1", o.lambda_l1, 0.0, 1e6);
  v("lr", o.lr, 1e-8, 1.0);
  v("beta1", o.beta1, 0.0, 0.999999);
  v("beta2", o.beta2, 0.0, 0.999999);
  v("linear_min_r2", o.linear_min_r2, 0.0, 2.0);
  v("ssim_weight", o.ssim_weight, 0.0, 1e3);
  v("channels_last", o.channels_last);
  v("bf16", o.bf16);
  v("fused_adam", o.fused_adam);
}

/// The white-box optimisation attacker (He, Zhang and Lee, ACSAC 2019, "rMLE"): per eval
/// image, projected Adam on the pixels x in [0,1] (coarse to fine) minimising
///   ||front(x) - observed||^2 / ||observed||^2 + tv_weight * TV(x)
/// (TV: mean absolute difference of neighbouring pixels), from the mean image and from the
/// strongest learned attacker's reconstruction, keeping per image the start whose objective
/// ends lower (docs/attacks.md).
struct WhiteboxOptions {
  int64_t iterations = 200;  ///< optimiser steps per start
  double lr = 0.05;          ///< Adam step on pixels in [0,1]; decays to a tenth (cosine)
  double tv_weight = 0.002;  ///< weight of the total-variation prior
  /// Eval images it reconstructs and is scored on (the first ones); 0 = by image size (64 up
  /// to 64x64 pixels, 16 at 224x224: pipeline::effective_whitebox_images).
  int64_t images = 0;
  int64_t batch = 0;         ///< images optimised at once; 0 = the assessment's batch size
  /// Beside a learned attacker, skip cuts whose front costs more than this many GFLOPs per
  /// image (0 = never skip): on a CPU a deep 224x224 front takes hours, and there the learned
  /// attackers are the stronger family (docs/attacks.md). Alone, it runs at every cut.
  double max_front_gflops = 1.0;
  /// Beside a learned attacker, the white-box attacker's whole cost: past the first selected
  /// cut, a cut keeps it only while the summed front GFLOPs per image of the selected cuts up to
  /// and including it stay within this (0 = no cap). Each iteration is a forward and a backward
  /// through the front, so this sum is what the white-box phase costs; it keeps the early cuts,
  /// where the white-box attacker is the strongest (ResNet-50: conv1 and relu; EfficientNet-B0:
  /// features.0 to .3), and the first cut is never dropped by it (docs/attacks.md).
  double max_total_gflops = 0.5;
};

template <class V>
void visit(WhiteboxOptions& o, V&& v) {
  v("iterations", o.iterations, 1, 1000000);
  v("lr", o.lr, 1e-6, 10.0);
  v("tv_weight", o.tv_weight, 0.0, 1e3);
  v("images", o.images, 0, 1000000);
  v("batch", o.batch, 0, 65536);
  v("max_front_gflops", o.max_front_gflops, 0.0, 1e9);
  v("max_total_gflops", o.max_total_gflops, 0.0, 1e9);
}

/// How long an attacker trains.
struct TrainBudget {
  int64_t steps = 300;  ///< optimiser steps (one batch each)
  /// Batch size; 0 = by image size: 32 up to 64x64 pixels, 8 at 224x224 (AssessOptions).
  int64_t batch_size = 0;
  int64_t eval_every = 50;   ///< steps between attacker-val SSIM checks
  int64_t patience = 3;      ///< checks without a gain of min_delta before stopping early (0 = never)
  double min_delta = 0.002;  ///< SSIM gain that counts as progress
};

template <class V>
void visit(TrainBudget& o, V&& v) {
  v("steps", o.steps, 1, int64_t{1} << 40);
  v("batch_size", o.batch_size, 0, 65536);
  v("eval_every", o.eval_every, 1, int64_t{1} << 40);
  v("patience", o.patience, 0, 1000000);
  v("min_delta", o.min_delta, 0.0, 1.0);
}

/// What training did.
struct TrainStats {
  int64_t steps_run = 0;
  bool early_stopped = false;
  double best_val = -1;  ///< best attacker-val score (metrics::similarity: SSIM, or record closeness)
  int64_t best_step = 0;
  double seconds = 0;
  double first_l1 = 0;                                ///< mean L1 over the first 10 steps
  double last_l1 = 0;                                 ///< mean L1 over the last 10 steps
  std::vector<std::pair<int64_t, double>> val_curve;  ///< (step, attacker-val SSIM)
  /// Whether attacker-val SSIM was still rising when the budget ran out: not early-stopped,
  /// and the least-squares slope of the last kConvergenceChecks checks exceeds min_delta per
  /// check (one check alone counts as rising: nothing shows it had levelled off).
  bool still_improving = false;
  double val_slope = 0;  ///< that slope, SSIM per check
  /// The time budget (--time-budget) stopped it before budget.steps (or, for the white-box
  /// attacker, before whitebox.iterations) and it had not stopped early: its score is a lower
  /// bound, as when still_improving.
  bool cut_short = false;
};

/// Checks the convergence slope is fitted over.
inline constexpr int kConvergenceChecks = 3;

}  // namespace partplan::attacks
