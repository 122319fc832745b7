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
    const auto& c = cuts[k];
    const bool fits = !policy.enclave_memory_bytes || c.enclave_bytes <= *policy.enclave_memory_bytes;
    r.verdicts[k] = {c.id, running, from, running <= policy.threshold, fits,
                     c.enclave_seconds + c.transfer_seconds + c.untrusted_seconds};
  }

  auto& d = r.decision;
  d.threshold = policy.threshold;
  size_t chosen = cuts.size();
  bool any_safe = false;
  for (size_t k = 0; k < cuts.size(); ++k) {
    const auto& v = r.verdicts[k];
    any_safe = any_safe || v.safe;
    if (!v.safe || !v.fits || !cuts[k].eligible) continue;
    if (chosen == cuts.size() || v.latency_seconds < r.verdicts[chosen].latency_seconds) chosen = k;
  }
  if (chosen < cuts.size()) {
    const auto& c = cuts[chosen];
    const auto& v = r.verdicts[chosen];
    d.kind = "binary";
    d.cut_id = c.id;
    d.cut_name = c.name;
    d.leakage = v.envelope;
    d.latency_seconds = v.latency_seconds;
    if (policy.all_enclave_seconds > 0 && v.latency_seconds > 0)
      d.speedup_vs_enclave = policy.all_enclave_seconds / v.latency_seconds;
    const bool by_cost = v.latency_seconds > 0;
    d.reason = fmt::format("cut '{}' (id {}) has envelope SSIM {:.3f}, at or below the threshold {:.2f}, and is the {}",
                           c.name, c.id, v.envelope, policy.threshold,
                           by_cost ? fmt::format("fastest such cut that fits the enclave budget (estimated {:.2f} ms{})",
                                                 v.latency_seconds * 1e3,
                                                 d.speedup_vs_enclave > 0
                                                     ? fmt::format(", {:.1f}x faster than the whole model in the enclave",
                                                                   d.speedup_vs_enclave)
                                                     : std::string())
                                   : std::string("shallowest such cut"));
    if (v.envelope_from != c.id)
      d.reason += fmt::format(" (the envelope comes from deeper cut id {})", v.envelope_from);
    if (chosen > 0 && !r.verdicts[chosen - 1].safe)
      d.reason += fmt::format("; the cut before it, '{}', leaks {:.3f}", cuts[chosen - 1].name,
                              r.verdicts[chosen - 1].envelope);
    d.reason += ".";
  } else {
    size_t best = 0;
    for (size_t k = 1; k < cuts.size(); ++k)
      if (r.verdicts[k].envelope < r.verdicts[best].envelope) best = k;
    d.kind = "none";
    d.leakage = r.verdicts[best].envelope;
    if (any_safe) {
      d.reason = fmt::format("no safe cut fits the enclave memory budget of {:.1f} MiB: raise --enclave-memory-mib "
                             "or accept a deeper split",
                             policy.enclave_memory_bytes.value_or(0) / 1048576.0);
    } else {
      d.reason = fmt::format("no cut is safe at threshold {:.2f}: the lowest envelope SSIM is {:.3f}, at '{}' (id {}).",
                             policy.threshold, r.verdicts[best].envelope, cuts[best].name, cuts[best].id);
      if (!floor_note.empty()) d.reason += " " + floor_note;
    }
  }

  if (policy.fail_above) {
    if (!d.cut_id) {
      d.gate_failed = true;
      d.gate_reason = any_safe ? std::string("no safe cut fits the enclave memory budget")
                               : fmt::format("no safe cut exists at threshold {:.2f}", policy.threshold);
    } else if (d.leakage > *policy.fail_above) {
      d.gate_failed = true;
      d.gate_reason = fmt::format("the plan's leakage {:.3f} exceeds --fail-above {:.3f}", d.leakage, *policy.fail_above);
    }
  }
  return r;
}

}  // namespace partplan::plan
