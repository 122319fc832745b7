#pragma once
// One exception hierarchy for every error a user can act on. Each error carries the exit
// code the CLI returns for it; only main() catches broadly.

#include <stdexcept>
#include <string>

namespace partplan {

/// Process exit codes, documented in docs/cli.md. Stable: CI jobs branch on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,      ///< I/O, model, data or internal failure
  kExitUsage = 2,        ///< bad command line, config value, cut name or input shape, or a model saved by a newer torch
  kExitGate = 3,         ///< a leakage gate failed (assess --fail-above)
  kExitIntegrity = 4,    ///< a file's SHA-256 differs from the one recorded
  kExitVerification = 5  ///< composed parts differ from the original above tolerance
};

/// Base of all partplan errors. what() is one line: what failed, the value, what to do.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = kExitRuntime)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// A command-line or configuration value is invalid (exit 2).
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& m) : Error(m, kExitUsage) {}
};

/// A model file cannot be loaded, or its graph is unsupported (exit 1).
class ModelError : public Error {
 public:
  explicit ModelError(const std::string& m) : Error(m, kExitRuntime) {}
};

/// A model file this build cannot read at all because a newer torch wrote it (an unknown
/// operator, a newer file format); the remedy is another build or a re-export (exit 2).
class UnsupportedModelError : public Error {
 public:
  explicit UnsupportedModelError(const std::string& m) : Error(m, kExitUsage) {}
};

/// A data source cannot be read or is unusable (exit 1).
class DataError : public Error {
 public:
  explicit DataError(const std::string& m) : Error(m, kExitRuntime) {}
};

/// A file or directory cannot be read or written (exit 1).
class IoError : public Error {
 public:
  explicit IoError(const std::string& m) : Error(m, kExitRuntime) {}
};

/// A recorded SHA-256 does not match the file on disk (exit 4).
class IntegrityError : public Error {
 public:
  explicit IntegrityError(const std::string& m) : Error(m, kExitIntegrity) {}
};

/// Composed parts disagree with the original model beyond tolerance (exit 5).
class VerificationError : public Error {
 public:
  explicit VerificationError(const std::string& m) : Error(m, kExitVerification) {}
};

/// First line of a (possibly multi-line) library message, for one-line errors.
std::string first_line(const std::string& text);

}  // namespace partplan
