// Builds the partplan command line, parses, dispatches, and turns every error into one
// `error: ...` line and a documented exit code. To add a subcommand: write cmd_<name>.cpp
// with setup_<name>() and register it below.
#include "partplan/cli/cli.hpp"

#include <fmt/format.h>

#include <optional>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/model/model.hpp"
#include "src/cli/commands.hpp"

namespace partplan::cli {
namespace {

// Options of the top level that take a value (the word after them is not a command).
bool takes_value(const std::string& arg) { return arg == "--threads"; }

/// The first argument that is not an option (nor an option's value): the command, if any.
std::optional<std::string> first_word(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") return std::nullopt;
    if (args[i].rfind('-', 0) == 0) {
      if (takes_value(args[i])) ++i;
      continue;
    }
    return args[i];
  }
  return std::nullopt;
}

/// The user's commands; internal ones (an empty group: `__worker`) are not named.
std::string command_names(const CLI::App& app) {
  std::string out;
  for (const auto* sub : app.get_subcommands({}))
    if (!sub->get_group().empty()) out += (out.empty() ? "" : ", ") + sub->get_name();
  return out;
}

/// The options of `app` by their longest name, "--data, --cuts, ...", and its positionals.
std::string option_names(const CLI::App& app) {
  std::string out;
  for (const auto* o : app.get_options({})) {
    std::string name = o->get_name(/*positional=*/false, /*all_options=*/false);
    if (name.empty() || name == "--help") continue;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

/// One line for a parse error: what was wrong, the valid names where a name was wrong, and
/// the --help to read (the command's own when a command was given).
std::string usage_error(const CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& e) {
  const auto word = first_word(args);
  const CLI::App* sub = nullptr;
  for (const auto* s : app.get_subcommands({}))
    if (word && s->get_name() == *word) sub = s;
  if (!sub) {
    for (const auto& a : args)
      if (a.rfind('-', 0) == 0 && a != "--") {
        const std::string flag = a.substr(0, a.find('='));
        bool known = false;
        for (const auto* o : app.get_options({})) known = known || o->check_name(flag);
        if (!known)
          return "unknown option '" + flag + "': before a command the options are " + option_names(app) +
                 ", --help; the commands are " + command_names(app) + " (run 'partplan --help')";
      }
    return "a command is required: one of " + command_names(app) + " (run 'partplan --help')";
  }
  const std::string help = "run 'partplan " + sub->get_name() + " --help'";
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    // Name the first argument the command does not know: an option, or a surplus positional.
    std::string what = first_line(e.what());
    bool after = false;
    for (const auto& a : args) {
      if (!after) {
        after = a == sub->get_name();
        continue;
      }
      const std::string flag = a.substr(0, a.find('='));
      if (a.rfind('-', 0) == 0 && a != "--" && !sub->get_option_no_throw(flag) && !app.get_option_no_throw(flag)) {
        what = "unknown option '" + flag + "' for '" + sub->get_name() + "'";
        break;
      }
    }
    return what + "; the options of '" + sub->get_name() + "' are " + option_names(*sub) + " (" + help + ")";
  }
  return first_line(e.what()) + " (" + help + ")";
}

/// The options before (or, with fallthrough, after) the command.
struct GlobalFlags {
  bool quiet = false;
  int verbose = 0;
  int threads = 0;
  bool log_progress = false;
  log::Level level() const {
    log::Level l = log::stderr_is_tty() || log_progress ? log::Level::kInfo : log::Level::kWarn;
    if (verbose >= 1) l = log::Level::kInfo;
    if (verbose >= 2) l = log::Level::kDebug;
    if (quiet) l = log::Level::kQuiet;
    return l;
  }
};

void add_global_flags(CLI::App& app, GlobalFlags& g) {
  app.set_version_flag("--version", kBuiltWithCuda ? fmt::format("partplan {} (LibTorch {}, CUDA build, device code for CUDA architectures {}, images: {})",
                                                                   kVersion, model::torch_version(), kCudaArchitectures, kImageBackend)
                                                    : fmt::format("partplan {} (LibTorch {}, CPU build, images: {})", kVersion, model::torch_version(), kImageBackend));
  app.add_flag("-q,--quiet", g.quiet, "no progress or warnings on stderr (errors still print)");
  app.add_flag("-v,--verbose", g.verbose, "more detail on stderr (repeat for debug)");
  app.add_flag("--log", g.log_progress, "progress lines on stderr even when it is not a terminal");
  app.add_option("--threads", g.threads, "CPU threads for LibTorch (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.footer(
      "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 leakage gate failed,\n"
      "4 integrity (SHA-256) mismatch, 5 composed parts differ from the original.\n"
      "Run 'partplan COMMAND --help' for a command's options. Docs: docs/cli.md");
}

/// An unknown command is named before parsing: CLI11 would take `partplan frobnicate --help`
/// for the top-level help, and `partplan frobnicate` for a missing command. False after
/// printing the error.
bool command_known(const CLI::App& app, const std::vector<std::string>& args, std::ostream& err) {
  const auto word = first_word(args);
  if (!word) return true;
  for (const auto* sub : app.get_subcommands({}))
    if (sub->get_name() == *word) return true;
  err << "error: unknown command '" << *word << "': the commands are " << command_names(app)
      << " (run 'partplan --help')\n";
  return false;
}

/// Run the parsed command; every partplan error becomes its line and exit code.
int run_command(const Dispatch& dispatch, int threads, std::ostream& out, std::ostream& err) {
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

}  // namespace

std::vector<std::string> command_line(const CLI::App& sub) {
  std::vector<std::string> argv{"partplan", sub.get_name()};
  for (const auto* o : sub.get_options())
    for (const auto& r : o->results()) argv.push_back(o->nonpositional() ? o->get_name() + "=" + r : r);
  return argv;
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "partplan: plan where to split a model between a TEE enclave and an untrusted GPU, "
      "by measuring how well an attacker rebuilds the input from each cut.",
      "partplan"};
  app.require_subcommand(1);
  GlobalFlags flags;
  add_global_flags(app, flags);
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
  setup_run(app, dispatch);
  if (!command_known(app, args, err)) return kExitUsage;

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
    err << "error: " << usage_error(app, args, e) << "\n";
    return kExitUsage;
  }
  log::set_level(flags.level());
  return run_command(dispatch, flags.threads, out, err);
}

}  // namespace partplan::cli
