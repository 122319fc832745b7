#include "src/cli/progress.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "partplan/common/log.hpp"
#include "partplan/common/strings.hpp"

namespace partplan::cli {

void ProgressLine::update(const std::string& text, bool force) {
  if (log::level() < log::Level::kInfo) return;
  const bool tty = log::stderr_is_tty();
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (!force && since < (tty ? 0.25 : 15.0)) return;
  last_ = now;
  if (tty) {
    log::write_raw("\r\033[K" + text);
    drawn_ = true;
  } else {
    log::write_raw(text + "\n");
  }
}

void ProgressLine::finish() {
  if (drawn_) log::write_raw("\n");
  drawn_ = false;
}

std::string whole_run_time(double elapsed, double eta) {
  std::string out;
  if (elapsed >= 0) out = common::format_duration(elapsed) + " elapsed";
  if (eta >= 0) out += (out.empty() ? "" : ", ") + std::string("ETA ") + common::format_duration(eta);
  return out.empty() ? out : " | " + out;
}

std::string phase_table(const std::vector<pipeline::PhaseTime>& phases, double total) {
  if (phases.empty()) return {};
  std::string out = "time per phase:\n";
  for (const auto& p : phases)
    out += fmt::format("  {:<9}{:>9.1f} s {:>3.0f}%\n", pipeline::to_string(p.phase), p.seconds,
                       total > 0 ? 100.0 * p.seconds / total : 0.0);
  out += fmt::format("  {:<9}{:>9.1f} s ({})\n", "total", total, common::format_duration(total));
  return out;
}

}  // namespace partplan::cli
