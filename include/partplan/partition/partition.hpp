#pragma once
// Export a model's parts at chosen cuts, and verify exported parts. Torch-free header.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "partplan/common/fs.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/model/model.hpp"

namespace partplan::partition {

/// Version of the partition.json sidecar (docs/partition-json.md).
inline constexpr int kPartitionSchemaVersion = 1;

/// One exported TorchScript part.
struct PartRecord {
  std::string name;  ///< "front", "middle" or "back"
  std::string role;  ///< "enclave" or "untrusted"
  std::string file;  ///< relative to the sidecar's directory
  std::string sha256;
  int64_t bytes = 0;
  common::Shape input_shape;  ///< dim 0 is the batch; any batch size is accepted
  common::Shape output_shape;
};

/// A cut the split was made at.
struct CutRecord {
  int id = 0;
  std::string name;
  std::string scope;
  std::string op;
  common::Shape shape;
  int64_t activation_bytes = 0;
};

/// Everything partition.json records.
struct PartitionManifest {
  int schema_version = kPartitionSchemaVersion;
  std::string tool_version;
  std::string torch_version;
  std::string model_path;  ///< absolute
  std::string model_sha256;
  common::Shape input_shape;
  common::Shape output_shape;
  bool optimize_numerics = false;
  std::vector<CutRecord> cuts;
  std::vector<PartRecord> parts;
};

/// Write 2 parts (one cut: front=enclave, back=untrusted) or 3 parts (two cuts:
/// front=enclave, middle=untrusted, back=enclave) into `out` (not yet committed) and
/// return the manifest. `cut_ids` are ids from model.summary().cuts, 1 or 2 of them,
/// distinct. Throws UsageError on a bad cut list, IoError when a part cannot be saved.
PartitionManifest export_parts(const model::Model& model, std::vector<int> cut_ids, common::StagedDir& out);

struct VerifyOptions {
  int samples = 4;          ///< batch of random inputs in [0,1)
  double tolerance = 1e-5;  ///< on the max relative error
  uint64_t seed = 0;
};

struct VerifyResult {
  std::vector<std::string> files_checked;  ///< parts, then the source model
  int samples = 0;
  double max_abs_error = 0;
  double max_rel_error = 0;  ///< max |parts - original| / max |original|
  bool bit_exact = false;
  bool passed = false;
};

/// Re-hash every part and the source model (throws IntegrityError on a mismatch, IoError
/// when a file is missing), then run the composed parts and the original on the same random
/// inputs, on the CPU. Each part is loaded as an enclave runtime would, with no map location:
/// a part that holds a tensor off the CPU throws VerificationError (the source model is
/// loaded onto the CPU, wherever it was saved). Does not throw on a numeric failure: see
/// VerifyResult::passed.
VerifyResult verify_partition(const PartitionManifest& manifest, const std::string& base_dir,
                              const VerifyOptions& options);

}  // namespace partplan::partition
