#include <catch2/catch.hpp>

#include "partplan/plan/assessment.hpp"
#include "partplan/plan/plan.hpp"

using namespace partplan::plan;

namespace {
std::vector<CutLeak> table(const std::vector<double>& measured) {
  std::vector<CutLeak> out;
  for (size_t i = 0; i < measured.size(); ++i)
    out.push_back({static_cast<int>(i), "c" + std::to_string(i), measured[i], "cgan", 0, 0, 0, 0, true, {}});
  return out;
}
}  // namespace

TEST_CASE("envelope is the max over the cut and every deeper one", "[plan]") {
  auto r = decide(table({0.99, 0.5, 0.2, 0.45, 0.1}), {});
  std::vector<double> env;
  for (const auto& v : r.verdicts) env.push_back(v.envelope);
  CHECK(env == std::vector<double>{0.99, 0.5, 0.45, 0.45, 0.1});
  CHECK(r.verdicts[2].envelope_from == 3);
  // The dip at c2 (0.2) is a weak attacker, not a safe cut: c4 is the first safe one.
  CHECK(r.decision.cut_id == 4);
  CHECK(r.decision.kind == "binary");
  CHECK(r.decision.leakage == 0.1);
}

TEST_CASE("the shallowest safe cut is chosen", "[plan]") {
  auto r = decide(table({0.9, 0.6, 0.29, 0.25, 0.2}), {0.3, std::nullopt});
  CHECK(r.decision.cut_id == 2);
  CHECK(r.decision.cut_name == "c2");
  CHECK(r.decision.reason.find("c1") != std::string::npos);
  CHECK_FALSE(r.decision.gate_failed);
  auto strict = decide(table({0.9, 0.6, 0.29, 0.25, 0.2}), {0.22, std::nullopt});
  CHECK(strict.decision.cut_id == 4);
}

TEST_CASE("no safe cut says so, and the gate fails", "[plan]") {
  auto r = decide(table({0.9, 0.6, 0.4}), {0.3, 0.5});
  CHECK_FALSE(r.decision.cut_id.has_value());
  CHECK(r.decision.kind == "none");
  CHECK(r.decision.leakage == 0.4);
  CHECK(r.decision.reason == "no cut is safe at threshold 0.30: the lowest envelope SSIM is 0.400, at 'c2' (id 2).");
  CHECK(r.decision.gate_failed);
  CHECK(r.decision.gate_reason == "no safe cut exists at threshold 0.30");
  // Without a gate there is no gate reason.
  CHECK(decide(table({0.9, 0.6, 0.4}), {0.3, std::nullopt}).decision.gate_reason.empty());
}

TEST_CASE("the floor guess raises every cut's measured leakage to at least its score", "[plan]") {
  Policy p;
  p.floor = 0.36;
  auto r = decide(table({0.9, 0.6, 0.2}), p);
  CHECK(r.verdicts[2].measured == 0.36);
  CHECK(r.verdicts[2].measured_by == "label-prototype");
  CHECK(r.verdicts[1].measured_by == "cgan");
  CHECK_FALSE(r.decision.cut_id.has_value());  // 0.2 alone would have been safe
  CHECK(r.decision.reason.find("label-prototype guess") != std::string::npos);
  CHECK(r.decision.reason.find("0.360") != std::string::npos);
}

TEST_CASE("a pre-screen calls no cut safe and fails any gate", "[plan]") {
  auto t = table({0.1, 0.05});
  t[1].enclave_bytes = 200.0 * 1048576;
  Policy p;
  p.enclave_memory_bytes = 93.0 * 1048576;
  auto r = prescreen(t, p);
  CHECK(r.decision.kind == "prescreen");
  CHECK_FALSE(r.decision.cut_id.has_value());
  CHECK_FALSE(r.verdicts[0].safe);
  CHECK(r.verdicts[0].fits);
  CHECK_FALSE(r.verdicts[1].fits);
  CHECK_FALSE(r.decision.gate_failed);
  p.fail_above = 0.5;
  CHECK(prescreen(t, p).decision.gate_failed);
}

TEST_CASE("gate fails when the chosen cut leaks more than --fail-above", "[plan]") {
  auto pass = decide(table({0.9, 0.25}), {0.3, 0.3});
  CHECK_FALSE(pass.decision.gate_failed);
  auto fail = decide(table({0.9, 0.25}), {0.3, 0.2});
  CHECK(fail.decision.gate_failed);
  CHECK(fail.decision.gate_reason.find("0.250") != std::string::npos);
}

TEST_CASE("bad input is refused", "[plan]") {
  CHECK_THROWS(decide({}, {}));
  auto t = table({0.5, 0.4});
  std::swap(t[0], t[1]);
  CHECK_THROWS(decide(t, {}));
}

TEST_CASE("the memory budget and the latency estimate change the decision", "[plan]") {
  // Envelope: c1..c3 safe. Enclave bytes grow with depth; c2 moves a small tensor.
  auto t = table({0.9, 0.25, 0.2, 0.1});
  const double mib = 1048576.0;
  const double bytes[] = {10 * mib, 50 * mib, 80 * mib, 120 * mib};
  const double enclave[] = {0.002, 0.010, 0.012, 0.030};
  const double transfer[] = {0.010, 0.008, 0.001, 0.001};
  const double untrusted[] = {0.004, 0.003, 0.002, 0.001};
  for (size_t i = 0; i < t.size(); ++i) {
    t[i].enclave_bytes = bytes[i];
    t[i].enclave_seconds = enclave[i];
    t[i].transfer_seconds = transfer[i];
    t[i].untrusted_seconds = untrusted[i];
  }
  Policy p;
  p.all_enclave_seconds = 0.060;
  auto free_budget = decide(t, p);
  CHECK(free_budget.decision.cut_id == 2);  // 15 ms beats c1's 21 ms and c3's 32 ms
  CHECK(free_budget.decision.latency_seconds == Approx(0.015));
  CHECK(free_budget.decision.speedup_vs_enclave == Approx(4.0));
  CHECK(free_budget.decision.reason.find("fastest") != std::string::npos);

  p.enclave_memory_bytes = 64 * mib;  // c2 (80 MiB) no longer fits
  auto tight = decide(t, p);
  CHECK(tight.decision.cut_id == 1);
  CHECK_FALSE(tight.verdicts[2].fits);

  p.enclave_memory_bytes = 5 * mib;  // nothing fits
  p.fail_above = 0.5;
  auto none = decide(t, p);
  CHECK_FALSE(none.decision.cut_id.has_value());
  CHECK(none.decision.reason ==
        "3 cut(s) are safe at threshold 0.30, but none fits the enclave memory budget of 5.0 MiB: the smallest, "
        "'c1' (id 1), needs 50.0 MiB; raise --enclave-memory-mib (SGX2 and TDX machines have far more than SGX1's "
        "93 MiB) or use a smaller model");
  CHECK(none.decision.gate_failed);
  CHECK(none.decision.gate_reason == "no safe cut fits the enclave memory budget");
}

TEST_CASE("an ineligible cut (a ternary back cut) shapes the envelope but is never chosen", "[plan]") {
  auto t = table({0.9, 0.8, 0.2});
  t[2].eligible = false;
  auto r = decide(t, {0.3, 0.5});
  CHECK_FALSE(r.decision.cut_id.has_value());
  // Its own reason: the back cut is safe, no front cut is (not "does not fit the budget").
  CHECK(r.decision.reason ==
        "no front cut is safe at threshold 0.30: the only safe cut is the ternary back cut 'c2' (id 2, envelope "
        "SSIM 0.200), which the enclave runs from, not a front cut; the lowest envelope of a front cut is 0.800, "
        "at 'c1' (id 1). Raise the threshold, or choose a deeper back cut (--back-cut)");
  CHECK(r.decision.leakage == Approx(0.8));  // of the cuts that could be chosen
  CHECK(r.decision.gate_reason == "no front cut is safe at threshold 0.30 (only the ternary back cut is)");
  t = table({0.9, 0.25, 0.2});
  t[2].eligible = false;
  CHECK(decide(t, {0.3, std::nullopt}).decision.cut_id == 1);
  t[2].measured = 0.5;  // the back cut leaks: the envelope makes c1 unsafe too
  CHECK_FALSE(decide(t, {0.3, std::nullopt}).decision.cut_id.has_value());
}

TEST_CASE("a safe cut whose attacker was still improving is a lower bound, and fails the gate", "[plan]") {
  auto cuts = table({0.9, 0.5, 0.25, 0.2});
  cuts[3].still_improving = {"cgan"};  // the deepest cut: it bounds every cut's envelope
  Policy p;
  p.threshold = 0.3;
  p.fail_above = 0.3;
  auto r = decide(cuts, p);
  REQUIRE(r.decision.cut_id == 2);
  CHECK(r.verdicts[2].lower_bound);
  CHECK(verdict_text(r.verdicts[2]) == "safe (lower bound: attacker still improving)");
  CHECK(r.verdicts[2].still_improving == std::vector<std::string>{"cgan@c3"});
  CHECK_FALSE(r.verdicts[1].lower_bound);  // unsafe stays unsafe
  CHECK(verdict_text(r.verdicts[1]) == "unsafe");
  CHECK(r.decision.reason.find("budget.steps") != std::string::npos);
  CHECK(r.decision.gate_failed);
  CHECK(r.decision.gate_reason.find("--accept-unconverged") != std::string::npos);
  p.accept_unconverged = true;
  auto accepted = decide(cuts, p);
  CHECK_FALSE(accepted.decision.gate_failed);
  CHECK(accepted.verdicts[2].lower_bound);  // still reported as a lower bound
  // Converged everywhere: a plain "safe" and a passing gate.
  p.accept_unconverged = false;
  auto converged = decide(table({0.9, 0.5, 0.25, 0.2}), p);
  CHECK(verdict_text(converged.verdicts[2]) == "safe");
  CHECK_FALSE(converged.decision.gate_failed);
}

TEST_CASE("decide_assessment: the assessment completes the policy (floor, measure, ternary kind)", "[plan]") {
  partplan::pipeline::AssessResult r;
  const double leaks[] = {0.9, 0.5, 0.2};
  for (int i = 0; i < 3; ++i) {
    partplan::pipeline::CutAssessment ca;
    ca.cut.id = i;
    ca.cut.name = "c" + std::to_string(i);
    ca.leak = leaks[i];
    ca.worst_attack = "cgan";
    partplan::pipeline::AttackScore s;
    s.attack = "cgan";
    s.train.still_improving = i == 2;
    ca.scores.push_back(s);
    r.cuts.push_back(ca);
  }
  r.label_floor = 0.25;
  partplan::plan::Policy policy;
  policy.threshold = 0.3;
  auto d = partplan::plan::decide_assessment(r, policy);
  REQUIRE(d.decision.cut_id == 2);
  CHECK(d.verdicts[2].measured == Approx(0.25));  // the label-only floor of a two-way split
  CHECK(d.verdicts[2].lower_bound);               // cgan@c2 was still improving
  // Cut short by a time budget instead: a lower bound too, said so, and the gate fails on it.
  r.cuts[2].scores[0].train.still_improving = false;
  r.cuts[2].scores[0].train.cut_short = true;
  auto gated = policy;
  gated.fail_above = 0.3;
  const auto cs = partplan::plan::decide_assessment(r, gated);
  CHECK(cs.verdicts[2].lower_bound);
  CHECK(cs.verdicts[2].still_improving == std::vector<std::string>{"cgan@c2 (cut short by the time budget)"});
  CHECK(cs.decision.gate_failed);
  CHECK(cs.decision.gate_reason.find("--time-budget") != std::string::npos);
  r.cuts[2].scores[0].train.cut_short = false;
  CHECK_FALSE(partplan::plan::decide_assessment(r, policy).verdicts[2].lower_bound);
  r.cuts[2].scores[0].train.still_improving = true;
  CHECK(d.decision.reason.find("envelope SSIM 0.250") != std::string::npos);
  r.measure = "reidentification";
  CHECK(partplan::plan::decide_assessment(r, policy).decision.reason.find("envelope re-identification") !=
        std::string::npos);
  // A ternary split keeps the prediction in the enclave: no floor; its back cut is not eligible.
  r.ternary = true;
  r.label_floor = 0.35;
  r.back_cut = r.cuts[2].cut;
  const auto t = partplan::plan::decide_assessment(r, policy);
  CHECK(t.decision.kind == "none");  // the back cut alone is safe, and it cannot be chosen
  r.back_cut.reset();
  const auto t2 = partplan::plan::decide_assessment(r, policy);
  CHECK(t2.decision.kind == "ternary");
  CHECK(t2.verdicts[2].measured == Approx(0.2));
}

TEST_CASE("with a confidential GPU the decision says no split is needed, and decides the same", "[plan]") {
  Policy cc;
  cc.confidential_gpu = true;
  const auto plain = decide(table({0.9, 0.6, 0.29, 0.25}), {});
  const auto with_cc = decide(table({0.9, 0.6, 0.29, 0.25}), cc);
  CHECK(with_cc.decision.cut_id == plain.decision.cut_id);
  CHECK_THAT(with_cc.decision.reason, Catch::StartsWith(plain.decision.reason) &&
                                          Catch::Contains("no split is needed for confidentiality"));
  CHECK(plain.decision.reason.find("confidential") == std::string::npos);
}
