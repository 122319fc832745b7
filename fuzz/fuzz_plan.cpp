// The plan.json readers: report::read_plan (`compare`, and the HTML pages) and
// report::plan_sidecar_path (`verify PLAN.json`), then what `compare` makes of the plan: its
// table, JSON and page, twice over (the same plan under two names).
#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "partplan/report/html.hpp"
#include "partplan/report/report.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::as_text(data, size));
  try {
    (void)report::plan_sidecar_path(text, "plan.json");
  } catch (const Error&) {
  }
  try {
    const auto plan = report::read_plan(text, "plan.json");
    if (plan.cuts.empty()) fuzz::contract_broken("a plan without cuts");
    auto other = plan;
    other.source = "other/plan.json";
    const std::vector<report::PlanView> plans{plan, other};
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
