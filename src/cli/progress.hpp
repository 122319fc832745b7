#pragma once
// The progress line of long commands, on stderr: redrawn in place on a terminal, a plain
// line every 15 s otherwise (with --log); silent below log level info.

#include <chrono>
#include <string>
#include <vector>

#include "partplan/pipeline/assess.hpp"

namespace partplan::cli {

class ProgressLine {
 public:
  /// Show `text` now if enough time passed since the last one (or `force`).
  void update(const std::string& text, bool force = false);
  /// End the line (a newline on a terminal, when something was drawn).
  void finish();

 private:
  std::chrono::steady_clock::time_point last_{};
  bool drawn_ = false;
};

/// The whole run's time for the end of a progress line: " | 1m30s elapsed, ETA 12m05s" (the
/// seconds left in the whole assessment), or only the part that is known; "" for neither.
std::string whole_run_time(double elapsed_seconds, double eta_seconds);

/// The per-phase time table that ends an assessment's log (stderr), one line per phase with
/// its seconds and share of `total`, then the total:
///   "time per phase:\n  data        1.2 s   1%\n ... \n  total     120.0 s (2m00s)\n".
/// Empty when `phases` is.
std::string phase_table(const std::vector<pipeline::PhaseTime>& phases, double total);

}  // namespace partplan::cli
