// Writes TinyNet (tests/tiny_models.hpp) to argv[1], or with `mnist` as argv[2] the tiny
// 1x28x28 classifier, for the ctest smoke runs of the binary.
#include <iostream>
#include <string>

#include "tiny_models.hpp"

int main(int argc, char** argv) {
  const bool mnist = argc == 3 && std::string(argv[2]) == "mnist";
  if (argc != 2 && !mnist) {
    std::cerr << "usage: make_tiny_model OUT.pt [mnist]\n";
    return 2;
  }
  if (mnist) {
    partplan::testing::save_tiny_mnist_net(argv[1]);
  } else {
    partplan::testing::save_tiny_net(argv[1]);
  }
  return 0;
}
