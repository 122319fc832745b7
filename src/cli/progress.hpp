#pragma once
// The progress line of long commands, on stderr: redrawn in place on a terminal, a plain
// line every 15 s otherwise (with --log); silent below log level info.

#include <chrono>
#include <string>

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

}  // namespace partplan::cli
