#pragma once
// Progress and diagnostics go to stderr; stdout carries only results.

#include <fmt/format.h>

#include <string>

namespace partplan::log {

/// kWarn shows warnings only (the default when stderr is not a terminal); kInfo adds progress.
enum class Level { kQuiet = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

/// Process-wide verbosity, set once by the CLI (-q / -v).
void set_level(Level level);
Level level();

/// Whether stderr is a terminal (progress lines are drawn only there, unless --log).
bool stderr_is_tty();

/// Write one line to stderr when the current level is at least `at`.
void write(Level at, const std::string& line);

template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kInfo) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kDebug) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
/// Warnings are shown unless -q.
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kWarn) write(Level::kWarn, "warning: " + fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace partplan::log
