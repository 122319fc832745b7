#pragma once
// Run the CLI in process and capture its streams and exit code.

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
  const int rc = partplan::cli::run(args, out, err);
  return {rc, out.str(), err.str()};
}

}  // namespace partplan::testing
