#pragma once
// A Gramine manifest template for the enclave worker (partplan run --gramine DIR), with a short
// README of how to render, sign and start it (docs/runtime.md, "Gramine"). Nothing here runs
// SGX: the template is written and its fields checked, never executed. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "partplan/runtime/worker.hpp"

namespace partplan::runtime {

struct TrustedFile {
  std::string path;  ///< absolute
  std::string sha256;
};

struct GramineSpec {
  std::string worker_exe;                 ///< the partplan binary (absolute)
  std::vector<TrustedFile> trusted_files;  ///< the enclave's parts, with the plan's SHA-256
  int64_t peak_rss_bytes = 0;             ///< the enclave worker's measured peak
  int threads = 4;                        ///< sgx.max_threads (at least 4)
  /// The enclave worker's stages; their fds are replaced by the fixed ones the manifest names
  /// (control 3, then each stage's input and output: 4 and 5, 6 and 7).
  std::vector<StageSpec> stages;
  uint64_t max_payload_bytes = uint64_t{64} << 20;
};

/// The enclave size for a measured peak: the peak times kEnclaveMargin, rounded up to a power
/// of two, at least 256 MiB (Gramine's own runtime lives inside it too).
inline constexpr double kEnclaveMargin = 1.5;
int64_t enclave_size_bytes(int64_t peak_rss_bytes);

/// The manifest template's text (TOML with Gramine's Jinja variables).
std::string gramine_manifest(const GramineSpec& spec);

/// Write partplan-enclave.manifest.template and README.md into `dir` (atomically, both or
/// neither); returns the template's path. Throws IoError.
std::string write_gramine(const std::string& dir, const GramineSpec& spec);

}  // namespace partplan::runtime
