// The plan.json readers: report::plan_from_json (every plan, a pre-screen too), report::read_plan
// (`compare`) and report::plan_sidecar_path (`verify PLAN.json`); then everything that
// renders a plan document: plan.json written again (a fixed point once read back), the
// stdout table, summary.md, report.html, and `compare`'s table, JSON and page, twice over
// (the same plan under two names).
#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "partplan/report/assess_report.hpp"
#include "partplan/report/html.hpp"
#include "partplan/report/plan_document.hpp"
#include "partplan/report/report.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::as_text(data, size));
  try {
    (void)report::plan_sidecar_path(text, "plan.json");
  } catch (const Error&) {
  }
  try {
    const auto doc = report::plan_from_json(text, "plan.json");
    if (doc.cuts.empty()) fuzz::contract_broken("a plan without cuts");
    const auto written = report::to_json(doc);
    if (report::to_json(report::plan_from_json(written, "plan.json")) != written)
      fuzz::contract_broken("a plan document written and read back is not the same document");
    (void)report::assess_text(doc);
    (void)report::summary_markdown(doc, {});
  } catch (const Error&) {
  }
  try {
    const auto plan = report::read_plan(text, "plan.json");
    auto other = plan;
    other.source = "other/plan.json";
    const std::vector<report::PlanDocument> plans{plan, other};
    for (auto axis : {report::Axis::kFlops, report::Axis::kDepth, report::Axis::kMs}) {
      (void)report::threshold_crossing(plan, axis);
      (void)report::compare_text(plans, axis);
      (void)report::compare_json(plans, axis);
    }
    (void)report::plan_differences(plans);
    (void)report::compare_html(plans, report::Axis::kFlops);
    (void)report::report_html(plan, {});
  } catch (const Error&) {
  }
  return 0;
}
