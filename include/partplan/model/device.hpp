#pragma once
// The compute device as the pipeline sees it: numerics switches, synchronisation, timing that
// does not stall the device, and a count of host synchronisations. CUDA specifics live in
// src/model/device.cpp; on a CPU build every function is a plain CPU version.

#include <cstdint>
#include <memory>
#include <string>

namespace partplan::model {

/// Numerics of a resolved device ("cpu", "cuda:N"), set once per process before any work.
/// On CUDA: deterministic = cuDNN deterministic, cuDNN benchmark off, TF32 off, and
/// LibTorch's deterministic-algorithms mode (an op without a deterministic CUDA kernel then
/// throws, naming itself); otherwise cuDNN benchmark mode and TF32 matmul/conv are on. On the
/// CPU nothing changes (CPU kernels are deterministic for a fixed thread count). Returns one
/// line for the log saying what was set.
std::string configure_numerics(const std::string& device, bool deterministic);

/// Wait for all work queued on `device` (no-op on the CPU).
void synchronize(const std::string& device);

/// Accumulates the device time of many short regions without waiting for the device: on CUDA
/// each region is a pair of CUDA events on the current stream, resolved by seconds(); on the
/// CPU a steady clock. Not thread-safe.
class RegionTimer {
 public:
  explicit RegionTimer(const std::string& device);
  ~RegionTimer();
  RegionTimer(RegionTimer&&) noexcept;
  RegionTimer& operator=(RegionTimer&&) noexcept;
  void start();
  void stop();
  /// Seconds of every start/stop region so far. On CUDA this waits for the last region's end
  /// event (call it where the host waits anyway, e.g. at a check).
  double seconds();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// bf16 autocast on a CUDA device for its lifetime (forward passes only; leave it before the
/// losses that must stay float32). A no-op when `enabled` is false or the device is not CUDA.
class AutocastGuard {
 public:
  AutocastGuard(const std::string& device, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false, previous_ = false;
  int previous_dtype_ = 0;
};

/// Counts the host synchronisations of a CUDA device (item(), a copy to pageable host memory,
/// a stream synchronise, ...) while it lives, through LibTorch's sync-debug mode: each one
/// raises a warning, which this counter takes and does not print. Other warnings pass through.
/// On the CPU, or where LibTorch lacks the mode, count() stays 0 and active() is false.
class SyncCounter {
 public:
  explicit SyncCounter(const std::string& device);
  ~SyncCounter();
  SyncCounter(const SyncCounter&) = delete;
  SyncCounter& operator=(const SyncCounter&) = delete;
  /// Count only while paused is false (a region the caller expects to synchronise, such as a
  /// validation check, is bracketed by pause(true) / pause(false)).
  void pause(bool paused);
  int64_t count() const;
  bool active() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace partplan::model
