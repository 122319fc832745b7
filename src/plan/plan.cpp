// Envelope, threshold and gate. See plan.hpp; the tests in tests/plan give known answers.
#include "partplan/plan/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>

namespace partplan::plan {

namespace {

void check_order(const std::vector<CutLeak>& cuts) {
  if (cuts.empty()) throw std::invalid_argument("plan: no cuts measured");
  for (size_t i = 1; i < cuts.size(); ++i)
    if (cuts[i].id <= cuts[i - 1].id) throw std::invalid_argument("plan: cuts not in depth order");
}

// Measurement, budget fit and latency of one cut; the envelope is filled in by the caller.
CutVerdict base_verdict(const CutLeak& c, const Policy& policy) {
  CutVerdict v;
  v.id = c.id;
  v.measured = c.measured;
  v.measured_by = c.worst_attack;
  if (policy.floor && *policy.floor > v.measured) {
    v.measured = *policy.floor;
    v.measured_by = policy.floor_name;
  }
  v.fits = !policy.enclave_memory_bytes || c.enclave_bytes <= *policy.enclave_memory_bytes;
  v.latency_seconds = c.enclave_seconds + c.transfer_seconds + c.untrusted_seconds;
  return v;
}

}  // namespace

PlanResult prescreen(const std::vector<CutLeak>& cuts, const Policy& policy) {
  check_order(cuts);
  PlanResult r;
  for (const auto& c : cuts) {
    auto v = base_verdict(c, policy);
    v.measured = v.envelope = -1;
    v.measured_by.clear();
    v.envelope_from = c.id;
    r.verdicts.push_back(v);
  }
  auto& d = r.decision;
  d.kind = "prescreen";
  d.threshold = policy.threshold;
  d.leakage = -1;
  d.reason =
      "oracle pre-screen only: no attacker was trained, so no cut is called safe; run a trained attacker "
      "(--attack cgan) on the cuts whose oracle KL is closest to zero";
  if (policy.fail_above) {
    d.gate_failed = true;
    d.gate_reason = "a pre-screen cannot pass a leakage gate";
  }
  return r;
}

std::string verdict_text(const CutVerdict& v) {
  if (!v.safe) return "unsafe";
  return v.lower_bound ? "safe (lower bound: attacker still improving)" : "safe";
}

namespace {

/// Every cut's verdict, deepest first: the envelope is the running max from the deepest cut
/// (whoever sees cut k computes every later one), and a safe verdict is a lower bound while
/// an attacker at that cut or deeper was still improving.
std::vector<CutVerdict> envelope_verdicts(const std::vector<CutLeak>& cuts, const Policy& policy) {
  std::vector<CutVerdict> verdicts(cuts.size());
  double running = -1e300;
  int from = cuts.back().id;
  std::vector<std::string> improving;  // at this cut and every deeper one
  for (size_t k = cuts.size(); k-- > 0;) {
    auto v = base_verdict(cuts[k], policy);
    if (v.measured >= running) {
      running = v.measured;
      from = cuts[k].id;
    }
    for (auto it = cuts[k].still_improving.rbegin(); it != cuts[k].still_improving.rend(); ++it) {
      const auto note = it->find(" (");  // "cgan (cut short by the time budget)" -> "cgan@conv1 (cut short ...)"
      improving.insert(improving.begin(), note == std::string::npos
                                              ? *it + "@" + cuts[k].name
                                              : it->substr(0, note) + "@" + cuts[k].name + it->substr(note));
    }
    v.envelope = running;
    v.envelope_from = from;
    v.safe = running <= policy.threshold;
    v.still_improving = improving;
    v.lower_bound = v.safe && !improving.empty();
    verdicts[k] = v;
  }
  return verdicts;
}

/// Among the safe, eligible cuts that fit the budget, the one with the lowest latency (ties:
/// the shallowest); cuts.size() when there is none.
size_t choose(const std::vector<CutLeak>& cuts, const std::vector<CutVerdict>& verdicts) {
  size_t chosen = cuts.size();
  for (size_t k = 0; k < cuts.size(); ++k) {
    const auto& v = verdicts[k];
    if (!v.safe || !v.fits || !cuts[k].eligible) continue;
    if (chosen == cuts.size() || v.latency_seconds < verdicts[chosen].latency_seconds) chosen = k;
  }
  return chosen;
}

/// The decision for the chosen cut, with the reason a person reads.
void decide_chosen(const std::vector<CutLeak>& cuts, const std::vector<CutVerdict>& verdicts, size_t chosen,
                   const Policy& policy, Decision& d) {
  const auto& c = cuts[chosen];
  const auto& v = verdicts[chosen];
  d.kind = "binary";
  d.cut_id = c.id;
  d.cut_name = c.name;
  d.leakage = v.envelope;
  d.latency_seconds = v.latency_seconds;
  if (policy.all_enclave_seconds > 0 && v.latency_seconds > 0)
    d.speedup_vs_enclave = policy.all_enclave_seconds / v.latency_seconds;
  const bool by_cost = v.latency_seconds > 0;
  d.reason = fmt::format(
      "cut '{}' (id {}) has envelope {} {:.3f}, at or below the threshold {:.2f}, and is the {}", c.name, c.id,
      policy.measure, v.envelope, policy.threshold,
      by_cost ? fmt::format(
                    "fastest such cut that fits the enclave budget (estimated {:.2f} ms{})", v.latency_seconds * 1e3,
                    d.speedup_vs_enclave > 0
                        ? fmt::format(", {:.1f}x faster than the whole model in the enclave", d.speedup_vs_enclave)
                        : std::string())
              : std::string("shallowest such cut"));
  if (v.envelope_from != c.id) d.reason += fmt::format(" (the envelope comes from deeper cut id {})", v.envelope_from);
  if (chosen > 0 && !verdicts[chosen - 1].safe)
    d.reason +=
        fmt::format("; the cut before it, '{}', leaks {:.3f}", cuts[chosen - 1].name, verdicts[chosen - 1].envelope);
  d.reason += ".";
  if (v.lower_bound)
    d.reason += fmt::format(
        " This is a lower bound: {} {} still improving when the budget ran out; raise "
        "budget.steps (--steps) or --time-budget until it levels off.",
        fmt::join(v.still_improving, ", "), v.still_improving.size() == 1 ? "was" : "were");
}

/// The cut with the lowest envelope among those that could be chosen (all cuts when none could).
size_t lowest_envelope(const std::vector<CutLeak>& cuts, const std::vector<CutVerdict>& verdicts) {
  size_t best = cuts.size();
  for (size_t k = 0; k < cuts.size(); ++k)
    if (cuts[k].eligible && (best == cuts.size() || verdicts[k].envelope < verdicts[best].envelope)) best = k;
  if (best < cuts.size()) return best;
  best = 0;
  for (size_t k = 1; k < cuts.size(); ++k)
    if (verdicts[k].envelope < verdicts[best].envelope) best = k;
  return best;
}

/// The decision when nothing was chosen: each way has its own reason. Returns what the gate
/// says about it.
std::string decide_none(const std::vector<CutLeak>& cuts, const std::vector<CutVerdict>& verdicts,
                        const Policy& policy, Decision& d) {
  std::vector<size_t> safe_choosable, safe_back;
  for (size_t k = 0; k < cuts.size(); ++k)
    if (verdicts[k].safe) (cuts[k].eligible ? safe_choosable : safe_back).push_back(k);
  const size_t best = lowest_envelope(cuts, verdicts);
  d.kind = "none";
  d.leakage = verdicts[best].envelope;
  if (!safe_choosable.empty()) {
    size_t smallest = safe_choosable.front();
    for (size_t k : safe_choosable)
      if (cuts[k].enclave_bytes < cuts[smallest].enclave_bytes) smallest = k;
    d.reason = fmt::format(
        "{} cut(s) are safe at threshold {:.2f}, but none fits the enclave memory budget of {:.1f} MiB: the "
        "smallest, '{}' (id {}), needs {:.1f} MiB; raise --enclave-memory-mib (SGX2 and TDX machines have far "
        "more than SGX1's 93 MiB) or use a smaller model",
        safe_choosable.size(), policy.threshold, policy.enclave_memory_bytes.value_or(0) / 1048576.0,
        cuts[smallest].name, cuts[smallest].id, cuts[smallest].enclave_bytes / 1048576.0);
    return "no safe cut fits the enclave memory budget";
  }
  if (!safe_back.empty()) {
    const auto& back = cuts[safe_back.front()];
    d.reason = fmt::format(
        "no front cut is safe at threshold {:.2f}: the only safe cut is the ternary back cut '{}' (id {}, "
        "envelope {} {:.3f}), which the enclave runs from, not a front cut; the lowest envelope of a front cut "
        "is {:.3f}, at '{}' (id {}). Raise the threshold, or choose a deeper back cut (--back-cut)",
        policy.threshold, back.name, back.id, policy.measure, verdicts[safe_back.front()].envelope,
        verdicts[best].envelope, cuts[best].name, cuts[best].id);
    return fmt::format("no front cut is safe at threshold {:.2f} (only the ternary back cut is)", policy.threshold);
  }
  d.reason = fmt::format("no cut is safe at threshold {:.2f}: the lowest envelope {} is {:.3f}, at '{}' (id {}).",
                         policy.threshold, policy.measure, verdicts[best].envelope, cuts[best].name, cuts[best].id);
  if (policy.floor)
    d.reason += fmt::format(
        " The {} guess, which the host always has, scores {} {:.3f}: no cut of this "
        "split can score below it.",
        policy.floor_name, policy.measure, *policy.floor);
  return fmt::format("no safe cut exists at threshold {:.2f}", policy.threshold);
}

/// The CI gate (policy.fail_above): fails with no chosen cut, above fail_above, or on a
/// lower bound unless accept_unconverged.
void apply_gate(const std::vector<CutVerdict>& verdicts, size_t chosen, const std::string& none_gate_reason,
                const Policy& policy, Decision& d) {
  if (!policy.fail_above) return;
  if (!d.cut_id) {
    d.gate_failed = true;
    d.gate_reason = none_gate_reason;
  } else if (d.leakage > *policy.fail_above) {
    d.gate_failed = true;
    d.gate_reason = fmt::format("the plan's leakage {:.3f} exceeds --fail-above {:.3f}", d.leakage, *policy.fail_above);
  } else if (verdicts[chosen].lower_bound && !policy.accept_unconverged) {
    d.gate_failed = true;
    d.gate_reason = fmt::format(
        "cut '{}' is safe only as a lower bound ({} still improving): raise budget.steps (--steps) or --time-budget, or pass "
        "--accept-unconverged to gate on the lower bound",
        d.cut_name, fmt::join(verdicts[chosen].still_improving, ", "));
  }
}

}  // namespace

PlanResult decide(const std::vector<CutLeak>& cuts, const Policy& policy) {
  check_order(cuts);
  PlanResult r;
  r.verdicts = envelope_verdicts(cuts, policy);
  r.decision.threshold = policy.threshold;
  const size_t chosen = choose(cuts, r.verdicts);
  std::string none_gate_reason;
  if (chosen < cuts.size())
    decide_chosen(cuts, r.verdicts, chosen, policy, r.decision);
  else
    none_gate_reason = decide_none(cuts, r.verdicts, policy, r.decision);
  apply_gate(r.verdicts, chosen, none_gate_reason, policy, r.decision);
  if (policy.confidential_gpu)
    r.decision.reason +=
        " The untrusted side is a GPU in confidential-computing mode (H100/H200 CC): it keeps inputs, weights and "
        "activations encrypted outside the GPU and attests itself, so the host sees no feature map and no split is "
        "needed for confidentiality; the whole model can run there. This plan's split matters only if that GPU's "
        "attestation is not part of the trust model.";
  return r;
}

}  // namespace partplan::plan
