// PhaseClock: exclusive wall seconds per phase, on a fake clock with known readings.
#include <catch2/catch.hpp>

#include <vector>

#include "src/pipeline/phase_clock.hpp"

using partplan::pipeline::Phase;
using partplan::pipeline::PhaseClock;

TEST_CASE("a phase entered inside another stops the outer phase's clock", "[pipeline][phase_clock]") {
  double now = 100;
  PhaseClock clock([&now] { return now; });
  {
    const auto data = clock.enter(Phase::kData);
    now += 2;  // data: 2
  }
  now += 50;  // between phases: charged to none
  {
    const auto train = clock.enter(Phase::kTrain);
    now += 3;  // train: 3
    {
      const auto score = clock.enter(Phase::kScore);
      now += 4;  // score: 4
      {
        const auto wb = clock.enter(Phase::kWhitebox);
        now += 5;  // whitebox: 5
      }
      now += 1;  // score: 5
    }
    now += 6;  // train: 9
    {
      const auto score = clock.enter(Phase::kScore);
      now += 0.5;  // score: 5.5
    }
  }
  const auto t = clock.totals();
  REQUIRE(t.size() == 4);  // only the phases entered, in Phase order
  CHECK(t[0].phase == Phase::kData);
  CHECK(t[0].seconds == 2);
  CHECK(t[1].phase == Phase::kTrain);
  CHECK(t[1].seconds == 9);
  CHECK(t[2].phase == Phase::kScore);
  CHECK(t[2].seconds == 5.5);
  CHECK(t[3].phase == Phase::kWhitebox);
  CHECK(t[3].seconds == 5);
}

TEST_CASE("a scope of no clock does nothing", "[pipeline][phase_clock]") {
  const PhaseClock::Scope none(nullptr, Phase::kCost);
  PhaseClock clock([] { return 0.0; });
  CHECK(clock.totals().empty());
}
