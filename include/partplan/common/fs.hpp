#pragma once
// Atomic outputs: a crash or an error never leaves a half-written file or directory.

#include <string>
#include <vector>

namespace partplan::common {

/// Write `content` to `path` atomically and durably: temp file in the same directory, write,
/// fsync and close (each result checked), rename, fsync the directory. Throws IoError naming
/// the path when the directory is missing or not writable or any step fails (a full disk);
/// the temp file is removed then, and on an interrupt (interrupt.hpp).
void write_file_atomic(const std::string& path, const std::string& content);

/// Read a whole file. Throws IoError naming the path.
std::string read_file(const std::string& path);

/// Throws IoError unless `dir` exists (or can be created) and is writable by this process.
void ensure_writable_dir(const std::string& dir);

/// Throws IoError unless `path` could be created later: its nearest existing ancestor is a
/// writable directory (and `path` itself, if it exists, is a directory when `is_dir`). Creates
/// nothing: used to fail fast before a long run.
void check_can_create(const std::string& path, bool is_dir);

/// A staging directory for a multi-file output. Files are written under staging_path(),
/// then commit() moves them into the target directory in the order they were added, so
/// that the file added last (the manifest) appears only when all others are in place.
/// If commit() is never reached, the destructor removes the staging directory and the
/// target is left as it was; so does an interrupt (interrupt.hpp). Staging directories of a
/// process that no longer exists (killed with SIGKILL) are removed by the next StagedDir in
/// the same target.
class StagedDir {
 public:
  /// Creates the target (if missing) and a hidden staging directory inside it.
  /// Throws IoError naming `target_dir` when it cannot be created or written.
  explicit StagedDir(std::string target_dir);
  ~StagedDir();
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;

  /// Path of `file_name` inside the staging directory; records it for commit().
  std::string add(const std::string& file_name);
  /// fsync every added file, move each into the target directory (each rename is atomic; an
  /// interrupt waits for the whole sequence), fsync the target. Throws IoError.
  void commit();
  const std::string& target() const { return target_; }

 private:
  std::string target_;
  std::string staging_;
  std::vector<std::string> created_;  ///< directories this created (absolute), deepest first
  bool committed_ = false;
  std::vector<std::string> files_;
};

}  // namespace partplan::common
