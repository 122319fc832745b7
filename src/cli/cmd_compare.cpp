// partplan compare PLAN.json PLAN.json ...: one table and one figure across models, on an
// x-axis that compares across architectures (the enclave's share of the FLOPs by default).
// Reads plan files only (report/html does the reading and rendering); writes the table (or
// JSON) to stdout and, with --out, compare.html and compare.json to a directory, atomically.
#include <fmt/format.h>

#include <memory>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/report/html.hpp"
#include "src/cli/commands.hpp"

namespace partplan::cli {
namespace {

struct CompareOptions {
  std::vector<std::string> plans;
  std::string out_dir;
  std::string axis = "flops";
  bool json = false;
};

int run_compare(const CompareOptions& o, Io& io) {
  const auto axis = report::parse_axis(o.axis);
  if (!o.out_dir.empty()) common::check_can_create(o.out_dir, /*is_dir=*/true);
  std::vector<report::PlanDocument> plans;
  for (const auto& path : o.plans) plans.push_back(report::read_plan(common::read_file(path), path));
  const auto json = report::compare_json(plans, axis);
  if (!o.out_dir.empty()) {
    common::StagedDir staged(o.out_dir);
    common::write_file_atomic(staged.add("compare.html"), report::compare_html(plans, axis));
    common::write_file_atomic(staged.add("compare.json"), json);
    staged.commit();
  }
  io.out << (o.json ? json : report::compare_text(plans, axis));
  if (!o.out_dir.empty() && !o.json) io.out << "compare: " << o.out_dir << "/compare.html\n";
  return 0;
}

}  // namespace

void setup_compare(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<CompareOptions>();
  auto* sub = app.add_subcommand(
      "compare",
      "Compare plans across models: each model's leakage envelope against the share of its FLOPs in the enclave, "
      "its chosen cut, enclave cost and speed-up, and where its curve crosses the threshold; says which settings "
      "differ between the plans.");
  sub->add_option("PLAN", opt->plans, "plan.json files written by partplan assess (one per model)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--out", opt->out_dir, "write compare.html (self-contained) and compare.json here");
  sub->add_option("--axis", opt->axis,
                  "x-axis: flops (share of FLOPs in the enclave), depth (share of cut points), "
                  "ms (estimated enclave milliseconds)")
      ->capture_default_str();
  sub->add_flag("--json", opt->json, "print the comparison as JSON on stdout");
  sub->callback([opt, &dispatch]() { dispatch = [opt](Io& io) { return run_compare(*opt, io); }; });
}

}  // namespace partplan::cli
