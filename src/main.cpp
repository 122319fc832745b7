// partplan entry point: everything, including the top-level catch, is in cli::run.
#include <iostream>

#include "partplan/cli/cli.hpp"

int main(int argc, char** argv) {
  return partplan::cli::run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
