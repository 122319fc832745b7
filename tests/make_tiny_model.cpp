// Writes TinyNet (tests/tiny_models.hpp) to argv[1], or with `mnist` as argv[2] the tiny
// 1x28x28 classifier, or with `records` the MLP over 44-feature records, for the ctest runs
// of the binary.
#include <iostream>
#include <string>

#include "tiny_models.hpp"

int main(int argc, char** argv) {
  const std::string kind = argc == 3 ? argv[2] : "";
  const bool mnist = kind == "mnist";
  if (argc < 2 || argc > 3 || (argc == 3 && !mnist && kind != "records")) {
    std::cerr << "usage: make_tiny_model OUT.pt [mnist|records]\n";
    return 2;
  }
  if (kind == "records") {
    partplan::testing::save_record_mlp(argv[1], 44);
  } else if (mnist) {
    partplan::testing::save_tiny_mnist_net(argv[1]);
  } else {
    partplan::testing::save_tiny_net(argv[1]);
  }
  return 0;
}
