// The time model (time_plan.hpp): phase estimates, the --time-budget fit and the ETA, on
// workloads whose answers are worked out by hand. No clock is read.
#include <catch2/catch.hpp>

#include "partplan/common/error.hpp"
#include "partplan/pipeline/time_plan.hpp"

using namespace partplan::pipeline;
using Catch::Detail::Approx;

namespace {

double of(const PhaseSeconds& s, Phase p) { return s[static_cast<size_t>(p)]; }

/// Two cuts; forward 0.01 s per image, batch 8, 100/20/50 images.
Workload two_cuts() {
  Workload w;
  w.forward = 0.01;
  w.batch = 8;
  w.n_train = 100;
  w.n_val = 20;
  w.n_eval = 50;
  w.classifier = true;
  w.oracle_images = 40;
  w.cost_runs = 12;
  w.steps = 100;
  w.eval_every = 50;
  w.whitebox_images = 40;
  w.whitebox_iterations = 200;
  CutRates a;  // shallow: front 10% of the model
  a.front_fraction = 0.1;
  a.step = 0.2;
  a.reconstruct = 0.001;
  a.attackers = 1;
  a.whitebox = 0.001;
  a.whitebox_starts = 2;
  CutRates b = a;  // deep: 50%, no white-box (above the GFLOP cap)
  b.front_fraction = 0.5;
  b.step = 0.3;
  b.whitebox = 0;
  b.whitebox_starts = 0;
  w.cuts = {a, b};
  return w;
}

}  // namespace

TEST_CASE("phase estimates follow the documented formulas", "[pipeline][time_plan]") {
  const auto e = estimate_phases(two_cuts());
  CHECK(of(e, Phase::kData) == 0);
  CHECK(of(e, Phase::kStats) == Approx(1.0));  // 100 * 0.01
  // reference 50*0.01 = 0.5; reconstructions 50*(0.01*0.5 + 0.002) = 0.35; semantic 50*2*0.01 = 1.0
  CHECK(of(e, Phase::kScore) == Approx(1.85));
  CHECK(of(e, Phase::kOracle) == Approx(0.4));
  // 100 * (8*0.01*0.5 + 0.5) = 54; 2 checks * 20 * (0.005 + 0.002) = 0.28
  CHECK(of(e, Phase::kTrain) == Approx(54.28));
  CHECK(of(e, Phase::kWhitebox) == Approx(16.0));  // 40 * 2 * 200 * 0.001
  CHECK(of(e, Phase::kCost) == Approx(0.12));
  CHECK(total_seconds(e) == Approx(1.0 + 1.85 + 0.4 + 54.28 + 16.0 + 0.12));
}

TEST_CASE("a budget that fits reduces nothing", "[pipeline][time_plan]") {
  const auto fit = fit_budget(two_cuts(), 200, 5);  // 5 + 73.65 <= 180
  CHECK(fit.reductions.empty());
  CHECK(fit.fits);
  CHECK(fit.steps == 100);
  CHECK(fit.whitebox_images == 40);
  CHECK(fit.whitebox_iterations == 200);
  CHECK(fit.estimated_seconds == Approx(5 + 73.65));
}

TEST_CASE("the budget takes white-box images first, then steps, then iterations", "[pipeline][time_plan]") {
  const auto w = two_cuts();
  // The fixed phases: 1 + 1.85 + 0.4 + 0.12 = 3.37 s; spent 5 s; plan to 0.9 of the budget.
  SECTION("images only") {
    // 0.9*80 - 5 = 67 = 3.37 + 54.28 + images * 0.4  ->  images = floor(9.35 / 0.4) = 23
    const auto fit = fit_budget(w, 80, 5);
    CHECK(fit.whitebox_images == 23);
    CHECK(fit.steps == 100);
    CHECK(fit.whitebox_iterations == 200);
    REQUIRE(fit.reductions.size() == 1);
    CHECK(fit.reductions[0] == "white-box images per cut 40 -> 23");
    CHECK(fit.fits);
  }
  SECTION("images to one batch, then steps") {
    // 0.9*50 - 5 = 40; images floor 8 (the batch): 3.2 s; train may take 40 - 3.37 - 3.2 = 33.43 s:
    // steps * 0.54 + ceil(steps/50) * 0.14  ->  61 steps (32.94 + 0.28 = 33.22), 62 would be 33.76
    const auto fit = fit_budget(w, 50, 5);
    CHECK(fit.whitebox_images == 8);
    CHECK(fit.steps == 61);
    CHECK(fit.whitebox_iterations == 200);
    REQUIRE(fit.reductions.size() == 2);
    CHECK(fit.reductions[1] == "training steps per cut 100 -> 61");
    CHECK(fit.fits);
  }
  SECTION("steps to one check, then iterations") {
    // 0.9*40 - 5 = 31; steps floor 50: 27 + 0.14 = 27.14; white-box 8 images * 2 starts * it * 0.001
    // may take 31 - 3.37 - 27.14 = 0.49 s  ->  it = floor(0.49 / 0.016) = 30, below the floor of 50
    const auto fit = fit_budget(w, 40, 5);
    CHECK(fit.steps == 50);
    CHECK(fit.whitebox_iterations == 50);
    CHECK_FALSE(fit.fits);  // even the floors exceed the budget
    CHECK(fit.reductions.size() == 3);
  }
}

TEST_CASE("steps_within: the steps a budget affords from the measured rate", "[pipeline][time_plan]") {
  CHECK(steps_within(10, 0.5, 50, 100, 50) == 70);   // 20 more
  CHECK(steps_within(100, 0.5, 50, 100, 50) == 100);  // never above the limit
  CHECK(steps_within(-3, 0.5, 60, 100, 50) == 60);    // never below the steps run
  CHECK(steps_within(0, 0.5, 10, 100, 50) == 50);     // nor below the floor
  CHECK(steps_within(5, 0, 10, 100, 50) == 100);      // no rate measured: unchanged
}

TEST_CASE("parse_duration reads h, m, s and plain seconds", "[pipeline][time_plan]") {
  CHECK(parse_duration("15m") == 900);
  CHECK(parse_duration("90s") == 90);
  CHECK(parse_duration("1h30m") == 5400);
  CHECK(parse_duration("900") == 900);
  CHECK(parse_duration("2.5m") == 150);
  for (const char* bad : {"", "abc", "15x", "m", "0", "-5m", "15m3", "1..5m"})
    CHECK_THROWS_AS(parse_duration(bad), partplan::UsageError);
  CHECK_THROWS_WITH(parse_duration("fifteen"), Catch::Contains("'fifteen' is not a duration") &&
                                                   Catch::Contains("15m"));
}

TEST_CASE("the ETA corrects a running phase from its measured ratio", "[pipeline][time_plan]") {
  EtaModel eta;
  CHECK(eta.eta({}) == -1);  // nothing planned: unknown
  eta.plan(Phase::kStats, {10});
  eta.plan(Phase::kTrain, {100});
  eta.plan(Phase::kWhitebox, {10, 10});
  PhaseSeconds spent{};
  CHECK(eta.eta(spent) == Approx(130));  // nothing started: the estimates
  // Train half done in 75 s (estimated 50): ratio (75 + 10) / (50 + 10) = 85/60.
  eta.finish(Phase::kStats);
  eta.progress(Phase::kTrain, 0, 0.5);
  spent[static_cast<size_t>(Phase::kTrain)] = 75;
  CHECK(eta.remaining(Phase::kTrain, 75) == Approx(50.0 * 85 / 60));
  CHECK(eta.eta(spent) == Approx(50.0 * 85 / 60 + 20));
  // White-box: the first cut done in 5 s (estimated 10): ratio (5 + 2) / (10 + 2).
  eta.finish(Phase::kTrain);
  eta.progress(Phase::kWhitebox, 0, 1.0);
  CHECK(eta.remaining(Phase::kWhitebox, 5) == Approx(10.0 * 7 / 12));
  eta.progress(Phase::kWhitebox, 7, 1.0);  // no such item: ignored
  CHECK(eta.remaining(Phase::kWhitebox, 5) == Approx(10.0 * 7 / 12));
  eta.finish(Phase::kWhitebox);
  CHECK(eta.eta(spent) == 0);
}
