// The enclave worker's sandbox, in forked children: no network once isolated, and under the
// syscall filter a new socket kills the process while a file open fails with EACCES.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "partplan/runtime/sandbox.hpp"

using namespace partplan::runtime;

namespace {

/// Run `body` in a child; returns its wait status.
template <class F>
int in_child(F body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(body());
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("an isolated worker cannot reach a listener of the host's network", "[runtime][sandbox]") {
  const int server = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(server >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(server, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const auto connects = [addr] {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    return s >= 0 && ::connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  };
  CHECK(WEXITSTATUS(in_child([&] { return connects() ? 0 : 1; })) == 0);  // the test itself can
  const int isolated = in_child([&] {
    SandboxReport r;
    isolate_process(r);
    if (r.network.rfind("own network namespace", 0) != 0) return 2;  // this kernel refuses: said, not hidden
    if (!r.core_dumps_off) return 3;
    return connects() ? 1 : 0;
  });
  ::close(server);
  REQUIRE(WIFEXITED(isolated));
  if (WEXITSTATUS(isolated) == 2) {
    WARN("this kernel allows no network namespace here: the run reports 'not isolated'");
    return;
  }
  CHECK(WEXITSTATUS(isolated) == 0);
}

TEST_CASE("under the syscall filter a socket kills the worker and a file open fails", "[runtime][sandbox]") {
  if (!have_seccomp()) {
    WARN("this build has no libseccomp: the filter is off");
    return;
  }
  const int opened = in_child([] {
    SandboxReport r;
    install_syscall_filter(r);
    const int fd = ::open("/etc/hostname", O_RDONLY);
    return fd < 0 && errno == EACCES ? 0 : 1;
  });
  REQUIRE(WIFEXITED(opened));
  CHECK(WEXITSTATUS(opened) == 0);
  const int socketed = in_child([] {
    SandboxReport r;
    install_syscall_filter(r);
    ::socket(AF_INET, SOCK_STREAM, 0);
    return 0;  // not reached
  });
  REQUIRE(WIFSIGNALED(socketed));
  CHECK(WTERMSIG(socketed) == SIGSYS);
  const int forked = in_child([] {
    SandboxReport r;
    install_syscall_filter(r);
    const pid_t p = ::fork();  // a new process: clone without CLONE_THREAD
    if (p == 0) ::_exit(0);
    return 0;
  });
  REQUIRE(WIFSIGNALED(forked));
  CHECK(WTERMSIG(forked) == SIGSYS);
}

TEST_CASE("the network outcome is said in words, the errnos named", "[runtime][sandbox]") {
  CHECK(describe_network("own") == "own network namespace (no interfaces up)");
  CHECK_THAT(describe_network("userns"), Catch::Contains("through a user namespace"));
  const auto failed = describe_network("fail:1:22");
  CHECK_THAT(failed, Catch::StartsWith("not isolated") && Catch::Contains(std::strerror(EPERM)) &&
                         Catch::Contains(std::strerror(EINVAL)));
  CHECK(describe_network("") == "not isolated");
  char code[32];
  const int status = in_child([&] {
    unshare_network(code, sizeof code);  // in the child only: this process stays where it is
    return std::string(code) == "own" || std::string(code) == "userns" || std::string(code).rfind("fail:", 0) == 0 ? 0 : 1;
  });
  CHECK(WEXITSTATUS(status) == 0);
}
