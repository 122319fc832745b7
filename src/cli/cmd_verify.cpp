// partplan verify PARTITION_JSON: hashes, then the composed parts against the original.
#include <fmt/format.h>
#include <filesystem>
#include <memory>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/log.hpp"
#include "partplan/partition/partition.hpp"
#include "partplan/report/report.hpp"
#include "src/cli/commands.hpp"

namespace fs = std::filesystem;

namespace partplan::cli {
namespace {

struct VerifyCmdOptions {
  std::string path;
  partition::VerifyOptions verify;
  bool json = false;
};

int run_verify(const VerifyCmdOptions& o, Io& io) {
  std::string sidecar = o.path;
  std::error_code ec;
  if (fs::is_directory(sidecar, ec)) sidecar = (fs::path(sidecar) / "partition.json").string();
  if (!fs::exists(sidecar, ec))
    throw IoError("'" + sidecar + "' not found: pass the partition.json written by partplan split (or its directory)");
  std::string text = common::read_file(sidecar);
  if (auto from_plan = report::plan_sidecar_path(text, sidecar)) {  // a plan.json: its exported split
    sidecar = *from_plan;
    text = common::read_file(sidecar);
  }
  const auto manifest = report::partition_from_json(text, sidecar);
  const std::string base = fs::path(sidecar).parent_path().string();
  log::info("verifying {} parts of {}", manifest.parts.size(), manifest.model_path);
  const auto result = partition::verify_partition(manifest, base.empty() ? "." : base, o.verify);
  io.out << (o.json ? report::verify_json(manifest, result, o.verify.tolerance)
                    : report::verify_text(manifest, result, o.verify.tolerance));
  if (!result.passed)
    throw VerificationError(
        fmt::format("composed parts differ from the original: max relative error {:.3g} above "
                    "--tolerance {:.3g}",
                    result.max_rel_error, o.verify.tolerance));
  return 0;
}

}  // namespace

void setup_verify(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<VerifyCmdOptions>();
  auto* sub = app.add_subcommand("verify",
                                 "Check a split: re-hash every file (exit 4 on a mismatch), then run "
                                 "the composed parts against the original model (exit 5 above tolerance).");
  sub->add_option("PARTITION", opt->path,
                  "partition.json written by split (or its directory), or a plan.json from assess --export")
      ->required();
  sub->add_option("--samples", opt->verify.samples, "random inputs (batch size) to compare on")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--tolerance", opt->verify.tolerance, "max relative error allowed")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--seed", opt->verify.seed, "seed of the random inputs")->capture_default_str();
  sub->add_flag("--json", opt->json, "JSON on stdout instead of text");
  sub->callback([opt, &dispatch]() { dispatch = [opt](Io& io) { return run_verify(*opt, io); }; });
}

}  // namespace partplan::cli
