#pragma once
// Load a TorchScript model, freeze and inline it, and find its cut points.
// This header is torch-free; the JIT internals live in src/model and src/partition.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "partplan/common/shape.hpp"

namespace partplan::model {

/// A position in the frozen, inlined forward graph where exactly one tensor is live.
struct CutPoint {
  int id = 0;                               ///< 0-based, in depth (topological) order
  std::string name;                         ///< unique: exited module for block cuts ("layer3.0"), else "scope:op"
  std::string scope;                        ///< module scope of the producing node ("" at the root)
  std::string op;                           ///< producing op kind, e.g. "aten::conv2d"
  common::Shape shape;                      ///< cut tensor shape at the probe input shape (dim 0 = batch)
  std::string dtype;                        ///< "float32", ...
  int64_t activation_bytes = 0;             ///< cut tensor bytes per sample (crosses the enclave boundary)
  double front_flops = 0;                   ///< FLOPs per sample of the front part up to and including this cut
  double front_flops_approx = 0;            ///< the share of front_flops that is estimated (not conv/linear/matmul)
  int64_t front_param_bytes = 0;            ///< bytes of weights the front part holds
  int64_t front_peak_activation_bytes = 0;  ///< largest single activation per sample in the front
  bool is_block = false;                    ///< at the boundary of a named child module (see block_depth)
  std::vector<std::string> exits;  ///< modules whose output this is, outermost first ("layer1", "layer1.2", ...)
  int position = 0;                ///< index of the producing top-level node (after constants)
};

/// How a model is loaded and analysed.
struct LoadOptions {
  std::optional<common::Shape> input_shape;  ///< overrides the archive's / inferred shape
  bool optimize_numerics = false;            ///< conv-BN folding etc.; breaks bit-exactness
  int block_depth = 2;                       ///< module depth whose boundaries are block cuts
  std::string device = "cpu";                ///< where weights live after freezing ("cpu", "cuda:0")
};

/// What `inspect` reports about a model.
struct ModelSummary {
  std::string path;
  std::string sha256;
  common::Shape input_shape;
  std::string input_shape_source;  ///< "flag", "archive" (partplan.json extra file) or "inferred"
  common::Shape output_shape;
  /// The record length a model over CSV records was trained on ({"record_features": F} in the
  /// archive's partplan.json); unset when the archive does not say. A grid input (1xHxW) may
  /// hold fewer than H*W features, so only this tells a short record from a padded one.
  std::optional<int64_t> record_features;
  int64_t output_bytes = 0;  ///< model output bytes per sample, at its dtype (the cost model's back transfer)
  int node_count = 0;        ///< top-level non-constant nodes of the frozen graph
  double total_flops = 0;    ///< per sample
  double total_flops_approx = 0;
  int64_t total_param_bytes = 0;
  std::vector<CutPoint> cuts;  ///< every cut, deduplicated by tensor, in depth order
  /// The last cut before the final weight layer (conv/linear/matmul): the input of the
  /// classifier head, the default back cut of a ternary split. Unset when no cut precedes it.
  std::optional<int> classifier_input_cut;
};

/// A loaded, frozen, analysed model. Cheap to copy (shared state).
class Model {
 public:
  /// Load `path` and analyse it. Throws IoError (missing file), ModelError (not TorchScript,
  /// corrupt, unsupported signature) or UsageError (input shape the model rejects, or no shape
  /// known: the message asks for --input-shape).
  static Model load(const std::string& path, const LoadOptions& options = {});

  const ModelSummary& summary() const;
  const LoadOptions& options() const;

  /// This model with its weights on the CPU: itself when it was loaded there, else the same
  /// file loaded again with the same options but device "cpu" (once; later calls return the
  /// same copy). What leaves partplan for an enclave (exported parts, enclave timings) comes
  /// from this copy, so that no CUDA tensor is baked into it. Throws IntegrityError when the
  /// file changed since it was loaded (SHA-256), ModelError when the copy's cuts differ, and
  /// what load() throws.
  Model on_cpu() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

/// Most cuts the "stages" selection returns.
inline constexpr size_t kMaxStageCuts = 12;

/// Select candidate cuts, in depth order:
/// - "stages" (the assessment's default): of the block cuts (all cuts when none is a block),
///   the first, the last of each run of equal spatial size (a stage's output: VGG's blocks
///   before each pooling, ResNet's stem and layerN outputs, EfficientNet's stages; flat and
///   1x1/2x2 maps count as one run), and the classifier input; above kMaxStageCuts, thinned to
///   the first, the last and those nearest to even steps of front FLOPs;
/// - "blocks" (block cuts only), "all", or a comma list of ids/names.
/// Throws UsageError naming an unknown token and listing valid names.
std::vector<CutPoint> select_cuts(const ModelSummary& summary, const std::string& spec);

/// Resolve one cut by id ("7"), name ("layer3.0"), a module it exits ("layer1.2") or a
/// unique scope. Throws UsageError listing valid names.
const CutPoint& find_cut(const ModelSummary& summary, const std::string& token);

/// LibTorch version string the binary runs with, e.g. "1.13.0".
std::string torch_version();

/// Launch partplan's own probe kernel (src/model/cuda_probe.cu) on GPU `device` and read its
/// answer back: "" when it ran, else the reason in words (no GPU, no kernel image for this GPU,
/// or "not a CUDA build" in a CPU build). Never throws.
std::string cuda_kernel_probe(int device);

/// Set LibTorch's intra-op thread count (0 = all hardware threads). Where LibTorch calls an
/// OpenBLAS (Debian's LibTorch does), OpenBLAS is set to one thread of its own unless
/// OPENBLAS_NUM_THREADS says otherwise: LibTorch already parallelises around its BLAS calls,
/// and OpenBLAS threads inside those regions oversubscribe the cores (measured in
/// docs/benchmarks.md, "CPU threads": 2.6x slower on the record model, 1.6x on the
/// Fashion-MNIST CNN, on 2 cores). Returns the OpenBLAS thread count set, or 0 where none was.
int set_threads(int threads);

/// Resolve "auto" | "cpu" | "cuda" | "cuda:N" to a concrete device string ("auto" picks
/// cuda:0 when this LibTorch has CUDA and a GPU is visible). Throws UsageError naming the
/// value when it is malformed or CUDA is asked for but unavailable.
std::string resolve_device(const std::string& requested);

}  // namespace partplan::model
