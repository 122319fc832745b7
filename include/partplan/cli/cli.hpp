#pragma once
// The command-line front end. Kept callable in-process so tests can drive it with argument
// vectors and read its streams and exit code.

#include <ostream>
#include <string>
#include <vector>

namespace partplan::cli {

/// Parse `args` (without the program name), run the chosen subcommand, and return the exit
/// code (docs/cli.md). Results go to `out`, errors as one `error: ...` line to `err`.
/// Never throws.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace partplan::cli
