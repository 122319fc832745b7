// plan::decide_assessment: from an assessment's cuts to a decision (assessment.hpp).
#include "partplan/plan/assessment.hpp"

namespace partplan::plan {

std::vector<CutLeak> cut_leaks(const pipeline::AssessResult& result) {
  std::vector<CutLeak> leaks;
  for (const auto& c : result.cuts) {
    CutLeak l;
    l.id = c.cut.id;
    l.name = c.cut.name;
    l.measured = c.leak;
    l.worst_attack = c.worst_attack;
    l.enclave_bytes = c.cost.enclave_bytes;
    l.enclave_seconds = c.cost.enclave_seconds;
    l.untrusted_seconds = c.cost.untrusted_seconds;
    l.transfer_seconds = c.cost.transfer_seconds;
    l.eligible = !(result.back_cut && result.back_cut->id == c.cut.id);
    for (const auto& s : c.scores)
      if (s.train.still_improving || s.train.cut_short)  // either way a lower bound
        l.still_improving.push_back(s.train.cut_short ? s.attack + " (cut short by the time budget)" : s.attack);
    leaks.push_back(std::move(l));
  }
  return leaks;
}

PlanResult decide_assessment(const pipeline::AssessResult& result, Policy policy) {
  policy.all_enclave_seconds = result.all_enclave_seconds;
  policy.measure = pipeline::measure_label(result.measure);
  // A two-way split's host sees the prediction: the label-only guess is an attack it always
  // has. A ternary split keeps the prediction inside the enclave.
  if (!result.ternary) policy.floor = result.label_floor;
  const auto leaks = cut_leaks(result);
  PlanResult decided = result.trained ? decide(leaks, policy) : prescreen(leaks, policy);
  if (result.ternary && decided.decision.cut_id) decided.decision.kind = "ternary";
  return decided;
}

}  // namespace partplan::plan
