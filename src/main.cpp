// partplan entry point: everything, including the top-level catch, is in cli::run; SIGINT and
// SIGTERM remove partial outputs and exit 130/143 (common/interrupt.hpp).
#include <iostream>

#include "partplan/cli/cli.hpp"
#include "partplan/common/interrupt.hpp"

int main(int argc, char** argv) {
  partplan::common::install_interrupt_cleanup();
  return partplan::cli::run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
