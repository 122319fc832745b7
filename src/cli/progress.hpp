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

/// "1h02m", "3m05s", "42s".
std::string format_duration(double seconds);

/// The per-phase time table that ends an assessment's log (stderr), one line per phase with
/// its seconds and share of `total`, then the total:
///   "time per phase:\n  data        1.2 s   1%\n ... \n  total     120.0 s (2m00s)\n".
/// Empty when `phases` is.
std::string phase_table(const std::vector<pipeline::PhaseTime>& phases, double total);

}  // namespace partplan::cli
