// The device helpers as the CPU sees them: timing accumulates, nothing is counted, and the
// numerics switch leaves the CPU alone.
#include <catch2/catch.hpp>
#include <dlfcn.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "partplan/model/device.hpp"
#include "partplan/model/model.hpp"

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

TEST_CASE("set_threads gives OpenBLAS one thread of its own, unless OPENBLAS_NUM_THREADS is set", "[model]") {
  using Get = int (*)();
  using Set = void (*)(int);
  auto* get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto* set = reinterpret_cast<Set>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  std::optional<std::string> saved;
  if (const char* v = std::getenv("OPENBLAS_NUM_THREADS")) saved = v;
  unsetenv("OPENBLAS_NUM_THREADS");
  if (get == nullptr || set == nullptr) {  // a LibTorch without OpenBLAS (pip wheels: MKL)
    CHECK(model::set_threads(1) == 0);
  } else {
    set(2);
    CHECK(model::set_threads(1) == 1);
    CHECK(get() == 1);
    setenv("OPENBLAS_NUM_THREADS", "2", 1);  // the user's choice wins
    set(2);
    CHECK(model::set_threads(1) == 0);
    CHECK(get() == 2);
    set(1);
  }
  if (saved) setenv("OPENBLAS_NUM_THREADS", saved->c_str(), 1);
  else unsetenv("OPENBLAS_NUM_THREADS");
}
