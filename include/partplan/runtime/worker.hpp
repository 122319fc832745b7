#pragma once
// A `partplan run` worker: one process that holds some of a plan's parts and serves them over
// framed channels (docs/runtime.md, "Process layout"). The enclave worker holds the front (and
// a ternary split's back) under the sandbox; the untrusted worker holds the rest, on its device.
// The client starts each as `partplan __worker ...` with the channel fds inherited. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace partplan::runtime {

/// One part served by a worker: read a request from in_fd, run the part, write it to out_fd.
struct StageSpec {
  std::string name;  ///< "front", "middle" or "back"
  std::string file, sha256;
  int in_fd = -1, out_fd = -1;
  std::string upstream, downstream;   ///< who is at the other ends, for messages
  int slot = 0;                       ///< this stage's index: stage_ns[slot]; it receives on hop `slot`
  std::vector<int64_t> sample_shape;  ///< the per-sample input shape, checked on every frame
};

struct WorkerSpec {
  std::string role = "enclave";  ///< "enclave" or "untrusted"
  std::vector<StageSpec> stages;
  int control_fd = -1;  ///< worker -> client: "ready ..." once loaded, or the load's error
  std::string device = "cpu";
  int threads = 1;  ///< torch intra-op threads
  bool sandbox = true;  ///< enclave worker: no network, no core dumps, then install_syscall_filter
  /// The code of unshare_network from the client's forked child ("own", "userns", "fail:..");
  /// empty: the worker tries isolate_process itself.
  std::string netns;
  uint64_t max_payload_bytes = uint64_t{64} << 20;
  /// Test hook for the fault tests, on request N: "kill@N" (SIGKILL), "crash@N" (SIGSEGV) or
  /// "perturb@N" (the output plus 1: a wrong answer).
  std::string fault;
};

/// A stage as one argv word (fields joined by \x1f); and back. decode_stage throws UsageError
/// on a malformed word.
std::string encode_stage(const StageSpec& s);
StageSpec decode_stage(const std::string& word);

/// Run a worker until its upstream sends shutdown (returns 0) or it fails (returns the error's
/// exit code, after an error frame to the client on its control channel or downstream). Loads
/// every part with its SHA-256 checked, warms each up on one zero input, installs the sandbox,
/// says "ready", then serves each stage on its own thread. Never throws.
int run_worker(const WorkerSpec& spec);

}  // namespace partplan::runtime
