#pragma once
// Run the CLI in process and capture its streams and exit code. Diagnostics that go to the
// process's stderr (log::warn, log::info) are captured too, ahead of the error stream's text,
// so that a test can assert a warning as a user would see it.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "partplan/cli/cli.hpp"

namespace partplan::testing {

struct CliResult {
  int rc;
  std::string out, err;
};

inline CliResult run_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  std::fflush(stderr);
  char path[] = "/tmp/partplan-stderr-XXXXXX";
  const int fd = ::mkstemp(path);
  const int saved = fd >= 0 ? ::dup(2) : -1;
  if (saved >= 0) ::dup2(fd, 2);
  const int rc = partplan::cli::run(args, out, err);
  std::string diagnostics;
  if (saved >= 0) {
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::ifstream in(path);
    diagnostics.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (fd >= 0) {
    ::close(fd);
    ::unlink(path);
  }
  return {rc, out.str(), diagnostics + err.str()};
}

}  // namespace partplan::testing
