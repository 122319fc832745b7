#pragma once
// Progress and diagnostics go to stderr; stdout carries only results.

#include <fmt/format.h>

#include <functional>
#include <string>

namespace partplan::log {

/// kWarn shows warnings only (the default when stderr is not a terminal); kInfo adds progress.
enum class Level { kQuiet = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

/// Process-wide verbosity, set once by the CLI (-q / -v).
void set_level(Level level);
Level level();

/// Whether stderr is a terminal and no sink is installed (progress lines are drawn only
/// there, unless --log).
bool stderr_is_tty();

/// Write one line to stderr when the current level is at least `at`.
void write(Level at, const std::string& line);

/// Write `text` to stderr as it is (the progress line draws itself with \r): under the lock
/// that write() and capture_stderr() take.
void write_raw(const std::string& text);

/// Where lines go instead of stderr: `line` is a whole line without its newline (raw = false)
/// or write_raw()'s text as it is (raw = true). Called under the log's lock, one call at a time.
using Sink = std::function<void(Level at, const std::string& text, bool raw)>;

/// Installs `sink` for its lifetime (process-wide; the one before comes back after). A front
/// end that is not a terminal program (a test, a service) takes partplan's diagnostics here;
/// stderr_is_tty() is false while a sink is installed.
class ScopedSink {
 public:
  explicit ScopedSink(Sink sink);
  ~ScopedSink();
  ScopedSink(const ScopedSink&) = delete;
  ScopedSink& operator=(const ScopedSink&) = delete;

 private:
  Sink previous_;
};

/// Runs `fn` with the process's stderr (file descriptor 2) sent to a temporary file and
/// returns what was written there while it ran: for a library that prints its own
/// diagnostics (libpng, through OpenCV's decoders). partplan's own lines from other threads
/// wait for it under a shared lock, so none of them is lost. Rethrows what `fn` throws, after
/// stderr is restored. If the redirection cannot be set up, `fn` runs with stderr as it is.
std::string capture_stderr(const std::function<void()>& fn);

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
