#pragma once
// The planner applied to an assessment: its cuts become CutLeak rows and the result's own
// facts complete the policy (the measure's name, the label-only floor of a two-way split, the
// whole model's enclave time), so that every front end decides the same way. Torch-free.

#include "partplan/pipeline/assess.hpp"
#include "partplan/plan/plan.hpp"

namespace partplan::plan {

/// One CutLeak per assessed cut, in depth order: measured = its leak, the cost figures, and
/// the attackers still improving there; a ternary split's back cut is not eligible.
std::vector<CutLeak> cut_leaks(const pipeline::AssessResult& result);

/// decide() (or prescreen() when no attacker trained) on `result` with `policy` completed from
/// it: measure ("SSIM" or "re-identification"), all_enclave_seconds, and, for a two-way split,
/// the label-prototype floor (a ternary split keeps the prediction in the enclave). A ternary
/// split with a chosen cut gets kind "ternary". Same errors as decide().
PlanResult decide_assessment(const pipeline::AssessResult& result, Policy policy);

}  // namespace partplan::plan
