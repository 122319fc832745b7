#pragma once
// The enclave worker's sandbox (docs/runtime.md, "What the sandbox does, and does not,
// promise"). It emulates an enclave's isolation, not its confidentiality: no network, no core
// dumps, and a syscall allow-list installed once the parts are loaded, so that the worker can
// then only compute, allocate, make threads and talk over the channels it already holds.
// Torch-free.

#include <cstddef>
#include <string>

namespace partplan::runtime {

/// What was put in place, in words, for runtime.json and the run's summary.
struct SandboxReport {
  bool core_dumps_off = false;
  std::string network = "not isolated";  ///< "own network namespace (no interfaces up)" or "not isolated: <why>"
  std::string seccomp = "off";  ///< "allow-list of N syscalls; ..." or "off: <why>"
  int allowed_syscalls = 0;
};

/// Move the calling process into its own network namespace: as root, else through a user
/// namespace. unshare needs a single-threaded process, so the client calls this in the forked
/// child before exec. Async-signal-safe: writes a code into `code` (at least 32 bytes): "own",
/// "userns" or "fail:E1:E2" (the two errnos).
void unshare_network(char* code, size_t size) noexcept;

/// The words for a code of unshare_network ("" when none was made: "not isolated").
std::string describe_network(const std::string& code);

/// Core dumps off: RLIMIT_CORE 0 and not dumpable. Any thread may call it.
void disable_core_dumps(SandboxReport& report);

/// For a single-threaded caller: unshare_network and disable_core_dumps, reported. Throws
/// nothing; what could not be done is said in the report.
void isolate_process(SandboxReport& report);

/// After the parts are loaded and run once: the seccomp allow-list, on every thread of the
/// process (TSYNC). Beyond it, open and openat fail with EACCES (a library that probes a file
/// gets an error, not a kill), prctl only names threads (anything else kills, so core dumps
/// cannot be turned back on), clone3 fails with ENOSYS (so that threads are made with
/// clone, whose flags the filter checks), and clone without CLONE_THREAD (a new process) and
/// every other syscall kill the process (SIGSYS). Throws Error when libseccomp refuses the
/// filter; a build without libseccomp records "off".
void install_syscall_filter(SandboxReport& report);

/// Whether this build has libseccomp.
bool have_seccomp();

}  // namespace partplan::runtime
