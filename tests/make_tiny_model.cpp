// Writes TinyNet (tests/tiny_models.hpp) to argv[1], for the ctest smoke runs of the binary.
#include <iostream>

#include "tiny_models.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_tiny_model OUT.pt\n";
    return 2;
  }
  partplan::testing::save_tiny_net(argv[1]);
  return 0;
}
