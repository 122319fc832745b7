#pragma once
// runtime.json: what `partplan run` measured while it served a plan the way a deployment
// would (docs/runtime.md; schema docs/schemas/runtime.schema.json). One type, one to_json, one
// from_json; `assess --timings` reads it back. Torch-free.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace partplan::report {

inline constexpr int kRuntimeSchemaVersion = 1;

/// Percentiles of one latency, in milliseconds.
struct LatencyMs {
  double p50 = 0, p95 = 0, p99 = 0, mean = 0, max = 0;
  int64_t n = 0;
};

/// Percentiles by linear interpolation between order statistics (numpy's default), mean and
/// max of `ms`; all zero and n = 0 for none.
LatencyMs latency_of(std::vector<double> ms);

struct RuntimeDocument {
  struct Worker {
    std::string role;                ///< "enclave" or "untrusted"
    std::vector<std::string> parts;  ///< "front", "back", ...
    std::string device = "cpu";
    int threads = 1;
    int64_t peak_rss_bytes = 0;  ///< the process's max RSS (wait4), 0 when it was not reaped
    bool core_dumps_off = false;
    std::string network = "not isolated", seccomp = "off";
    std::string exit;  ///< "exit 0", "killed by signal 9 (SIGKILL)", ...
  };
  struct PartTiming {
    std::string name, role;  ///< "front", "enclave"
    LatencyMs measured;      ///< compute time in the worker, per request
    /// The plan's cost-model estimate for this part, native CPU (the enclave estimate divided
    /// by cost.tee_slowdown: the emulation runs natively); nullopt when the plan has none.
    std::optional<double> estimated_ms;
    std::optional<double> ratio;  ///< measured p50 / estimated
  };
  struct Hop {
    std::string from, to;
    int64_t bytes_per_request = 0;
    LatencyMs measured;  ///< send start to receipt (at concurrency > 1 it includes queueing)
    std::optional<double> estimated_ms;  ///< the cost model's transfer, for the enclave boundary hops
    std::optional<double> ratio;
  };
  struct Failure {
    int64_t request = -1;  ///< the first request that did not complete
    std::string worker;    ///< "untrusted", "enclave", or "" when no worker is at fault
    std::string message;
  };

  int schema_version = kRuntimeSchemaVersion;
  std::string tool_version, libtorch, created_utc, command;
  std::string plan_path, plan_sha256, model_path, model_sha256;
  std::string decision_kind;  ///< "binary" or "ternary"
  std::vector<int> cut_ids;
  std::vector<std::string> cut_names;
  std::string data_source;
  int64_t samples = 0;  ///< distinct inputs, reused round-robin
  int64_t requests = 0, concurrency = 1, completed = 0;
  double tolerance = 0;
  std::vector<Worker> workers;
  std::vector<PartTiming> parts;
  std::vector<Hop> hops;
  LatencyMs end_to_end;
  double wall_seconds = 0, throughput_rps = 0;
  std::optional<double> estimated_end_to_end_ms;  ///< the plan's latency, native CPU
  double tee_slowdown = 1;
  /// The enclave worker's peak RSS against the plan's enclave memory budget (0 = none).
  int64_t enclave_peak_rss_bytes = 0, enclave_budget_bytes = 0;
  bool enclave_fits = true;
  double max_abs_error = 0, max_rel_error = 0, top1_agreement = 1;
  int64_t compared = 0;
  bool faithful = true;
  std::optional<Failure> failure;
};

/// runtime.json text: pretty-printed, a trailing newline.
std::string to_json(const RuntimeDocument& doc);
/// Parse runtime.json; throws UsageError naming `source` and the field at fault.
RuntimeDocument runtime_from_json(const std::string& text, const std::string& source);
/// The short table `partplan run` prints on stdout.
std::string runtime_table(const RuntimeDocument& doc);

}  // namespace partplan::report
