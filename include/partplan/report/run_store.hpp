#pragma once
// Per-cut results kept in a run directory, so that an interrupted or extended assessment
// can resume (--run-dir DIR --resume). Torch-free.

#include <optional>
#include <string>

#include "partplan/pipeline/assess.hpp"

namespace partplan::report {

class RunStore {
 public:
  /// Open `dir` (created if missing). `fingerprint` names the model and every setting that
  /// changes a cut's result. Without `resume`, a directory that already holds a run is
  /// refused (nothing is overwritten); with it, the stored fingerprint must match.
  /// Throws UsageError or IoError naming the directory and what to do.
  RunStore(std::string dir, std::string fingerprint, bool resume);

  /// The stored result of `cut`, when resuming and one exists for the same cut.
  std::optional<pipeline::CutAssessment> load(const model::CutPoint& cut) const;
  /// Store a finished cut (atomic write).
  void save(const pipeline::CutAssessment& cut) const;

 private:
  std::string dir_;
  bool resume_;
};

}  // namespace partplan::report
