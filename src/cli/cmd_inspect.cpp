// partplan inspect MODEL: list the cut points of a TorchScript model.
#include <memory>

#include "partplan/common/log.hpp"
#include "partplan/model/model.hpp"
#include "partplan/report/report.hpp"
#include "src/cli/commands.hpp"

namespace partplan::cli {
namespace {

struct InspectOptions {
  std::string model_path;
  std::string input_shape;
  std::string cuts = "blocks";
  int block_depth = 2;
  bool json = false;
};

int run_inspect(const InspectOptions& o, Io& io) {
  model::LoadOptions lo;
  if (!o.input_shape.empty()) lo.input_shape = common::parse_shape(o.input_shape);
  lo.block_depth = o.block_depth;
  log::info("loading {}", o.model_path);
  auto m = model::Model::load(o.model_path, lo);
  const auto cuts = model::select_cuts(m.summary(), o.cuts);
  io.out << (o.json ? report::inspect_json(m.summary(), cuts, o.cuts)
                    : report::inspect_table(m.summary(), cuts, o.cuts));
  return 0;
}

}  // namespace

void setup_inspect(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<InspectOptions>();
  auto* sub = app.add_subcommand("inspect",
                                 "List the cut points of a TorchScript model: where exactly one "
                                 "tensor is live, with shape, bytes, front FLOPs and weights.");
  sub->add_option("MODEL", opt->model_path, "TorchScript model (.pt)")->required();
  sub->add_option("--input-shape", opt->input_shape, kInputShapeHelp);
  sub->add_option("--cuts", opt->cuts,
                  "which cuts to list: blocks (boundaries of named modules up to --block-depth), stages "
                  "(assess's default candidates: first cut, each resolution stage's output, classifier input), "
                  "all, or a comma list of ids/names")
      ->capture_default_str();
  sub->add_option("--block-depth", opt->block_depth,
                  "module depth whose boundaries count as block cuts (1 = children of the root)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  sub->add_flag("--json", opt->json, "stable JSON on stdout instead of the table");
  sub->callback([opt, &dispatch]() { dispatch = [opt](Io& io) { return run_inspect(*opt, io); }; });
}

}  // namespace partplan::cli
