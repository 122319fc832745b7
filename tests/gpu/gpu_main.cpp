// Catch2 main of the GPU tests: without a visible GPU every test exits 77, which ctest reports
// as skipped (SKIP_RETURN_CODE), with one line saying why. Listing (test discovery at build
// time) works without a GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

namespace partplan::testing {
/// "" when a CUDA device is visible to LibTorch, else why not (tests/gpu/test_gpu.cpp).
std::string gpu_missing();
}  // namespace partplan::testing

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing = listing || std::string(argv[i]).rfind("--list", 0) == 0;
  if (!listing) {
    const std::string why = partplan::testing::gpu_missing();
    if (!why.empty()) {
      std::printf("SKIPPED: %s\n", why.c_str());
      return 77;
    }
  }
  return Catch::Session().run(argc, argv);
}
