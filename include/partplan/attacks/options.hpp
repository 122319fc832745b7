#pragma once
// Attacker settings and training statistics: plain structs, torch-free, so that config,
// pipeline results and reports can carry them.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace partplan::attacks {

/// Architecture and optimiser of the c-GAN (design.md, "The c-GAN attacker").
struct CganOptions {
  int64_t width = 256;            ///< channels after the 1x1 projection; halved per upsample block
  int64_t min_width = 32;         ///< floor of the halving
  std::string upsample = "nearest";  ///< "nearest" or "bilinear"
  std::string norm = "batch";     ///< "batch", "instance" or "none"
  int64_t disc_width = 64;        ///< PatchGAN discriminator base width
  int64_t cond_channels = 8;      ///< feature channels the discriminator sees, projected
  std::string adversarial_loss = "bce";  ///< "bce" (non-saturating) or "lsgan"
  double lambda_l1 = 100.0;       ///< weight of the L1 term
  double lr = 2e-4;
  double beta1 = 0.5;
  double beta2 = 0.999;
};

/// How long an attacker trains.
struct TrainBudget {
  int64_t steps = 300;        ///< optimiser steps (one batch each)
  int64_t batch_size = 64;
  int64_t eval_every = 50;    ///< steps between attacker-val SSIM checks
  int64_t patience = 3;       ///< checks without a gain of min_delta before stopping early
  double min_delta = 0.002;   ///< SSIM gain that counts as progress
};

/// What training did.
struct TrainStats {
  int64_t steps_run = 0;
  bool early_stopped = false;
  double best_val_ssim = -1;
  int64_t best_step = 0;
  double seconds = 0;
  double first_l1 = 0;        ///< mean L1 over the first 10 steps
  double last_l1 = 0;         ///< mean L1 over the last 10 steps
  std::vector<std::pair<int64_t, double>> val_curve;  ///< (step, attacker-val SSIM)
};

}  // namespace partplan::attacks
