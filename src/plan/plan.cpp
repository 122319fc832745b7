// Envelope, threshold and gate. See plan.hpp; the tests in tests/plan give known answers.
#include "partplan/plan/plan.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace partplan::plan {

PlanResult decide(const std::vector<CutLeak>& cuts, const Policy& policy, const std::string& floor_note) {
  if (cuts.empty()) throw std::invalid_argument("plan::decide: no cuts measured");
  for (size_t i = 1; i < cuts.size(); ++i)
    if (cuts[i].id <= cuts[i - 1].id) throw std::invalid_argument("plan::decide: cuts not in depth order");

  PlanResult r;
  r.verdicts.resize(cuts.size());
  double running = -1e300;
  int from = cuts.back().id;
  for (size_t k = cuts.size(); k-- > 0;) {
    if (cuts[k].measured >= running) {
      running = cuts[k].measured;
      from = cuts[k].id;
    }
    r.verdicts[k] = {cuts[k].id, running, from, running <= policy.threshold};
  }

  auto& d = r.decision;
  d.threshold = policy.threshold;
  size_t chosen = cuts.size();
  for (size_t k = 0; k < cuts.size(); ++k)
    if (r.verdicts[k].safe) {
      chosen = k;
      break;
    }
  if (chosen < cuts.size()) {
    const auto& c = cuts[chosen];
    const auto& v = r.verdicts[chosen];
    d.kind = "binary";
    d.cut_id = c.id;
    d.cut_name = c.name;
    d.leakage = v.envelope;
    d.reason = fmt::format(
        "cut '{}' (id {}) is the shallowest whose envelope SSIM {:.3f} is at or below the threshold {:.2f}",
        c.name, c.id, v.envelope, policy.threshold);
    if (v.envelope_from != c.id)
      d.reason += fmt::format(" (the envelope comes from deeper cut id {})", v.envelope_from);
    if (chosen > 0)
      d.reason += fmt::format("; the cut before it, '{}', leaks {:.3f}", cuts[chosen - 1].name,
                              r.verdicts[chosen - 1].envelope);
    d.reason += ".";
  } else {
    size_t best = 0;
    for (size_t k = 1; k < cuts.size(); ++k)
      if (r.verdicts[k].envelope < r.verdicts[best].envelope) best = k;
    d.kind = "none";
    d.leakage = r.verdicts[best].envelope;
    d.reason = fmt::format("no cut is safe at threshold {:.2f}: the lowest envelope SSIM is {:.3f}, at '{}' (id {}).",
                           policy.threshold, r.verdicts[best].envelope, cuts[best].name, cuts[best].id);
    if (!floor_note.empty()) d.reason += " " + floor_note;
  }

  if (policy.fail_above) {
    if (!d.cut_id) {
      d.gate_failed = true;
      d.gate_reason = fmt::format("no safe cut exists at threshold {:.2f}", policy.threshold);
    } else if (d.leakage > *policy.fail_above) {
      d.gate_failed = true;
      d.gate_reason = fmt::format("the plan's leakage {:.3f} exceeds --fail-above {:.3f}", d.leakage, *policy.fail_above);
    }
  }
  return r;
}

}  // namespace partplan::plan
