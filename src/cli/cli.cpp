// Builds the partplan command line, parses, dispatches, and turns every error into one
// `error: ...` line and a documented exit code. To add a subcommand: write cmd_<name>.cpp
// with setup_<name>() and register it below.
#include "partplan/cli/cli.hpp"

#include <fmt/format.h>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/model/model.hpp"
#include "src/cli/commands.hpp"

namespace partplan::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "partplan: plan where to split a model between a TEE enclave and an untrusted GPU, "
      "by measuring how well an attacker rebuilds the input from each cut.",
      "partplan"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kBuiltWithCuda ? fmt::format("partplan {} (LibTorch {}, CUDA build, device code for CUDA architectures {})",
                                                                   kVersion, model::torch_version(), kCudaArchitectures)
                                                    : fmt::format("partplan {} (LibTorch {}, CPU build)", kVersion, model::torch_version()));
  bool quiet = false;
  int verbose = 0;
  int threads = 0;
  app.add_flag("-q,--quiet", quiet, "no progress or warnings on stderr (errors still print)");
  bool log_progress = false;
  app.add_flag("-v,--verbose", verbose, "more detail on stderr (repeat for debug)");
  app.add_flag("--log", log_progress, "progress lines on stderr even when it is not a terminal");
  app.add_option("--threads", threads, "CPU threads for LibTorch (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.footer(
      "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 leakage gate failed,\n"
      "4 integrity (SHA-256) mismatch, 5 composed parts differ from the original.\n"
      "Run 'partplan COMMAND --help' for a command's options. Docs: docs/cli.md");

  // Global flags (-q, -v, --log, --threads) also work after the command name.
  app.fallthrough();
  Dispatch dispatch;
  setup_assess(app, dispatch);
  setup_inspect(app, dispatch);
  setup_split(app, dispatch);
  setup_verify(app, dispatch);
  setup_metrics(app, dispatch);
  setup_compare(app, dispatch);
  setup_merge(app, dispatch);

  std::vector<std::string> argv_store{"partplan"};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());

  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    err << "error: " << first_line(e.what()) << " (run 'partplan --help')\n";
    return kExitUsage;
  }

  log::Level level = log::stderr_is_tty() || log_progress ? log::Level::kInfo : log::Level::kWarn;
  if (verbose >= 1) level = log::Level::kInfo;
  if (verbose >= 2) level = log::Level::kDebug;
  if (quiet) level = log::Level::kQuiet;
  log::set_level(level);
  try {
    model::set_threads(threads);
    Io io{out, err};
    const int rc = dispatch(io);  // require_subcommand(1): parsing set it
    // A full disk or a closed pipe must not pass for success: stdout is the result.
    out.flush();
    if (!out) {
      err << "error: the output could not be written to stdout (disk full, or the reader closed the pipe): "
             "write it to a file with room (-o FILE)\n";
      return kExitRuntime;
    }
    return rc;
  } catch (const Error& e) {
    err << "error: " << first_line(e.what()) << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    err << "error: internal: " << first_line(e.what()) << " (please report this with the command line)\n";
    return kExitRuntime;
  }
}

}  // namespace partplan::cli
