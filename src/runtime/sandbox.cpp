// The enclave worker's sandbox. isolate_process runs first (unshare needs a single-threaded
// process); install_syscall_filter runs after the parts are loaded and warmed up, so that every
// file a library opens lazily has been opened. To let a new kind of part run under the filter,
// add the syscalls it needs to kAllowed (strace -f the worker with the filter off) and say why.
#include "partplan/runtime/sandbox.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "partplan/common/error.hpp"

#if PARTPLAN_HAVE_SECCOMP
#include <seccomp.h>
#endif

namespace partplan::runtime {
namespace {

#if PARTPLAN_HAVE_SECCOMP
// Computing, memory, threads and their synchronisation, time, signals, and I/O on the fds the
// worker already holds. No socket, connect, bind, execve, ptrace, or new processes.
constexpr const char* kAllowed[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "recvfrom", "sendto", "recvmsg", "sendmsg",
    "poll", "ppoll", "close", "fstat", "newfstatat", "lseek", "fcntl",
    "mmap", "munmap", "mremap", "mprotect", "madvise", "brk",
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "membarrier",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill", "restart_syscall",
    "exit", "exit_group", "getpid", "gettid", "getppid", "getuid", "geteuid", "getrandom",
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler",
    "getrusage", "prlimit64", "sysinfo", "getcpu", "uname"};
#endif

}  // namespace

bool have_seccomp() { return PARTPLAN_HAVE_SECCOMP != 0; }

namespace {

/// Async-signal-safe decimal of a non-negative int into `p`; returns the end.
char* put_int(char* p, char* end, int v) {
  char digits[12];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + v % 10), v /= 10;
  while (v > 0 && n < 11);
  while (n > 0 && p < end) *p++ = digits[--n];
  return p;
}

}  // namespace

void unshare_network(char* code, size_t size) noexcept {
  if (size < 32) return;
  char* end = code + size - 1;
  if (::unshare(CLONE_NEWNET) == 0) {
    std::memcpy(code, "own", 4);
    return;
  }
  const int as_root = errno;
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
    std::memcpy(code, "userns", 7);
    return;
  }
  const int via_user = errno;
  char* p = code;
  for (const char* s = "fail:"; *s && p < end; ++s) *p++ = *s;
  p = put_int(p, end, as_root);
  if (p < end) *p++ = ':';
  p = put_int(p, end, via_user);
  *p = '\0';
}

std::string describe_network(const std::string& code) {
  if (code == "own") return "own network namespace (no interfaces up)";
  if (code == "userns") return "own network namespace, through a user namespace (no interfaces up)";
  if (code.rfind("fail:", 0) == 0) {
    const auto colon = code.find(':', 5);
    const int e1 = std::atoi(code.substr(5, colon - 5).c_str());
    const int e2 = colon == std::string::npos ? 0 : std::atoi(code.substr(colon + 1).c_str());
    return fmt::format("not isolated: unshare(CLONE_NEWNET) failed ({}), and through a user namespace ({})",
                       std::strerror(e1), std::strerror(e2));
  }
  return "not isolated";
}

void disable_core_dumps(SandboxReport& report) {
  const rlimit zero{0, 0};
  report.core_dumps_off = ::setrlimit(RLIMIT_CORE, &zero) == 0 && ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
}

void isolate_process(SandboxReport& report) {
  char code[64] = {0};
  unshare_network(code, sizeof code);
  report.network = describe_network(code);
  disable_core_dumps(report);
}

void install_syscall_filter(SandboxReport& report) {
#if PARTPLAN_HAVE_SECCOMP
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!ctx) throw Error("seccomp_init failed: the kernel or libseccomp refuses filters; run with --no-sandbox");
  // Every thread of the worker, not only this one: the thread pools of the warm-up exist.
  int rc = ::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  int n = 0;
  for (const char* name : kAllowed) {
    const int nr = ::seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall on this architecture
    rc = rc ? rc : ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    ++n;
  }
  // Threads, not processes: clone must carry CLONE_THREAD; clone3's flags sit behind a pointer
  // the filter cannot read, so it fails and glibc falls back to clone.
  rc = rc ? rc : ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
  rc = rc ? rc : ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  rc = rc ? rc : ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
  rc = rc ? rc : ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
  // prctl only names threads and reads its own state; PR_SET_DUMPABLE and the rest kill.
  for (const int op : {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_VMA})
    rc = rc ? rc : ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0_32(SCMP_CMP_EQ, static_cast<uint32_t>(op)));
  rc = rc ? rc : ::seccomp_load(ctx);
  ::seccomp_release(ctx);
  if (rc != 0)
    throw Error(fmt::format("installing the seccomp allow-list failed ({}): run with --no-sandbox to diagnose",
                            std::strerror(-rc)));
  report.allowed_syscalls = n + 2;
  report.seccomp = fmt::format("allow-list of {} syscalls (clone only for threads, prctl only to name them; open "
                               "fails); any other kills the process",
                               report.allowed_syscalls);
#else
  report.seccomp = "off: this build has no libseccomp (install libseccomp-dev and rebuild)";
#endif
}

}  // namespace partplan::runtime
