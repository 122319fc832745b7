#pragma once
// Wall seconds per assessment phase, exclusive: a phase entered inside another (scoring
// inside the training loop, the white-box attacker inside scoring) stops the outer phase's
// clock until it ends. Torch-free; not thread-safe (one per assessment, on its thread).

#include <array>
#include <chrono>
#include <functional>
#include <vector>

#include "partplan/pipeline/assess.hpp"
#include "partplan/pipeline/time_plan.hpp"

namespace partplan::pipeline {

class PhaseClock {
 public:
  /// `now`: seconds on a monotonic clock (tests pass a fake one); default steady_clock.
  explicit PhaseClock(std::function<double()> now = steady_seconds) : now_(std::move(now)) {}

  /// While the scope lives, time is charged to `phase`; when it ends, to the phase that was
  /// running before it (if any). A scope of no clock (nullptr) does nothing.
  class Scope {
   public:
    Scope(PhaseClock* clock, Phase phase) : clock_(clock), outer_(clock ? clock->current_ : -1) {
      if (clock_) clock_->switch_to(phase);
    }
    ~Scope() {
      if (clock_) clock_->switch_to(outer_);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PhaseClock* clock_;
    int outer_;  ///< the phase before, or -1 for none
  };
  Scope enter(Phase phase) { return Scope(this, phase); }

  /// Every phase's seconds so far, the running one's up to now (zeros for those not entered).
  PhaseSeconds live() const {
    PhaseSeconds out = seconds_;
    if (current_ >= 0) out[static_cast<size_t>(current_)] += now_() - since_;
    return out;
  }

  /// The phases entered so far with their seconds, in Phase order.
  std::vector<PhaseTime> totals() const {
    std::vector<PhaseTime> out;
    for (int i = 0; i < kPhaseCount; ++i)
      if (entered_[static_cast<size_t>(i)]) out.push_back({static_cast<Phase>(i), seconds_[static_cast<size_t>(i)]});
    return out;
  }

 private:
  static double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void switch_to(Phase phase) { switch_to(static_cast<int>(phase)); }
  void switch_to(int phase) {
    const double t = now_();
    if (current_ >= 0) seconds_[static_cast<size_t>(current_)] += t - since_;
    current_ = phase;
    since_ = t;
    if (phase >= 0) entered_[static_cast<size_t>(phase)] = true;
  }

  std::function<double()> now_;
  std::array<double, kPhaseCount> seconds_{};
  std::array<bool, kPhaseCount> entered_{};
  int current_ = -1;
  double since_ = 0;
};

}  // namespace partplan::pipeline
