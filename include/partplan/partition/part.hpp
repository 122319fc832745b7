#pragma once
// One exported part, loaded as a deployment loads it (partplan run's workers). Torch-free
// header apart from ATen's tensor type.

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

namespace partplan::partition {

/// A TorchScript part held in memory, ready to run.
class Part {
 public:
  /// Read `path` once, check the bytes' SHA-256 against `sha256` before torch parses any of
  /// them, and load the part from those bytes: plainly on the CPU (an enclave runtime's load,
  /// no map location), or mapped onto `device` ("cuda:0") for an untrusted part. Throws IoError
  /// (missing or unreadable), IntegrityError (hash mismatch: the file and both hashes),
  /// VerificationError (a CPU load of a part that holds tensors off the CPU) and ModelError.
  static Part load(const std::string& path, const std::string& sha256, const std::string& device = "cpu");

  /// Run the part on float32 [B, input...] (copied to the part's device when elsewhere).
  /// Returns float32 on the CPU, contiguous. Throws ModelError with the part's file and the
  /// library's first line when the forward fails.
  at::Tensor forward(const at::Tensor& input) const;

  const std::string& path() const;

  Part(Part&&) noexcept;
  Part& operator=(Part&&) noexcept;
  ~Part();

 private:
  struct Impl;
  explicit Part(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace partplan::partition
