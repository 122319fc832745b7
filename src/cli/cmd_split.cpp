// partplan split MODEL --cuts A[,B] --out DIR: export the parts and partition.json.
#include <filesystem>
#include <memory>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/log.hpp"
#include "partplan/model/model.hpp"
#include "partplan/partition/partition.hpp"
#include "partplan/report/report.hpp"
#include "src/cli/commands.hpp"

namespace fs = std::filesystem;

namespace partplan::cli {
namespace {

struct SplitOptions {
  std::string model_path;
  std::string cuts;
  std::string out_dir;
  std::string input_shape;
  bool optimize_numerics = false;
  bool force = false;
};

int run_split(const SplitOptions& o, Io& io) {
  const std::string sidecar = (fs::path(o.out_dir) / "partition.json").string();
  std::error_code ec;
  if (fs::exists(sidecar, ec) && !o.force)
    throw UsageError("'" + sidecar + "' already exists: pass --force to replace that split, or choose another --out");
  if (o.cuts == "all" || o.cuts == "blocks")
    throw UsageError("--cuts for split takes 1 or 2 cut ids or names (e.g. --cuts layer2 or --cuts 3,9), not '" +
                     o.cuts + "'");
  // Staging first: an unwritable --out fails before the slow load, and any later failure
  // leaves --out as it was.
  common::StagedDir staged(o.out_dir);
  model::LoadOptions lo;
  if (!o.input_shape.empty()) lo.input_shape = common::parse_shape(o.input_shape);
  lo.optimize_numerics = o.optimize_numerics;
  log::info("loading {}", o.model_path);
  auto m = model::Model::load(o.model_path, lo);
  std::vector<int> ids;
  for (const auto& c : model::select_cuts(m.summary(), o.cuts)) ids.push_back(c.id);
  auto manifest = report::export_split(m, ids, staged);
  staged.commit();
  io.out << report::split_summary(manifest, o.out_dir);
  return 0;
}

}  // namespace

void setup_split(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<SplitOptions>();
  auto* sub = app.add_subcommand("split",
                                 "Export the TorchScript parts of a model cut at 1 cut (front=enclave, "
                                 "back=untrusted) or 2 cuts (front/middle/back, ternary) plus partition.json.");
  sub->add_option("MODEL", opt->model_path, "TorchScript model (.pt)")->required();
  sub->add_option("--cuts", opt->cuts, "one cut (binary) or two cuts (ternary), by id or name: A[,B]")->required();
  sub->add_option("--out", opt->out_dir, "output directory (created; written atomically)")->required();
  sub->add_option("--input-shape", opt->input_shape, kInputShapeHelp);
  sub->add_flag("--optimize-numerics", opt->optimize_numerics,
                "fold conv+BN while freezing (parts then differ from the original by ~1e-6 relative)");
  sub->add_flag("--force", opt->force, "replace an existing partition.json in --out");
  sub->callback([opt, &dispatch]() { dispatch = [opt](Io& io) { return run_split(*opt, io); }; });
}

}  // namespace partplan::cli
