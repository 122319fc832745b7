#pragma once
// What every assessment phase reads, and the small helpers they share. Internal to
// src/pipeline (it includes torch). The phases themselves are declared in phases.hpp.

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "partplan/data/preprocess.hpp"
#include "partplan/pipeline/assess.hpp"
#include "partplan/pipeline/time_plan.hpp"
#include "src/pipeline/phase_clock.hpp"

namespace partplan::pipeline::phases {

using Clock = std::chrono::steady_clock;

/// Bytes of cut tensors one inference batch may hold (stats, reference and score passes).
inline constexpr double kPassBytes = 512.0 * 1048576.0;

/// The run's time model: the ETA, and under --time-budget the limits it fitted (time_plan.hpp).
struct RunTime {
  EtaModel eta;
  std::optional<double> budget_seconds;  ///< --time-budget
  int64_t step_limit = 0;                ///< training steps per cut: budget.steps unless the budget reduced them
  int64_t whitebox_iterations_requested = 0;
  std::optional<TimeBudgetReport> report;  ///< what the budget did
  std::function<double()> elapsed;         ///< seconds since the assessment began
};

/// The read-only context of one assessment: the model (loaded on `device`), the effective
/// options, where progress goes, and how a sample in [0,1] becomes the model's input.
struct Context {
  const model::Model& model;
  const AssessOptions& options;
  const ProgressFn& progress;
  torch::Device device;
  common::Shape model_sample;  ///< the model's input per sample: [C,H,W], or flat for records
  data::Preprocess pre;        ///< pixel range and normalisation, validated
  data::ModelInput model_input;
  PhaseClock* clock = nullptr;  ///< where each phase's seconds go; nullptr: not timed
  RunTime* run_time = nullptr;  ///< the ETA and the time budget; nullptr: none

  /// Charges the time until the scope ends to `phase` (PhaseClock).
  PhaseClock::Scope time(Phase phase) const { return PhaseClock::Scope(clock, phase); }
  /// Hands `p` on with the whole run's ETA and elapsed seconds filled in.
  void report(Progress p) const {
    if (!progress) return;
    if (run_time && clock) p.eta_seconds = run_time->eta.eta(clock->live());
    if (run_time && run_time->elapsed) p.elapsed_seconds = run_time->elapsed();
    progress(p);
  }
  /// Item `item` of phase p (a cut, or 0) is `fraction` done, for the ETA.
  void advance(Phase p, size_t item, double fraction) const {
    if (run_time) run_time->eta.progress(p, item, fraction);
  }
  /// A host tensor on the device; to a GPU through pinned memory, without waiting.
  at::Tensor to_device(const at::Tensor& host) const {
    return device.is_cuda() ? host.pin_memory().to(device, /*non_blocking=*/true) : host;
  }
};

/// The context of `model` under `options` (device resolved). Throws UsageError for an
/// unresolved device, a non-image model without CSV data, or preprocessing that does not
/// fit the model's channels.
Context make_context(const model::Model& model, const AssessOptions& options, const ProgressFn& progress,
                     PhaseClock* clock = nullptr);

/// Calls fn(first, indices) for consecutive batches of `idx`.
template <class Fn>
void for_batches(const std::vector<int64_t>& idx, int64_t batch, Fn&& fn) {
  for (size_t i = 0; i < idx.size(); i += static_cast<size_t>(batch)) {
    std::vector<int64_t> b(idx.begin() + static_cast<long>(i),
                           idx.begin() + static_cast<long>(std::min(idx.size(), i + static_cast<size_t>(batch))));
    fn(static_cast<int64_t>(i), b);
  }
}

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// The cut ids of `cuts`, in their order.
std::vector<int> ids_of(const std::vector<model::CutPoint>& cuts);

/// A tensor's values as doubles, on the host (one device-to-host copy).
std::vector<double> to_vector(const at::Tensor& t);

/// Images [n,C,H,W] in [0,1] (any device) as 8-bit pixels; empty for an undefined tensor.
common::Image8 to_image8(const at::Tensor& images);

}  // namespace partplan::pipeline::phases
