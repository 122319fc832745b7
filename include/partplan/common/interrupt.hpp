#pragma once
// Ctrl-C and SIGTERM without leftovers: partial outputs (temporary files, staging
// directories) are registered while they exist; an interrupt removes them, prints one line
// and exits 130 (SIGINT) or 143 (SIGTERM). A run killed with SIGKILL cannot clean up: the
// next StagedDir in the same target removes staging directories whose process is gone.

#include <string>
#include <vector>

namespace partplan::common {

/// Handle SIGINT and SIGTERM: the handler wakes a cleanup thread that removes the registered
/// partial outputs, prints one line on stderr and exits 128 + the signal. Call first thing
/// in main(). Idempotent. Without it, the signals keep their default action.
void install_interrupt_cleanup();

/// Register a partial output to delete on interrupt: a file, or a directory removed with its
/// contents (`recursive`) or only when empty. Thread-safe.
void register_partial(const std::string& path, bool recursive);
/// Stop tracking `path` (it was completed, moved or removed). Thread-safe.
void unregister_partial(const std::string& path);
/// What an interrupt does before it prints its line: remove every registered partial output,
/// deepest path first (so a directory partplan created goes after the staging directory in
/// it), stop tracking them all, and return the paths removed, in that order. Thread-safe.
std::vector<std::string> remove_partials();

/// While alive, an interrupt waits: for a sequence of renames that must finish together.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

}  // namespace partplan::common
