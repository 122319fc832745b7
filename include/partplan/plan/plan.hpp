#pragma once
// The planner: measurements and policy in, decision and reasons out. Pure: no torch, no
// I/O, no JSON; every number it uses is an argument.

#include <optional>
#include <string>
#include <vector>

namespace partplan::plan {

/// One cut's measured leakage: the highest mean of the headline measure (SSIM for images,
/// re-identification for records) any attacker (or the label-only guess) reached on eval.
struct CutLeak {
  int id = 0;  ///< cut id (depth order)
  std::string name;
  double measured = 0;       ///< max over attackers of the mean eval headline measure
  std::string worst_attack;  ///< the attacker that reached it
  // Cost of splitting here (per inference, batch 1).
  double enclave_bytes = 0;      ///< weights + peak activations the enclave holds
  double enclave_seconds = 0;    ///< estimated enclave time (native CPU time x TEE slowdown)
  double untrusted_seconds = 0;  ///< estimated time of the untrusted part
  double transfer_seconds = 0;   ///< moving the cut tensor across the boundary
  bool eligible = true;          ///< may be chosen (a ternary split's back cut counts in the envelope only)
  /// Attackers at this cut whose validation SSIM was still rising when the budget ran out
  /// (attacks::TrainStats::still_improving): its measurement is a lower bound.
  std::vector<std::string> still_improving;
};

/// Decision policy.
struct Policy {
  double threshold = 0.3;                      ///< a cut is safe when its envelope <= threshold
  std::optional<double> fail_above;            ///< CI gate: fail when the plan's leakage exceeds this or no cut is safe
  std::optional<double> enclave_memory_bytes;  ///< budget; a cut whose enclave_bytes exceed it is infeasible
  double all_enclave_seconds = 0;              ///< the whole model in the enclave, for the speed-up; 0 = unknown
  /// A guess the host always has without any feature (in a two-way split: the average image
  /// of the predicted class), in the headline measure. No cut leaks less than it; unset where
  /// it does not apply.
  std::optional<double> floor;
  std::string floor_name = "label-prototype";
  /// Let the gate pass a chosen cut whose safety is a lower bound (CutVerdict::lower_bound).
  bool accept_unconverged = false;
  /// The untrusted accelerator is a GPU in confidential-computing mode (H100/H200 CC): the
  /// decision then says that a split is not needed for confidentiality (docs/runtime.md).
  bool confidential_gpu = false;
  std::string measure = "SSIM";  ///< the headline measure's name, for the reasons ("re-identification")
};

/// The envelope and verdict of one cut.
struct CutVerdict {
  int id = 0;
  double measured = 0;      ///< max of the cut's headline measure over attackers and the policy's floor
  std::string measured_by;  ///< the attacker that reached it, or the floor's name
  double envelope = 0;      ///< max of measured over this cut and every deeper one
  int envelope_from = 0;    ///< the cut id where that max was measured
  bool safe = false;        ///< envelope <= threshold
  /// Safe, but an attacker at this cut or a deeper one was still improving: the envelope is a
  /// lower bound that a longer budget may break. Shown as "safe (lower bound: attacker still
  /// improving)".
  bool lower_bound = false;
  std::vector<std::string> still_improving;  ///< "attack@cut" for each such attacker (this cut and deeper)
  bool fits = true;                          ///< enclave_bytes within the memory budget (true without a budget)
  double latency_seconds = 0;                ///< enclave + transfer + untrusted
};

struct Decision {
  std::string kind = "binary";  ///< "binary"; "none" when no cut is safe
  std::optional<int> cut_id;    ///< the chosen cut
  std::string cut_name;
  double threshold = 0;
  double leakage = 0;        ///< envelope SSIM at the chosen cut, or the lowest envelope when none is safe
  std::string reason;        ///< one or two sentences for people
  bool gate_failed = false;  ///< only with policy.fail_above
  std::string gate_reason;
  double latency_seconds = 0;     ///< estimated end-to-end latency of the chosen split
  double speedup_vs_enclave = 0;  ///< all_enclave_seconds / latency_seconds; 0 when unknown
};

struct PlanResult {
  std::vector<CutVerdict> verdicts;  ///< same order as the input
  Decision decision;
};

/// "safe", "unsafe" or "safe (lower bound: attacker still improving)".
std::string verdict_text(const CutVerdict& v);

/// Apply the envelope, the threshold and the budget. `cuts` must be in depth order (ascending
/// id) and end where the host's view ends (the last cut, or a ternary split's back cut);
/// leak(k) = max over k' >= k of measured(k'): whoever sees cut k can compute every later cut,
/// so a dip in the measured curve means a weak attacker there, not a safe cut. The decision
/// is, among the safe cuts that fit the enclave memory budget, the one with the lowest
/// estimated latency (ties: the shallowest). Without cost estimates (all zero) that is the
/// shallowest safe cut. With policy.fail_above the gate fails when no cut is chosen, when the
/// chosen cut's envelope exceeds fail_above, or when the chosen cut is safe only as a lower
/// bound (unless policy.accept_unconverged).
/// Throws std::invalid_argument on empty or unordered input.
PlanResult decide(const std::vector<CutLeak>& cuts, const Policy& policy);

/// For a pre-screen that trained no attacker (`measured` unknown): every cut gets its cost,
/// budget fit and latency, none is called safe, and the decision is "prescreen". The gate,
/// when set, fails: a pre-screen cannot vouch for a cut.
PlanResult prescreen(const std::vector<CutLeak>& cuts, const Policy& policy);

}  // namespace partplan::plan
