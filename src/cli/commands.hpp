#pragma once
// One options struct, one setup function and one run function per subcommand (the CLI11
// "subcommands in files" pattern). setup_* registers the subcommand and its flags, and on
// selection stores the run function in `Dispatch`; cli.cpp runs it after parsing.

#include <CLI/CLI.hpp>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace partplan::cli {

struct Io {
  std::ostream& out;
  std::ostream& err;
};

using Dispatch = std::function<int(Io&)>;

void setup_inspect(CLI::App& app, Dispatch& dispatch);
void setup_split(CLI::App& app, Dispatch& dispatch);
void setup_verify(CLI::App& app, Dispatch& dispatch);
void setup_assess(CLI::App& app, Dispatch& dispatch);
void setup_metrics(CLI::App& app, Dispatch& dispatch);
void setup_compare(CLI::App& app, Dispatch& dispatch);
void setup_merge(CLI::App& app, Dispatch& dispatch);
void setup_run(CLI::App& app, Dispatch& dispatch);

/// The command as parsed, one word per element ("partplan", "assess", "MODEL", "--steps=100"),
/// recorded in the documents a command writes.
std::vector<std::string> command_line(const CLI::App& sub);

/// Validator text shared by commands that take a model input shape.
inline constexpr const char* kInputShapeHelp =
    "model input shape N,C,H,W (e.g. 1,3,224,224); default: the shape recorded in the archive "
    "(partplan.json extra file), else inferred from the first layer when possible";

}  // namespace partplan::cli
