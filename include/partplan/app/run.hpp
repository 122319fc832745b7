#pragma once
// The application layer of `partplan run`: serve a plan's exported parts the way a deployment
// would, across processes (docs/runtime.md). The client (the calling process) checks every
// part's SHA-256, starts the enclave worker (the front, and a ternary split's back, under the
// sandbox) and the untrusted worker (the middle or back, on the run's device) as
// `partplan __worker`, feeds the inputs, receives only the final outputs, compares each with
// the unsplit model's, and measures. Torch-free header.

#include <cstdint>
#include <functional>
#include <string>

#include "partplan/report/runtime_document.hpp"

namespace partplan::app {

struct RunRequest {
  std::string plan_path;  ///< plan.json with exported parts (assess --export), or a partition.json
  std::string data_source;
  int64_t requests = 0;     ///< 0: each loaded sample once
  int64_t max_samples = 64;  ///< distinct inputs drawn from the source (seeded), reused round-robin
  int64_t concurrency = 1;   ///< requests in flight at once
  std::string device = "auto";  ///< the untrusted worker's device; the enclave worker is always the CPU
  int threads = 0;              ///< torch threads per worker; 0: the cores shared between the two workers
  double tolerance = 1e-5;      ///< on the max relative error of an output against the unsplit model's
  bool sandbox = true;
  double request_timeout_seconds = 60;  ///< a request with no response by then fails the run
  std::string out_path = "runtime.json";  ///< "-": returned only
  std::string gramine_dir;                ///< write a Gramine manifest template here; empty: none
  std::string worker_exe;                 ///< the partplan binary the workers run (/proc/self/exe)
  std::string command_line;
  /// Test hook (tests/runtime): "enclave:kill@N", "untrusted:crash@N".
  std::string fault;
  std::function<void(int64_t done, int64_t total)> progress;  ///< optional
};

struct RunOutcome {
  report::RuntimeDocument doc;
  std::string runtime_json;  ///< the document as written (also when out_path is "-")
  std::string gramine_manifest_path;
  /// 0; kExitVerification when an output differs above the tolerance; kExitRuntime when a
  /// request failed (doc.failure says which and why). Errors before any request throw.
  int exit_code = 0;
};

/// Serve the plan. Throws UsageError (no chosen cut, a pre-screen, bad numbers), IoError (a
/// part or the model missing, output not writable), IntegrityError (a part or the model whose
/// SHA-256 differs from the plan's: nothing is started), DataError and ModelError. A failure
/// once requests flow does not throw: every worker is stopped and reaped, the completed
/// requests are kept in the document, and exit_code says it failed.
RunOutcome run_plan(const RunRequest& request);

}  // namespace partplan::app
