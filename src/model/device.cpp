// Device numerics, synchronisation, event timing and the host-sync counter (device.hpp), and
// the device and thread settings (model.hpp: resolve_device, set_threads).
// Everything CUDA-specific is behind PARTPLAN_WITH_CUDA: a CPU build has no c10_cuda to link.
#include "partplan/model/device.hpp"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "partplan/common/error.hpp"
#include "partplan/model/model.hpp"

#if PARTPLAN_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace partplan::model {
namespace {

#if TORCH_VERSION_MAJOR >= 2
namespace warnings = c10::WarningUtils;
#else
namespace warnings = c10::Warning;
#endif

bool is_cuda(const std::string& device) { return device.rfind("cuda", 0) == 0; }

#if PARTPLAN_WITH_CUDA
/// Passes each distinct warning on once. Deterministic algorithms in warn-only mode alert on
/// every call of an operation that has no deterministic CUDA kernel (the backward pass of a
/// bilinear or nearest resize, which the attackers use): once per operation is enough.
class OnceHandler final : public c10::WarningHandler {
 public:
  explicit OnceHandler(c10::WarningHandler* next) : next_(next) {}
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning& w) override {
    if (first(w.msg()) && next_) next_->process(w);
  }
#else
  void process(const c10::SourceLocation& loc, const std::string& msg, const bool verbatim) override {
    if (first(msg) && next_) next_->process(loc, msg, verbatim);
  }
#endif

 private:
  bool first(const std::string& msg) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return seen_.insert(msg).second;
  }
  c10::WarningHandler* next_;
  std::mutex mutex_;
  std::set<std::string> seen_;
};

void warn_once_per_message() {
  static OnceHandler* handler = nullptr;  // process-wide, never freed: torch may warn at exit
  if (handler) return;
  handler = new OnceHandler(warnings::get_warning_handler());
  warnings::set_warning_handler(handler);
}
#endif

}  // namespace

std::string configure_numerics(const std::string& device, bool deterministic) {
  if (!is_cuda(device)) return deterministic ? "cpu: deterministic (CPU kernels are, at a fixed thread count)" : "cpu";
  auto& ctx = at::globalContext();
  if (deterministic) {
    // cuBLAS is deterministic only with a fixed workspace, set before its first handle.
    setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
    ctx.setBenchmarkCuDNN(false);
    ctx.setDeterministicCuDNN(true);
    // Warn-only: the attackers' resizes have no deterministic CUDA backward, and failing on
    // them would make --deterministic unusable; each such operation warns once and stays
    // nondeterministic in the last digits (docs/gpu.md). Bit-exact reruns need the CPU.
    ctx.setDeterministicAlgorithms(true, /*warn_only=*/true);
#if PARTPLAN_WITH_CUDA
    warn_once_per_message();
#endif
    ctx.setAllowTF32CuBLAS(false);
    ctx.setAllowTF32CuDNN(false);
    return device +
           ": deterministic where CUDA has the kernels (cuDNN deterministic, benchmark off, TF32 off; "
           "operations without a deterministic kernel warn once)";
  }
  ctx.setBenchmarkCuDNN(true);
  ctx.setDeterministicCuDNN(false);
  ctx.setAllowTF32CuBLAS(true);
  ctx.setAllowTF32CuDNN(true);
  return device + ": cuDNN benchmark on, TF32 on (results vary between runs in the last digits; --deterministic to fix)";
}

void synchronize(const std::string& device) {
#if PARTPLAN_WITH_CUDA
  if (is_cuda(device)) c10::cuda::device_synchronize();
#else
  (void)device;
#endif
}

// ---- RegionTimer ---------------------------------------------------------------------------

struct RegionTimer::Impl {
  bool cuda = false;
  double done_seconds = 0;
  std::chrono::steady_clock::time_point t0;
#if PARTPLAN_WITH_CUDA
  std::vector<std::pair<at::cuda::CUDAEvent, at::cuda::CUDAEvent>> pending;
#endif
};

RegionTimer::RegionTimer(const std::string& device) : impl_(std::make_unique<Impl>()) { impl_->cuda = is_cuda(device); }
RegionTimer::~RegionTimer() = default;
RegionTimer::RegionTimer(RegionTimer&&) noexcept = default;
RegionTimer& RegionTimer::operator=(RegionTimer&&) noexcept = default;

void RegionTimer::start() {
#if PARTPLAN_WITH_CUDA
  if (impl_->cuda) {
    impl_->pending.emplace_back(at::cuda::CUDAEvent(cudaEventDefault), at::cuda::CUDAEvent(cudaEventDefault));
    impl_->pending.back().first.record();
    return;
  }
#endif
  impl_->t0 = std::chrono::steady_clock::now();
}

void RegionTimer::stop() {
#if PARTPLAN_WITH_CUDA
  if (impl_->cuda) {
    impl_->pending.back().second.record();
    return;
  }
#endif
  impl_->done_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->t0).count();
}

double RegionTimer::seconds() {
#if PARTPLAN_WITH_CUDA
  if (impl_->cuda && !impl_->pending.empty()) {
    impl_->pending.back().second.synchronize();  // events complete in stream order
    for (auto& [a, b] : impl_->pending) impl_->done_seconds += a.elapsed_time(b) / 1e3;
    impl_->pending.clear();
  }
#endif
  return impl_->done_seconds;
}

// ---- AutocastGuard ------------------------------------------------------------------------

AutocastGuard::AutocastGuard(const std::string& device, bool enabled) {
#if PARTPLAN_WITH_CUDA
  if (!enabled || !is_cuda(device)) return;
  active_ = true;
#if TORCH_VERSION_MAJOR >= 2
  previous_ = at::autocast::is_autocast_enabled(at::kCUDA);
  previous_dtype_ = static_cast<int>(at::autocast::get_autocast_dtype(at::kCUDA));
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
  previous_ = at::autocast::is_enabled();
  previous_dtype_ = static_cast<int>(at::autocast::get_autocast_gpu_dtype());
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(true);
#endif
  at::autocast::increment_nesting();
#else
  (void)device;
  (void)enabled;
#endif
}

AutocastGuard::~AutocastGuard() {
#if PARTPLAN_WITH_CUDA
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(at::kCUDA, previous_);
  at::autocast::set_autocast_dtype(at::kCUDA, static_cast<at::ScalarType>(previous_dtype_));
#else
  at::autocast::set_enabled(previous_);
  at::autocast::set_autocast_gpu_dtype(static_cast<at::ScalarType>(previous_dtype_));
#endif
#endif
}

// ---- SyncCounter ---------------------------------------------------------------------------

#if PARTPLAN_WITH_CUDA
namespace {

bool is_sync_warning(const std::string& msg) { return msg.find("synchronizing CUDA operation") != std::string::npos; }

class CountingHandler final : public c10::WarningHandler {
 public:
  explicit CountingHandler(c10::WarningHandler* next) : next_(next) {}
  int64_t count = 0;
  bool paused = false;
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning& w) override {
    if (is_sync_warning(w.msg())) {
      if (!paused) ++count;
      return;
    }
    if (next_) next_->process(w);
  }
#else
  void process(const c10::SourceLocation& loc, const std::string& msg, const bool verbatim) override {
    if (is_sync_warning(msg)) {
      if (!paused) ++count;
      return;
    }
    if (next_) next_->process(loc, msg, verbatim);
  }
#endif

 private:
  c10::WarningHandler* next_;
};

}  // namespace
#endif

struct SyncCounter::Impl {
#if PARTPLAN_WITH_CUDA
  std::unique_ptr<CountingHandler> handler;
  c10::WarningHandler* previous = nullptr;
  c10::cuda::SyncDebugMode previous_mode = c10::cuda::SyncDebugMode::L_DISABLED;
#endif
};

SyncCounter::SyncCounter(const std::string& device) : impl_(std::make_unique<Impl>()) {
#if PARTPLAN_WITH_CUDA
  if (!is_cuda(device)) return;
  impl_->previous = warnings::get_warning_handler();
  impl_->handler = std::make_unique<CountingHandler>(impl_->previous);
  warnings::set_warning_handler(impl_->handler.get());
  impl_->previous_mode = c10::cuda::warning_state().get_sync_debug_mode();
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_WARN);
#else
  (void)device;
#endif
}

SyncCounter::~SyncCounter() {
#if PARTPLAN_WITH_CUDA
  if (!impl_->handler) return;
  c10::cuda::warning_state().set_sync_debug_mode(impl_->previous_mode);
  warnings::set_warning_handler(impl_->previous);
#endif
}

void SyncCounter::pause(bool paused) {
#if PARTPLAN_WITH_CUDA
  if (impl_->handler) impl_->handler->paused = paused;
#else
  (void)paused;
#endif
}

int64_t SyncCounter::count() const {
#if PARTPLAN_WITH_CUDA
  return impl_->handler ? impl_->handler->count : 0;
#else
  return 0;
#endif
}

bool SyncCounter::active() const {
#if PARTPLAN_WITH_CUDA
  return impl_->handler != nullptr;
#else
  return false;
#endif
}

std::string resolve_device(const std::string& requested) {
  static const std::regex re("^(auto|cpu|cuda(:[0-9]+)?)$");
  if (!std::regex_match(requested, re))
    throw UsageError("--device '" + requested + "' is not one of auto, cpu, cuda, cuda:N");
  const bool cuda = torch::cuda::is_available();
  if (requested == "auto") return cuda ? "cuda:0" : "cpu";
  if (requested == "cpu") return "cpu";
  if (!cuda)
    throw UsageError("--device " + requested +
                     ": this partplan's LibTorch has no CUDA or no GPU is visible; use --device cpu "
                     "(or build against a CUDA LibTorch: docs/gpu.md)");
  const std::string dev = requested == "cuda" ? "cuda:0" : requested;
  const long index = std::stol(dev.substr(5));
  if (index >= static_cast<long>(torch::cuda::device_count()))
    throw UsageError(fmt::format("--device {}: only {} GPU(s) visible", requested, torch::cuda::device_count()));
  return dev;
}

int set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  // OpenBLAS is not a link dependency of partplan, only of some LibTorch builds: find its
  // setter among the loaded libraries (pip wheels use MKL, and this does nothing there).
  if (std::getenv("OPENBLAS_NUM_THREADS") != nullptr) return 0;
  using SetThreads = void (*)(int);
  auto* set_blas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set_blas == nullptr) return 0;
  set_blas(1);
  return 1;
}

}  // namespace partplan::model
