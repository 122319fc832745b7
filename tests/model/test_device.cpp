// The device helpers as the CPU sees them: timing accumulates, nothing is counted, and the
// numerics switch leaves the CPU alone.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "partplan/model/device.hpp"

using namespace partplan;

TEST_CASE("RegionTimer adds up its regions on the CPU", "[model]") {
  model::RegionTimer t("cpu");
  for (int i = 0; i < 3; ++i) {
    t.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    t.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // between regions: not counted
  }
  CHECK(t.seconds() >= 0.06);
  CHECK(t.seconds() < 0.11);
}

TEST_CASE("on the CPU the sync counter is inactive and the numerics unchanged", "[model]") {
  model::SyncCounter s("cpu");
  CHECK_FALSE(s.active());
  CHECK(s.count() == 0);
  CHECK(model::configure_numerics("cpu", true).rfind("cpu", 0) == 0);
  model::AutocastGuard none("cpu", true);  // a no-op off CUDA
}
