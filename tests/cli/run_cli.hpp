#pragma once
// Run the CLI in process and capture its streams and exit code. partplan's diagnostics
// (log::warn, log::info, the progress line) are captured through a log sink, ahead of the
// error stream's text, so that a test can assert a warning as a user would see it.

#include <sstream>
#include <string>
#include <vector>

#include "partplan/cli/cli.hpp"
#include "partplan/common/log.hpp"

namespace partplan::testing {

struct CliResult {
  int rc;
  std::string out, err;
};

inline CliResult run_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  std::string diagnostics;
  int rc = 0;
  {
    const log::ScopedSink sink([&](log::Level, const std::string& text, bool raw) {
      diagnostics += text;
      if (!raw) diagnostics += '\n';
    });
    rc = partplan::cli::run(args, out, err);
  }
  return {rc, out.str(), diagnostics + err.str()};
}

}  // namespace partplan::testing
